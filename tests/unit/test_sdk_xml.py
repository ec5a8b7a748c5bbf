"""The SDK's safe XML parser (esb.sdk.xml) refuses DTDs and entities at once, in any
encoding, and fetches nothing."""

from __future__ import annotations

import resource
import time
from collections.abc import AsyncIterator

import pytest

from esb.sdk import xml as xmlsafe
from tests.support.soap_server import SoapServer, billion_laughs_dtd

NS = "http://wms.demo-factory.example/pick"


@pytest.fixture
async def soap_server() -> AsyncIterator[SoapServer]:
    """A real server that records every fetch (none must happen)."""
    server = await SoapServer().start()
    yield server
    await server.stop()


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_plain_xml_with_namespaces_parses() -> None:
    root = xmlsafe.parse(f'<?xml version="1.0"?><p:A xmlns:p="{NS}"><p:B>x</p:B></p:A>'.encode())
    assert root.tag == f"{{{NS}}}A"
    assert root.findtext(f"{{{NS}}}B") == "x"


def test_billion_laughs_is_refused_quickly_without_expansion() -> None:
    bomb = f"<!DOCTYPE r [{billion_laughs_dtd()}]><r>&lol9;</r>".encode()
    before, started = peak_rss_mib(), time.monotonic()
    with pytest.raises(xmlsafe.UnsafeXml, match="DTD"):
        xmlsafe.parse(bomb)
    assert time.monotonic() - started < 2  # expanding it would take minutes (milliseconds idle)
    assert peak_rss_mib() - before < 20  # a billion "lol"s would be gigabytes


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-16-be", "utf-32", "gb18030"])
def test_xxe_reading_a_local_file_is_refused_in_any_encoding(encoding: str) -> None:
    xxe = (
        f'<?xml version="1.0" encoding="{encoding}"?>'
        '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'
    )
    with pytest.raises(xmlsafe.UnsafeXml) as refused:
        xmlsafe.parse(xxe.encode(encoding))
    assert "root:" not in str(refused.value)


async def test_external_dtd_and_parameter_entities_are_never_fetched(
    soap_server: SoapServer,
) -> None:
    base = soap_server.base_url
    payloads = [
        f'<!DOCTYPE r SYSTEM "{base}/evil.dtd"><r/>',
        f'<!DOCTYPE r [<!ENTITY % p SYSTEM "{base}/p.dtd"> %p;]><r/>',
        f'<!DOCTYPE r PUBLIC "-//X//Y" "{base}/public.dtd"><r/>',
    ]
    for payload in payloads:
        with pytest.raises(xmlsafe.UnsafeXml):
            xmlsafe.parse(payload.encode())
    assert soap_server.fetched == []


def test_an_undeclared_entity_is_malformed_not_resolved() -> None:
    with pytest.raises(xmlsafe.MalformedXml, match="not defined"):
        xmlsafe.parse(b"<r>&nbsp;</r>")


def test_malformed_and_oversized_documents_are_refused() -> None:
    with pytest.raises(xmlsafe.MalformedXml):
        xmlsafe.parse(b"<a><b></a>")
    with pytest.raises(xmlsafe.MalformedXml):
        xmlsafe.parse(b"not xml at all")
    with pytest.raises(xmlsafe.XmlTooLarge, match="more than the 100 allowed"):
        xmlsafe.parse(b"<a>" + b"x" * 200 + b"</a>", max_bytes=100)


def test_every_refusal_is_a_value_error_under_one_base() -> None:
    for cls in (xmlsafe.UnsafeXml, xmlsafe.MalformedXml, xmlsafe.XmlTooLarge):
        assert issubclass(cls, xmlsafe.XmlRefused)
        assert issubclass(cls, ValueError)


def test_chinese_text_in_gb18030_parses() -> None:
    xml = '<?xml version="1.0" encoding="GB18030"?><r><carrier>顺丰速运</carrier></r>'
    assert xmlsafe.parse(xml.encode("gb18030")).findtext("carrier") == "顺丰速运"


def test_a_documents_shape_is_bounded_in_elements_attributes_and_depth() -> None:
    root = xmlsafe.parse(b'<a x="1" y="2"><b><c><d/></c></b><b/></a>')
    xmlsafe.check_shape(root, xmlsafe.Shape(elements=5, attributes=2, depth=4))
    with pytest.raises(xmlsafe.XmlTooComplex, match="5 elements, more than the 4 allowed"):
        xmlsafe.check_shape(root, xmlsafe.Shape(elements=4, attributes=2, depth=4))
    with pytest.raises(xmlsafe.XmlTooComplex, match="2 attributes, more than the 1 allowed"):
        xmlsafe.check_shape(root, xmlsafe.Shape(elements=5, attributes=1, depth=4))
    with pytest.raises(xmlsafe.XmlTooDeep, match="deeper than 3 levels") as deep:
        xmlsafe.check_shape(root, xmlsafe.Shape(elements=5, attributes=2, depth=3))
    assert deep.value.path == ["a", "b", "c", "d"]


def test_counting_90000_attributes_takes_milliseconds() -> None:
    attributes = "".join(f' a{n}="1"' for n in range(90_000))
    root = xmlsafe.parse(f"<r><e{attributes}/></r>".encode(), max_bytes=2 << 20)
    started = time.monotonic()
    with pytest.raises(xmlsafe.XmlTooComplex, match="90000 attributes"):
        xmlsafe.check_shape(root, xmlsafe.Shape(elements=10, attributes=2000, depth=64))
    assert time.monotonic() - started < 0.5  # C, not a Python loop (3 ms when idle)
