"""Serving a WSDL operation: schema verdicts as field paths, schemas that import each other,
nothing fetched, configurations refused at load time, faults in both SOAP versions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from esb.errors import FieldProblem
from esb.sdk import xml as xmlsafe
from esb_soap import SoapEndpointConfig
from esb_soap.answer import SOAP11, SOAP12, find_fault
from esb_soap.replies import FAULT_NS, fault, summary
from esb_soap.service import NotTheOperation, serve_operation
from esb_soap.wsdl import WsdlInvalid
from esb_soap.xsd import field_problems, verdict, wsdl_schema
from tests.support.soap_server import SoapServer

DATA = Path(__file__).resolve().parent / "data"
SCENARIO = Path(__file__).resolve().parents[3] / "tests" / "data" / "scenario"
PICK = "http://wms.demo-factory.example/pick"


def config(**options: Any) -> SoapEndpointConfig:
    values = {
        "kind": "soap",
        "wsdl": "x.wsdl",
        "operation": "ReportShipment",
        "response": {"MessageId": "message_id", "Duplicate": "duplicate"},
        **options,
    }
    return SoapEndpointConfig.model_validate(values)


def pick(lines: str) -> etree._Element:
    return etree.fromstring(
        f'<p:CreatePickRequest xmlns:p="{PICK}"><p:OrderNo>SO-1</p:OrderNo>'
        "<p:CustomerCode>C</p:CustomerCode><p:Priority>1</p:Priority>"
        f"<p:RequiredDate>2026-11-26</p:RequiredDate><p:Lines>{lines}</p:Lines>"
        "</p:CreatePickRequest>"
    )


def line(qty: str) -> str:
    return f"<p:Line><p:Sku>S</p:Sku><p:Qty>{qty}</p:Qty><p:Uom>EA</p:Uom></p:Line>"


def test_schema_problems_name_the_field_with_zero_based_positions() -> None:
    wsdl = etree.parse(str(SCENARIO / "wsdl" / "wms_pick.wsdl")).getroot()
    schema = wsdl_schema(wsdl, SCENARIO / "wsdl")
    assert field_problems(schema, pick(line("1") + line("2"))) == []
    [problem] = field_problems(schema, pick(line("1") + line("two")))
    assert problem.field == "Lines.Line[1].Qty"
    assert "'two' is not a valid value" in problem.message
    [missing] = field_problems(schema, pick(""))
    assert missing == FieldProblem("Lines.Line", "missing: <Line> expected")


def _two_schema_wsdl(import_location: str = "") -> bytes:
    location = f' schemaLocation="{import_location}"' if import_location else ""
    return (
        (DATA / "wms_shipment.wsdl")
        .read_bytes()
        .replace(
            b"<types>",
            b'<types><xsd:schema targetNamespace="urn:codes" elementFormDefault="qualified">'
            b'<xsd:simpleType name="Code"><xsd:restriction base="xsd:string">'
            b'<xsd:maxLength value="3"/></xsd:restriction></xsd:simpleType></xsd:schema>',
        )
        .replace(
            b'elementFormDefault="qualified">\n      <xsd:simpleType name="ShipmentStatus">',
            b'elementFormDefault="qualified" xmlns:c="urn:codes">'
            b'<xsd:import namespace="urn:codes"' + location.encode() + b"/>"
            b'\n      <xsd:simpleType name="ShipmentStatus">',
        )
        .replace(b'name="carrier" type="xsd:string"', b'name="carrier" type="c:Code"')
    )


def test_inline_schemas_import_each_other_by_namespace(tmp_path: Path) -> None:
    (tmp_path / "x.wsdl").write_bytes(_two_schema_wsdl())
    served = serve_operation(tmp_path / "x.wsdl", config())
    row = "".join(
        f"<s:{k}>{v}</s:{k}>"
        for k, v in [
            ("order_no", "1"),
            ("ship_date", "d"),
            ("carrier", "顺丰速运快递"),
            ("tracking_no", "t"),
            ("status", "S"),
        ]
    )
    payload = etree.fromstring(
        f'<s:ReportShipment xmlns:s="http://wms.demo-factory.example/shipment">{row}'
        "</s:ReportShipment>"
    )
    [problem] = served.problems(payload)
    assert problem.field == "carrier"
    assert "maxLength" in problem.message


def test_a_schema_file_beside_the_wsdl_is_read(tmp_path: Path) -> None:
    inline, _, rest = _two_schema_wsdl("codes.xsd").partition(b"</xsd:schema>")
    codes = inline[inline.index(b"<xsd:schema") :] + b"</xsd:schema>"
    (tmp_path / "codes.xsd").write_bytes(
        codes.replace(b"<xsd:schema", b'<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema"')
    )
    (tmp_path / "x.wsdl").write_bytes(inline[: inline.index(b"<xsd:schema")] + rest)
    served = serve_operation(tmp_path / "x.wsdl", config())
    assert served.request == "{http://wms.demo-factory.example/shipment}ReportShipment"


async def test_a_schema_outside_the_wsdl_folder_is_never_fetched(tmp_path: Path) -> None:
    server = await SoapServer().start()
    try:
        server.documents["/codes.xsd"] = (
            b'<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema"/>'
        )
        for location in (f"{server.base_url}/codes.xsd", "/etc/passwd", "../outside.xsd"):
            (tmp_path / "x.wsdl").write_bytes(_two_schema_wsdl(location))
            with pytest.raises(WsdlInvalid):
                serve_operation(tmp_path / "x.wsdl", config())
        assert server.fetched == []
    finally:
        await server.stop()


@pytest.mark.parametrize(
    ("options", "why"),
    [
        ({"operation": "Nope"}, "no operation Nope"),
        ({"service": "Nope"}, "no service Nope"),
        ({"response": {"NoSuchField": "message_id"}}, "does not fit"),
        ({"response": {"MessageId": "message_id"}}, "Missing element Duplicate"),
    ],
)
def test_configurations_that_cannot_be_served_are_refused_at_load(
    tmp_path: Path, options: dict[str, Any], why: str
) -> None:
    (tmp_path / "x.wsdl").write_bytes((DATA / "wms_shipment.wsdl").read_bytes())
    with pytest.raises(WsdlInvalid, match=why):
        serve_operation(tmp_path / "x.wsdl", config(**options))


def test_a_response_the_schema_does_not_allow_is_refused_at_load(tmp_path: Path) -> None:
    short_ids = (
        (DATA / "wms_shipment.wsdl")
        .read_bytes()
        .replace(
            b'<xsd:element name="MessageId" type="xsd:string"/>',
            b'<xsd:element name="MessageId"><xsd:simpleType><xsd:restriction base="xsd:string">'
            b'<xsd:maxLength value="10"/></xsd:restriction></xsd:simpleType></xsd:element>',
        )
    )
    (tmp_path / "x.wsdl").write_bytes(short_ids)
    with pytest.raises(WsdlInvalid, match="does not allow: MessageId"):
        serve_operation(tmp_path / "x.wsdl", config())


def test_the_request_must_be_the_operations_element(tmp_path: Path) -> None:
    (tmp_path / "x.wsdl").write_bytes((DATA / "wms_shipment.wsdl").read_bytes())
    served = serve_operation(tmp_path / "x.wsdl", config())
    other = '<x:Other xmlns:x="urn:x"/>'
    envelope = xmlsafe.parse(
        f'<e:Envelope xmlns:e="{SOAP11}"><e:Body>{other}</e:Body></e:Envelope>'.encode()
    )
    with pytest.raises(NotTheOperation, match="ReportShipment"):
        served.payload(envelope)


@pytest.mark.parametrize(
    ("version", "http", "code"), [(SOAP11, 500, "Client"), (SOAP12, 400, "Sender")]
)
def test_faults_in_both_versions_carry_every_field(version: str, http: int, code: str) -> None:
    problems = [FieldProblem("status", "not S or P"), FieldProblem("Lines[0].Qty", "not a number")]
    response = fault(version, "Client", "status: not S or P", problems)
    assert response.status_code == http
    root = etree.fromstring(response.body)
    found = find_fault(root)
    assert found is not None
    assert (found.code, found.reason) == (code, "status: not S or P")
    listed = [(p.get("field"), p.text) for p in root.iter(f"{{{FAULT_NS}}}problem")]
    assert listed == [("status", "not S or P"), ("Lines[0].Qty", "not a number")]


def test_a_fault_stays_small_whatever_the_problems() -> None:
    field, message = "x" * 5000, "m" * 100_000  # a validator quoting what it was sent
    problems = [FieldProblem(field, message)] * 90_000
    response = fault(SOAP11, "Client", summary(problems), problems)
    assert len(response.body) < 16_000
    root = etree.fromstring(response.body)
    found = find_fault(root)
    assert found is not None
    assert found.reason.endswith("(and 89997 more)")
    assert len(found.reason) < 1000
    listed = root.find(f".//{{{FAULT_NS}}}problems")
    assert listed is not None
    assert (listed.get("total"), len(listed)) == ("90000", 20)
    assert all(len(p.get("field", "")) < 400 and len(p.text or "") < 400 for p in listed)


def test_a_schema_verdict_describes_the_first_problems_and_counts_them_all() -> None:
    wsdl = etree.parse(str(SCENARIO / "wsdl" / "wms_pick.wsdl")).getroot()
    schema = wsdl_schema(wsdl, SCENARIO / "wsdl")
    lines = "".join(line(f"q{n}") for n in range(200))
    problems, total = verdict(schema, pick(lines), limit=3)
    assert total == 200
    assert [p.field for p in problems] == ["Lines.Line[0].Qty", "Lines.Line[1].Qty",
                                           "Lines.Line[2].Qty"]  # fmt: skip
