"""File names from templates: nothing from a payload can leave the folder."""

from __future__ import annotations

from pathlib import PurePosixPath, PureWindowsPath
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from esb.connectors import DeliveryRequest
from esb_file.naming import NameProblem, Template, check_name


def request(body: Any, business_key: str | None = "SO-1") -> DeliveryRequest:
    return DeliveryRequest(uuid4(), uuid4(), "shipment", "finance", "shipment", business_key, 1,
                           body)  # fmt: skip


def test_fields_of_the_body_and_of_the_request_fill_the_template() -> None:
    req = request({"OrderNo": "SO-20261124-0001", "Head": {"Plant": "SH01"}, "Seq": 7})
    template = Template.parse("{target}-{Head.Plant}-INV-{OrderNo}-{Seq}-{message_id}.json")
    name = template.render(req)
    assert name == f"finance-SH01-INV-SO-20261124-0001-7-{req.message_id}.json"


def test_chinese_text_is_a_fine_name() -> None:
    assert (
        Template.parse("{Carrier}.json").render(request({"Carrier": "顺丰速运"})) == "顺丰速运.json"
    )


@pytest.mark.parametrize(
    "value",
    [
        "../../etc/passwd",
        "..",
        "a/../../b",
        "/etc/passwd",
        "..\\..\\windows\\system32",
        "C:evil",
        "a\x00b",
        "line\nbreak",
        "what?",
        "x*",
    ],
)
def test_traversal_and_special_characters_in_values_are_refused(value: str) -> None:
    with pytest.raises(NameProblem, match="OrderNo"):
        Template.parse("INV-{OrderNo}.json").render(request({"OrderNo": value}))


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("NUL", "reserved device name"),
        ("con", "reserved device name"),
        ("COM1", "reserved device name"),
        ("lpt9 ", "ends with a dot or space"),
        ("lpt9 .txt", "reserved device name"),
        (".bashrc", "starts with a dot"),
        ("trailing.", "ends with a dot"),
        ("x" * 300, "longer than 255 bytes"),
    ],
)
def test_names_windows_or_unix_treat_specially_are_refused(value: str, says: str) -> None:
    with pytest.raises(NameProblem, match=says):
        Template.parse("{OrderNo}").render(request({"OrderNo": value}))


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({}, "OrderNo is not in the mapped body"),
        ({"OrderNo": None}, "OrderNo is not set"),
        ({"OrderNo": {"a": 1}}, "OrderNo is a dict"),
        ({"OrderNo": True}, "OrderNo is a bool"),
        ({"OrderNo": ""}, "OrderNo is empty"),
        ("not an object", "OrderNo is not in the mapped body"),
    ],
)
def test_missing_or_unusable_fields_are_refused(body: Any, says: str) -> None:
    with pytest.raises(NameProblem, match=says):
        Template.parse("INV-{OrderNo}.json").render(request(body))


def test_an_unset_business_key_is_refused() -> None:
    with pytest.raises(NameProblem, match="business_key is not set"):
        Template.parse("{business_key}.json").render(request({}, business_key=None))


@pytest.mark.parametrize(
    "template",
    ["../INV-{OrderNo}.json", "/abs/{OrderNo}", "sub/{OrderNo}", "{Order No}", "{a[0]}",
     "{OrderNo", "{}", ".{OrderNo}", "{OrderNo}.", "CON.{x}"],
)  # fmt: skip
def test_unsafe_templates_are_refused_when_the_configuration_is_read(template: str) -> None:
    with pytest.raises(NameProblem):
        Template.parse(template)


@given(st.text(min_size=1, max_size=80))
def test_any_accepted_value_yields_one_plain_name_in_the_folder(value: str) -> None:
    try:
        name = Template.parse("INV-{OrderNo}.json").render(request({"OrderNo": value}))
    except NameProblem:
        return
    for flavour in (PurePosixPath, PureWindowsPath):
        path = flavour("drop") / name
        assert path.parent == flavour("drop")
        assert path.name == name
    check_name(name)
