"""An XML element as JSON-able data, for documents that come without a schema (file drop).

Elements become keys by their local name (namespaces are dropped), an element that
repeats becomes a list, attributes become ``@name`` keys, and text beside child
elements becomes ``#text``. A leaf is its text (``""`` when empty). Every value is text:
the interface's JSON Schema says what it must look like.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

__all__ = ["to_data"]


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
