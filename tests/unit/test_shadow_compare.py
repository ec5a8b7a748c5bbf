"""One comparison of a parallel run: field by field (the comparison ``esb mapping test``
uses), masked fields never counted, each differing field named once."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from esb.shadow.compare import Outcome, judge
from esb.shadow.masks import Masks, check_mask, field_name

LIVE = {
    "workOrderNo": "SO-1",
    "priority": "URGENT",
    "sentAt": "2026-12-06T08:00:00+08:00",
    "header": {"stamp": 1, "plant": "P1"},
    "items": [{"lineNo": 10, "qty": 2, "printedAt": "a"}, {"lineNo": 20, "qty": 3.0}],
}


def test_the_same_output_matches_numbers_by_value() -> None:
    shadow = {**LIVE, "items": [{**LIVE["items"][0]}, {"lineNo": 20, "qty": 3}]}
    assert judge(LIVE, shadow, Masks()).outcome == Outcome.MATCH


def test_each_differing_field_is_named_once_every_item_alike() -> None:
    shadow = {
        **LIVE,
        "priority": "RUSH",
        "items": [{**LIVE["items"][0], "qty": 5}, {"lineNo": 20, "qty": 4}],
    }
    verdict = judge(LIVE, shadow, Masks())
    assert verdict.outcome == Outcome.DIFFER
    assert verdict.fields == ("priority", "items[*].qty")
    assert verdict.differences[0] == {"path": "priority", "live": "URGENT", "shadow": "RUSH"}
    assert verdict.differences[1] == {"path": "items[0].qty", "live": 2, "shadow": 5}


def test_a_field_on_one_side_only_keeps_only_that_side() -> None:
    shadow = {k: v for k, v in LIVE.items() if k != "priority"} | {"rush": True}
    verdict = judge(LIVE, shadow, Masks())
    assert verdict.fields == ("priority", "rush")
    assert verdict.differences == ({"path": "priority", "live": "URGENT"},
                                   {"path": "rush", "shadow": True})  # fmt: skip


def test_masked_fields_never_count() -> None:
    shadow = {
        **LIVE,
        "sentAt": "2026-12-06T08:00:01+08:00",
        "header": {"stamp": 2, "plant": "P1"},
        "items": [{**LIVE["items"][0], "printedAt": "b"}, {**LIVE["items"][1], "printedAt": "c"}],
    }
    masks = Masks(["sentAt", "header.stamp", "items[*].printedAt"])
    assert judge(LIVE, shadow, masks).outcome == Outcome.MATCH
    assert judge(LIVE, shadow, Masks()).fields == ("sentAt", "header.stamp", "items[*].printedAt")


def test_a_mask_covers_the_field_and_what_is_under_it_only() -> None:
    masks = Masks(["header", "items[0].qty", '"odd.key"'])
    assert masks.covers("header")
    assert masks.covers("header.stamp")
    assert not masks.covers("headers")
    assert masks.covers("items[0].qty")
    assert not masks.covers("items[1].qty")
    assert not masks.covers("items[0].qtyTotal")
    assert masks.covers("odd.key")
    assert not Masks().covers("anything")


def test_the_whole_body_differing_is_one_field() -> None:
    verdict = judge(LIVE, ["not", "an", "object"], Masks())
    assert verdict.fields == ("(body)",)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "the path is empty"),
        ("a.", "the path ends with a dot"),
        (".a", "a field name is missing before the dot at position 1"),
        ("[*].a", "[*] must follow a field name (position 1)"),
        ("a[x]", "unexpected '[' at position 2"),
        ("a b", "unexpected ' ' at position 2"),
    ],
)
def test_a_bad_mask_is_refused_in_words(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(problem)}$"):
        check_mask(text)


@given(st.lists(st.integers(min_value=0, max_value=99), min_size=1, max_size=4))
def test_field_names_forget_the_item_numbers(indexes: list[int]) -> None:
    path = "a" + "".join(f"[{i}].b" for i in indexes)
    assert field_name(path) == "a" + "[*].b" * len(indexes)
    assert Masks(["a" + "[*].b" * len(indexes)]).covers(path)
