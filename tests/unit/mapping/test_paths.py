"""Source paths: parsed once, read without the interpreter, and agreeing with JMESPath."""

from __future__ import annotations

import re
from typing import Any

import jmespath
import pytest
from hypothesis import given
from hypothesis import strategies as st

from esb.mapping.paths import PathError, getter, parse_path


@pytest.mark.parametrize(
    ("text", "steps", "from_root"),
    [
        ("OrderNo", ("OrderNo",), False),
        ("Lines[0].Qty", ("Lines", 0, "Qty"), False),
        ("Lines[-1]", ("Lines", -1), False),
        ("$.OrderNo", ("OrderNo",), True),
        ("$", (), True),
        ("$[0]", (0,), True),
        ("@", (), False),
        ("@attr", ("@attr",), False),
        ('"Order No".x', ("Order No", "x"), False),
        ('"a.b"', ("a.b",), False),
        ("m[0][1]", ("m", 0, 1), False),
    ],
)
def test_paths_parse(text: str, steps: tuple[Any, ...], from_root: bool) -> None:
    path = parse_path(text)
    assert (path.steps, path.from_root) == (steps, from_root)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the path is empty"),
        ("a..b", "a key is missing before the dot at position 3"),
        ("a.", "the path ends with a dot"),
        (".a", "a key is missing before the dot at position 1"),
        ("a[x]", "unexpected '[' at position 2"),
        ("a.[0]", "an index cannot follow a dot (position 3)"),
        ("a[0]b", "a dot is missing before 'b'"),
        ('"open', "unexpected '\"' at position 1"),
    ],
)
def test_bad_paths_say_why(text: str, message: str) -> None:
    with pytest.raises(PathError, match=re.escape(message)):
        parse_path(text)


def test_reading_never_raises_on_wrong_shapes() -> None:
    get = getter(parse_path("a[1].b"))
    for data in ({"a": "text"}, {"a": {"1": 2}}, {"a": [1]}, {"a": [0, 5]}, [], "a", None, 3):
        assert get(data, data) is None
    assert get({"a": [0, {"b": False}]}, None) is False


keys = st.sampled_from(["a", "b", "Lines"])
steps = st.lists(keys | st.integers(-3, 3), min_size=1, max_size=4).filter(
    lambda s: isinstance(s[0], str)
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=3),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=3),
    max_leaves=12,
)


@given(steps=steps, data=json_values)
def test_a_path_reads_what_jmespath_reads(steps: list[Any], data: Any) -> None:
    text = ""
    for step in steps:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else step)
    assert getter(parse_path(text))(data, data) == jmespath.search(text, data)
