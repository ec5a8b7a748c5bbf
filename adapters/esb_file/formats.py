"""Render a mapped body as the bytes of one file: json, csv or xml."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import orjson
from lxml import etree

from esb.sdk import PluginError

from .config import FileConfig

__all__ = ["FormatProblem", "render"]

Scalar = str | int | float | Decimal | bool | None


class FormatProblem(PluginError, ValueError):
    """The mapped body cannot be written in the configured format."""


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return orjson.Fragment(str(value))  # exact decimal, not a float
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _json(body: Any, config: FileConfig) -> str:
    option = orjson.OPT_INDENT_2 if config.pretty else 0
    try:
        return orjson.dumps(body, default=_json_default, option=option).decode() + "\n"
    except TypeError as exc:
        raise FormatProblem(str(exc)) from exc


def _cell(column: str, value: Any) -> str:
    if isinstance(value, dict | list):
        raise FormatProblem(f"csv cell {column} holds a {type(value).__name__}, not a value")
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _rows(body: Any) -> list[dict[str, Any]]:
    rows = body if isinstance(body, list) else [body]
    if not rows or not all(isinstance(row, dict) for row in rows):
        raise FormatProblem("a csv file needs an object, or a list of objects, as the body")
    return rows


def _csv(body: Any, config: FileConfig) -> str:
    rows = _rows(body)
    columns = config.csv.columns or list(dict.fromkeys(k for row in rows for k in row))
    out = io.StringIO(newline="")
    terminator = "\r\n" if config.csv.line_end == "crlf" else "\n"
    writer = csv.writer(out, delimiter=config.csv.delimiter, lineterminator=terminator)
    if config.csv.header:
        writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(c, row.get(c)) for c in columns])
    return out.getvalue()


def _child(parent: etree._Element, tag: str, namespace: str | None) -> etree._Element:
    try:
        return etree.SubElement(parent, etree.QName(namespace, tag).text)
    except ValueError as exc:
        raise FormatProblem(f"{tag!r} cannot be an XML element name") from exc


def _fill(parent: etree._Element, value: Any, namespace: str | None, item: str) -> None:
    """Objects become child elements, lists repeat their element, values become text."""
    if isinstance(value, dict):
        for key, child in value.items():
            for entry in child if isinstance(child, list) else [child]:
                _fill(_child(parent, str(key), namespace), entry, namespace, item)
    elif isinstance(value, list):
        for entry in value:
            _fill(_child(parent, item, namespace), entry, namespace, item)
    elif value is not None:
        try:
            parent.text = _cell(etree.QName(parent).localname, value)
        except ValueError as exc:
            raise FormatProblem(f"{value!r} cannot be XML text: {exc}") from exc


def _xml(body: Any, config: FileConfig) -> bytes:
    options = config.xml
    nsmap = {None: options.namespace} if options.namespace else None
    root = etree.Element(etree.QName(options.namespace, options.root).text, nsmap=nsmap)
    _fill(root, body, options.namespace, options.item)
    return bytes(
        etree.tostring(
            root, xml_declaration=True, encoding=config.encoding, pretty_print=config.pretty
        )
    )


def render(body: Any, config: FileConfig) -> bytes:
    """The file's bytes, in ``config.format`` and ``config.encoding``."""
    if config.format == "xml":
        return _xml(body, config)
    text = _json(body, config) if config.format == "json" else _csv(body, config)
    try:
        return text.encode(config.encoding)
    except UnicodeEncodeError as exc:
        raise FormatProblem(
            f"{text[exc.start : exc.end]!r} cannot be written in {exc.encoding}"
        ) from exc
