"""Fuzzing the HTTP API from its own OpenAPI document (schemathesis), in both modes.

A real ``esb serve`` process runs the demo configuration; every operation it documents
gets generated requests, valid and invalid. No answer may be a 5xx, and every answer
must be one the document declares, with its declared media type and schema.
Bounded: a fixed number of examples per operation, derandomized, so CI stays quick and
a failure reproduces.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode, checks

from tests.support.gateway import ADMIN_KEY
from tests.support.process import GatewayProcess
from tests.support.serving import free_port

EXAMPLES = 30  # per operation and generation mode
ERP_KEY = "demo-erp-key"  # the demo configuration's ERP key
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


@pytest.fixture
def served(mode_settings: dict[str, Any], tmp_path: Path) -> Iterator[str]:
    env = {
        "ESB_ADMIN_KEY": ADMIN_KEY,
        "ESB_DATA_DIR": str(tmp_path / "var"),
        "ESB_LOG_LEVEL": "WARNING",
        "ESB_CONFIG_WATCH": "false",
    }
    if "database_url" in mode_settings:
        env |= {
            "ESB_DATABASE_URL": mode_settings["database_url"],
            "ESB_BROKER_URL": mode_settings["broker_url"],
            "ESB_BROKER_PREFIX": mode_settings["broker_prefix"],
        }
    process = GatewayProcess(env, free_port(), tmp_path / "gateway.log")
    process.start()
    try:
        asyncio.run(process.wait_ready(60))
        yield process.url
    finally:
        process.stop()


def _headers(case: schemathesis.Case) -> dict[str, str]:
    """The sending system's key for ingress, the admin key for everything else."""
    ingress = case.operation.path == "/v1/messages/{message_type}" and case.method == "POST"
    return {"Authorization": f"Bearer {ERP_KEY if ingress else ADMIN_KEY}"}


def _fuzz(url: str, operation: schemathesis.APIOperation, mode: GenerationMode) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        response = case.call(base_url=url, headers=_headers(case), timeout=30)
        case.validate_response(response, checks=CHECKS)

    run()


def test_no_operation_answers_a_5xx_or_outside_its_documented_answers(served: str) -> None:
    schema = schemathesis.openapi.from_url(f"{served}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20
    failures = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _fuzz(served, operation, mode)
            except Unsatisfiable:  # nothing of this operation can be made invalid
                continue
            except (Exception, BaseExceptionGroup) as exc:  # report every operation at the end
                name = f"{operation.method.upper()} {operation.path} ({mode.value})"
                failures.append(f"{name}: {str(exc)[:2000]}")
    assert not failures, "\n\n".join(failures)
