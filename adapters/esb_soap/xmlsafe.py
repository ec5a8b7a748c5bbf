"""Parse XML that comes from outside without ever expanding an entity or fetching a file.

A document with a DTD is refused before its internal subset is read (expat stops at
``<!DOCTYPE``), so XXE and billion-laughs payloads cost microseconds and no memory;
the tree is then built by lxml with entity resolution, DTD loading and network off.

    XmlRefused          the bytes cannot be used as XML from outside
    ├── UnsafeXml       a DTD or an entity declaration (XXE, billion laughs)
    ├── XmlTooLarge     more than ``max_bytes``
    └── MalformedXml    not well-formed
"""

from __future__ import annotations

from typing import NoReturn
from xml.parsers import expat

from lxml import etree

__all__ = ["MAX_BYTES", "MalformedXml", "UnsafeXml", "XmlRefused", "XmlTooLarge", "parse"]

MAX_BYTES = 10 * 1024 * 1024


class XmlRefused(ValueError):
    """XML from outside that the gateway will not read."""


class UnsafeXml(XmlRefused):
    """The document declares a DTD or entities; nothing of it was expanded."""


class XmlTooLarge(XmlRefused):
    """The document is larger than the caller allows."""


class MalformedXml(XmlRefused):
    """The document is not well-formed XML."""


def _refuse_doctype(name: str, *_: object) -> NoReturn:
    raise UnsafeXml(f"a DTD (<!DOCTYPE {name}>) is not allowed")


def _refuse_entity(name: str, *_: object) -> NoReturn:
    raise UnsafeXml(f"an entity declaration ({name}) is not allowed")


def _screen(data: bytes) -> None:
    """One expat pass that stops at the first DTD or entity declaration."""
    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = _refuse_doctype
    parser.EntityDeclHandler = _refuse_entity
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise MalformedXml(f"not well-formed XML: {exc}") from exc


def _hardened_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        dtd_validation=False,
        no_network=True,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse(data: bytes, *, max_bytes: int = MAX_BYTES) -> etree._Element:
    """The root element of ``data``, or :class:`XmlRefused` saying why not."""
    if len(data) > max_bytes:
        raise XmlTooLarge(f"{len(data)} bytes of XML, more than the {max_bytes} allowed")
    _screen(data)
    try:
        root = etree.fromstring(data, _hardened_parser())
    except etree.XMLSyntaxError as exc:
        raise MalformedXml(f"not well-formed XML: {exc}") from exc
    if root.getroottree().docinfo.doctype:
        raise UnsafeXml("a DTD is not allowed")
    return root
