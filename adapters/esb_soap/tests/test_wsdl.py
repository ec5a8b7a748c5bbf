"""Reading the WSDL: once, from the configured place only, with clear reasons when it is wrong."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from esb.connectors import Delivered, Park, RetryLater
from tests.support.soap_server import SoapServer

from .conftest import SCENARIO
from .test_soap import connector, deliver, request

WSDL = (SCENARIO / "wsdl" / "wms_pick.wsdl").read_text()
SCHEMA: str = re.compile(r"<xsd:schema.*</xsd:schema>", re.S).findall(WSDL)[0]
PICK_NS = "http://wms.demo-factory.example/pick"
XSD_NS = "http://www.w3.org/2001/XMLSchema"


def wsdl_importing(location: str) -> str:
    """The scenario WSDL with its schema moved out to ``location``."""
    importing = (
        f'<xsd:schema targetNamespace="{PICK_NS}"><xsd:import namespace="{PICK_NS}" '
        f'schemaLocation="{location}"/></xsd:schema>'
    )
    return WSDL.replace(SCHEMA, importing)


def schema_file() -> str:
    return SCHEMA.replace(
        "<xsd:schema ", f'<xsd:schema xmlns:xsd="{XSD_NS}" xmlns:tns="{PICK_NS}" ', 1
    )


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)
    return folder


async def test_a_wsdl_url_is_fetched_once_and_cached(soap_server: SoapServer) -> None:
    soap_server.documents["/wms/soap.wsdl"] = WSDL.encode()
    soap = connector(soap_server.address, wsdl=soap_server.base_url + "/wms/soap.wsdl")
    for _ in range(3):
        assert isinstance(await soap.deliver(request()), Delivered)
    await soap.aclose()
    assert soap_server.fetched == ["/wms/soap.wsdl"]


async def test_an_unreachable_wsdl_url_is_transient_and_not_cached(
    soap_server: SoapServer,
) -> None:
    soap = connector(soap_server.address, wsdl=soap_server.base_url + "/wms/soap.wsdl")
    outcome = await soap.deliver(request())
    assert isinstance(outcome, Park)
    assert "HTTP 404" in outcome.reason
    soap_server.documents["/wms/soap.wsdl"] = WSDL.encode()
    assert isinstance(await deliver(soap), Delivered)


async def test_a_wsdl_url_on_a_server_that_is_down_retries(soap_server: SoapServer) -> None:
    url = soap_server.base_url + "/wms/soap.wsdl"
    await soap_server.stop()
    outcome = await deliver(connector(soap_server.address, wsdl=url))
    assert isinstance(outcome, RetryLater)
    assert "cannot fetch the WSDL" in outcome.reason


async def test_remote_schema_imports_are_refused_and_never_fetched(
    soap_server: SoapServer, tmp_path: Path
) -> None:
    soap_server.documents["/pick.xsd"] = schema_file().encode()
    write(tmp_path / "wsdl", "wms_pick.wsdl", wsdl_importing(soap_server.base_url + "/pick.xsd"))
    outcome = await deliver(connector(soap_server.address, tmp_path))
    assert isinstance(outcome, Park)
    assert "refused to fetch" in outcome.reason
    assert soap_server.fetched == []
    assert soap_server.received == []


async def test_schemas_beside_a_wsdl_file_are_read(soap_server: SoapServer, tmp_path: Path) -> None:
    folder = write(tmp_path / "wsdl", "wms_pick.wsdl", wsdl_importing("pick.xsd"))
    write(folder, "pick.xsd", schema_file())
    outcome = await deliver(connector(soap_server.address, tmp_path))
    assert isinstance(outcome, Delivered)


async def test_schemas_outside_the_wsdl_folder_are_refused(
    soap_server: SoapServer, tmp_path: Path
) -> None:
    write(tmp_path, "pick.xsd", schema_file())
    write(tmp_path / "wsdl", "wms_pick.wsdl", wsdl_importing("../pick.xsd"))
    outcome = await deliver(connector(soap_server.address, tmp_path))
    assert isinstance(outcome, Park)
    assert "outside the WSDL's folder" in outcome.reason


async def test_a_wsdl_with_a_dtd_is_refused(soap_server: SoapServer, tmp_path: Path) -> None:
    evil = WSDL.replace("<definitions", '<!DOCTYPE definitions [<!ENTITY x "y">]>\n<definitions')
    write(tmp_path / "wsdl", "wms_pick.wsdl", evil)
    outcome = await deliver(connector(soap_server.address, tmp_path))
    assert isinstance(outcome, Park)
    assert "DTD" in outcome.reason


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"wsdl": "wsdl/missing.wsdl"}, "cannot read the WSDL file"),
        ({"operation": "CancelPick"}, "no operation CancelPick; it has ['CreatePickRequest']"),
        ({"service": "Nope"}, "WSDL has no service Nope"),
        ({"port": "Nope"}, "has no SOAP port Nope"),
    ],
)
async def test_wrong_wsdl_settings_park_with_a_reason(
    soap_server: SoapServer, options: dict[str, Any], says: str
) -> None:
    outcome = await deliver(connector(soap_server.address, **options))
    assert isinstance(outcome, Park)
    assert says in outcome.reason
    assert soap_server.received == []


async def test_without_an_address_the_wsdl_port_address_is_called(
    soap_server: SoapServer, tmp_path: Path
) -> None:
    moved = WSDL.replace("http://127.0.0.1:9003/wms/soap", soap_server.address)
    write(tmp_path / "wsdl", "wms_pick.wsdl", moved)
    soap = connector(soap_server.address, tmp_path)
    soap = type(soap)(soap.config.model_copy(update={"address": None}), soap.context)
    assert isinstance(await deliver(soap), Delivered)
    assert len(soap_server.received) == 1
