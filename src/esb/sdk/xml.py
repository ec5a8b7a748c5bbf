"""Safe XML for plugins: parse XML from outside without ever expanding an entity or
fetching a file, and read an element as JSON-able data.

A first lxml pass whose only listener is ``doctype`` stops at ``<!DOCTYPE`` before the
internal subset is used, so XXE and billion-laughs payloads are refused in milliseconds
with no expansion, in any encoding libxml2 reads (GB18030 included); the tree is then
built with entity resolution, DTD loading and network access off.

A parsed document's shape can be bounded too (``check_shape``): how many elements and
attributes it has, and how deep it nests, counted by libxml2's XPath in C before
anything else (a schema validator, zeep) spends time on each of them.

    XmlRefused          the bytes cannot be used as XML from outside
    ├── UnsafeXml       a DTD, hence entity declarations (XXE, billion laughs)
    ├── XmlTooLarge     more than ``max_bytes``
    ├── XmlTooComplex   more elements or attributes than allowed
    ├── XmlTooDeep      nested deeper than allowed; ``path`` names the first such element
    └── MalformedXml    not well-formed

``XmlRefused`` is a :class:`esb.sdk.PluginError` (and a ValueError).

``to_data`` turns an element into JSON-able data for documents that come without a
schema (the file drop): elements become keys by their local name (namespaces are
dropped), an element that repeats becomes a list, attributes become ``@name`` keys,
and text beside child elements becomes ``#text``. A leaf is its text (``""`` when
empty). Every value is text: the interface's JSON Schema says what it must look like.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree

from esb.sdk._errors import PluginError

__all__ = [
    "MAX_BYTES",
    "MalformedXml",
    "Shape",
    "UnsafeXml",
    "XmlRefused",
    "XmlTooComplex",
    "XmlTooDeep",
    "XmlTooLarge",
    "check_shape",
    "parse",
    "to_data",
]

MAX_BYTES = 10 * 1024 * 1024


class XmlRefused(PluginError, ValueError):
    """XML from outside that the gateway will not read."""


class UnsafeXml(XmlRefused):
    """The document declares a DTD or entities; nothing of it was expanded."""


class XmlTooLarge(XmlRefused):
    """The document is larger than the caller allows."""


class MalformedXml(XmlRefused):
    """The document is not well-formed XML."""


class XmlTooComplex(XmlRefused):
    """The document has more elements or attributes than the caller allows."""


class XmlTooDeep(XmlRefused):
    """The document nests deeper than the caller allows; ``path`` leads to the first
    element too deep (local names, from the root)."""

    def __init__(self, message: str, path: list[str]) -> None:
        super().__init__(message)
        self.path = path


@dataclass(frozen=True)
class Shape:
    """Bounds of a document: elements and attributes in all, levels of elements."""

    elements: int
    attributes: int
    depth: int


class _DoctypeScreen:
    """A parser target that hears nothing but the DOCTYPE, and refuses it."""

    def __init__(self) -> None:
        self.refused: UnsafeXml | None = None

    def doctype(self, name: str | None, pubid: str | None, system: str | None) -> None:
        self.refused = UnsafeXml(f"a DTD (<!DOCTYPE {name}>) is not allowed")
        raise self.refused

    def close(self) -> None:
        return None


def _screen(data: bytes) -> None:
    """A fast pass that stops at the first DTD, before any entity is declared."""
    screen = _DoctypeScreen()
    parser = etree.XMLParser(
        target=screen, resolve_entities=False, load_dtd=False, no_network=True, huge_tree=False
    )
    try:
        etree.fromstring(data, parser)
    except (etree.XMLSyntaxError, UnsafeXml) as exc:
        if screen.refused is not None:
            raise screen.refused from None
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


def check_shape(root: etree._Element, shape: Shape) -> None:
    """XmlTooComplex or XmlTooDeep if the document of ``root`` goes beyond ``shape``."""
    document = root.getroottree()
    for what, query, limit in (
        ("elements", "count(//*)", shape.elements),
        ("attributes", "count(//@*)", shape.attributes),
    ):
        found = int(document.xpath(query))
        if found > limit:
            raise XmlTooComplex(f"{found} {what}, more than the {limit} allowed")
    too_deep = root.xpath("*/" * (shape.depth - 1) + "*")  # children are level 2
    if too_deep:
        path = [etree.QName(e).localname for e in (too_deep[0], *too_deep[0].iterancestors())]
        raise XmlTooDeep(f"nested deeper than {shape.depth} levels", path[::-1])


def _leaf_text(element: etree._Element) -> str:
    text = element.text or ""
    return text if text.strip() else ""


def to_data(element: etree._Element) -> Any:
    """The content of ``element``: its text, or a dict of its attributes and children."""
    children = [child for child in element if isinstance(child.tag, str)]
    if not children and not element.attrib:
        return _leaf_text(element)
    data: dict[str, Any] = {f"@{etree.QName(k).localname}": v for k, v in element.attrib.items()}
    for child in children:
        name, value = etree.QName(child).localname, to_data(child)
        if name not in data:
            data[name] = value
        elif isinstance(data[name], list):
            data[name].append(value)
        else:
            data[name] = [data[name], value]
    if text := _leaf_text(element):
        data["#text"] = text
    return data
