"""Every font stack of the dashboard reaches a Chinese font before its generic family.

Without one, a browser whose first fonts lack CJK glyphs picks whatever it finds (or
shows boxes on a bare Linux desk); the names cover macOS, Windows and Linux.
"""

from __future__ import annotations

import re
from pathlib import Path

import esb.dashboard

CSS = Path(esb.dashboard.__file__).with_name("dashboard.css")
CJK = {"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "Noto Sans Mono CJK SC"}
GENERIC = {"sans-serif", "serif", "monospace", "system-ui", "ui-monospace"}


def test_every_font_stack_has_a_cjk_fallback_before_its_generic_family() -> None:
    stacks = re.findall(r"font-family:\s*([^;]+);", CSS.read_text(encoding="utf-8"))
    assert stacks
    for stack in stacks:
        families = [f.strip().strip('"') for f in stack.replace("\n", " ").split(",")]
        assert families[-1] in GENERIC, stack
        assert CJK & set(families[:-1]), f"no Chinese font in: {stack}"
