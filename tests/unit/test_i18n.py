"""The two catalogues: the same keys, the same placeholders, and the lookup's rules."""

from __future__ import annotations

import re

import pytest

from esb.i18n import LANGUAGES, catalogue, choose_language, text

PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _forms(value: str | dict[str, str]) -> list[str]:
    return list(value.values()) if isinstance(value, dict) else [value]


def test_both_catalogues_hold_the_same_keys() -> None:
    zh, en = catalogue("zh"), catalogue("en")
    assert sorted(set(zh) - set(en)) == []
    assert sorted(set(en) - set(zh)) == []


def test_every_key_has_the_same_placeholders_in_both_languages() -> None:
    zh, en = catalogue("zh"), catalogue("en")
    for key in en:
        wanted = {name for form in _forms(en[key]) for name in PLACEHOLDER.findall(form)}
        found = {name for form in _forms(zh[key]) for name in PLACEHOLDER.findall(form)}
        assert found == wanted, key


def test_no_value_is_empty_and_chinese_is_chinese() -> None:
    cjk = re.compile(r"[\u4e00-\u9fff]")
    for lang in LANGUAGES:
        for key, value in catalogue(lang).items():
            assert all(form.strip() for form in _forms(value)), (lang, key)
    # a Chinese value is written in Chinese (not the English left in place)
    untranslated = [
        k for k, v in catalogue("zh").items() if not any(cjk.search(f) for f in _forms(v))
    ]
    allowed = {k for k in catalogue("en") if k.endswith(".untranslated_ok")}
    assert sorted(set(untranslated) - allowed) == []


def test_keys_are_sorted_so_merges_stay_simple() -> None:
    for lang in LANGUAGES:
        keys = list(catalogue(lang))
        assert keys == sorted(keys), lang


def test_text_fills_placeholders_and_marks_a_missing_key() -> None:
    assert text("page.heading", "zh") == "集成网关"
    assert text("no.such.key", "en") == "⟦no.such.key⟧"


@pytest.mark.parametrize(
    ("explicit", "env", "wanted"),
    [
        ("en", {}, "en"),
        (None, {"ESB_LANG": "en"}, "en"),
        (None, {"LANG": "zh_CN.UTF-8"}, "zh"),
        (None, {"LANG": "en_US.UTF-8"}, "en"),
        (None, {"LANG": "C.UTF-8"}, "zh"),
        (None, {}, "zh"),
    ],
)
def test_the_language_is_chosen_by_flag_then_env_then_locale(
    explicit: str | None, env: dict[str, str], wanted: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("ESB_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert choose_language(explicit) == wanted


def test_an_unknown_language_flag_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        choose_language("fr")
