"""Fault codes decide retry or park, whatever prefix or SOAP version the target uses."""

from __future__ import annotations

import pytest

from esb.sdk import xml as xmlsafe
from esb_soap.answer import SOAP11, SOAP12, Fault, find_fault


def soap11_fault(code: str, declare: str = "") -> bytes:
    return (
        f'<e:Envelope xmlns:e="{SOAP11}"{declare}><e:Body><e:Fault>'
        f"<faultcode>{code}</faultcode><faultstring> why </faultstring>"
        "</e:Fault></e:Body></e:Envelope>"
    ).encode()


@pytest.mark.parametrize(
    ("code", "transient"),
    [
        ("e:Client", False),
        ("soapenv:Client", False),
        ("Client", False),
        ("e:Client.Authentication", False),
        ("e:Server", True),
        ("SOAP-ENV:Server.Busy", True),
        ("e:VersionMismatch", False),
        ("e:MustUnderstand", False),
    ],
)
def test_soap11_fault_codes(code: str, transient: bool) -> None:
    fault = find_fault(xmlsafe.parse(soap11_fault(code)))
    assert fault is not None
    assert fault.code == code.rpartition(":")[2]
    assert fault.transient is transient
    assert str(fault) == f"SOAP fault {fault.code}: why"


@pytest.mark.parametrize(("value", "transient"), [("env:Sender", False), ("env:Receiver", True)])
def test_soap12_fault_codes(value: str, transient: bool) -> None:
    xml = (
        f'<env:Envelope xmlns:env="{SOAP12}"><env:Body><env:Fault>'
        f"<env:Code><env:Value>{value}</env:Value></env:Code>"
        '<env:Reason><env:Text xml:lang="en">busy</env:Text></env:Reason>'
        "</env:Fault></env:Body></env:Envelope>"
    )
    assert find_fault(xmlsafe.parse(xml.encode())) == Fault(value[4:], "busy")
    assert Fault(value[4:], "busy").transient is transient


def test_an_envelope_without_a_fault_has_none() -> None:
    xml = f'<e:Envelope xmlns:e="{SOAP11}"><e:Body><r/></e:Body></e:Envelope>'
    assert find_fault(xmlsafe.parse(xml.encode())) is None
