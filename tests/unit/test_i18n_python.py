"""The CLI's and the alerts' words come from the catalogues: every key the Python code
names (``say("cli key")``, ``_w``/``_both`` for ``alert.*``, ``text("ns.key")``) is in both
languages, every ``cli.*`` and ``alert.*`` key is used, and a command's lines read in the
language chosen."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import esb
from esb.cli import check_lines
from esb.commands import support
from esb.i18n import LANGUAGES, Language, catalogue

SOURCES = sorted(Path(esb.__file__).parent.rglob("*.py"))
#: The helpers that read one namespace of the catalogues, and that namespace.
HELPERS = {"say": "cli.", "_w": "alert.", "_both": "alert.", "text": ""}
CALL = re.compile(r"""\b(say|_w|_both|text)\(\s*(f?)(["'])([\w.]*)(\{|\3\s*\+)?""")
CHOICE = re.compile(r"""\b(say|_w)\(\s*["']([\w.]+)["']\s+if\b[^()]*?\belse\s+["']([\w.]+)["']""")
OWN = ("cli.", "alert.")


def _used() -> tuple[set[str], set[str]]:
    keys: set[str] = set()
    prefixes: set[str] = set()
    for path in SOURCES:
        code = path.read_text(encoding="utf-8")
        for helper, _, _, name, built in CALL.findall(code):
            key = HELPERS[helper] + name
            if not key.startswith(OWN) or key in OWN:  # SQL text(), or the helpers themselves
                continue
            (prefixes if built else keys).add(key)
        for helper, first, second in CHOICE.findall(code):
            keys |= {HELPERS[helper] + first, HELPERS[helper] + second}
    return keys, prefixes


def test_every_key_the_code_names_is_in_both_catalogues() -> None:
    keys, prefixes = _used()
    assert len(keys) > 50, "the patterns no longer find the code's keys"
    for lang in LANGUAGES:
        words = catalogue(lang)
        assert sorted(k for k in keys if k not in words) == [], lang
        assert sorted(p for p in prefixes if not any(k.startswith(p) for k in words)) == [], lang


def test_every_cli_and_alert_key_is_used() -> None:
    keys, prefixes = _used()
    own = [k for k in catalogue("en") if k.startswith(OWN)]
    assert [k for k in own if k not in keys and not any(k.startswith(p) for p in prefixes)] == []


RESULT = {
    "domain": "customer",
    "in_sync": False,
    "checked_at": "2026-12-05 09:00:00",
    "systems": {
        "erp": {
            "error": None,
            "listed": 3,
            "in_xref": 2,
            "only_in_xref": {"count": 1, "codes": ["C0002"]},
            "only_in_system": {"count": 2, "codes": ["C0003", "C0004"]},
        },
        "wms": {"error": "HTTP 503"},
    },
}
SYNC_LINES = {
    "en": [
        "customer: OUT OF SYNC (checked 2026-12-05 09:00:00)",
        "  erp: 3 listed, 2 in the cross-reference; 1 only in the cross-reference, 2 only in erp",
        "    only in the cross-reference: C0002",
        "    only in erp: C0003, C0004",
        "  wms: list not read: HTTP 503",
    ],
    "zh": [
        "customer：不一致（检查于 2026-12-05 09:00:00）",  # noqa: RUF001
        "  erp：清单 3 个，对照表中 2 个；仅对照表有 1 个，仅 erp 有 2 个",  # noqa: RUF001
        "    仅对照表有: C0002",
        "    仅 erp 有: C0003, C0004",
        "  wms：未能读取代码清单：HTTP 503",  # noqa: RUF001
    ],
}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_sync_check_reads_in_the_language_chosen(
    lang: Language, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(support, "_chosen", [lang])
    assert check_lines(RESULT) == SYNC_LINES[lang]


def test_a_chinese_word_takes_two_columns() -> None:
    assert support.width("接口/目标") == 9
    assert support.pad("状态", 9) == "状态     "
    assert support.pad("12", 5, right=True) == "   12"
