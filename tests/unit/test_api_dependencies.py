"""Handlers get narrow objects (``esb.api.deps``), never the gateway, and never RabbitMQ.

Only ``esb.api.app`` (which assembles the process in its lifespan) knows the gateway.
"""

from __future__ import annotations

import ast
from pathlib import Path

import esb.api

API = Path(esb.api.__file__).parent
FORBIDDEN_IMPORTS = ("esb.runtime", "esb.broker", "esb.link", "esb.relay", "esb.worker")


def handler_modules() -> list[Path]:
    return sorted(p for p in API.glob("*.py") if p.name != "app.py")


def test_no_handler_reads_the_gateway() -> None:
    for path in handler_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        reads = [
            node.lineno
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and node.attr in ("gateway", "engine")
        ]
        assert not reads, f"{path.name} reaches into the gateway at lines {reads}"


def test_no_handler_imports_the_process_or_the_broker() -> None:
    for path in handler_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = [
            node.module
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module is not None
        ] + [
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        ]
        wrong = [m for m in imported if m.startswith(FORBIDDEN_IMPORTS)]
        assert not wrong, f"{path.name} imports {wrong}"
