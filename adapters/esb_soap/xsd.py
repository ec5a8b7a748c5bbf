"""The XML Schema of a WSDL's types, for lxml to validate requests with, and its verdicts
as field problems (``Lines.Line[1].Qty: ...``) like the ones the JSON Schemas give.

Schemas inline in the WSDL import each other by namespace; schema files are read only
from the WSDL's own folder. Anything else a schema asks for is refused, never fetched.
"""

from __future__ import annotations

import re
from itertools import islice
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from lxml import etree

from esb.sdk import MAX_LISTED, FieldProblem

from .wsdl import WsdlInvalid

__all__ = ["field_problems", "verdict", "wsdl_schema"]

WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
XSD_NS = "http://www.w3.org/2001/XMLSchema"
INLINE = "esb-inline:"
REFUSED = b"<refused/>"  # not a schema: XMLSchema fails, naming the location
NAMESPACE = re.compile(r"\{[A-Za-z][A-Za-z0-9+.-]*:[^{}\s]*\}")  # {uri}, not {'S', 'P'}
EXPECTED = re.compile(r"Expected is (?:one of )?\( \{?[^}]*\}?([A-Za-z_][\w.-]*)")
POSITION = re.compile(r"\[(\d+)\]$")


class _LocalOnly(etree.Resolver):  # type: ignore[misc]  # lxml's stubs are not installed
    """Serves the WSDL's inline schemas and files in ``folder``; refuses everything else."""

    def __init__(self, inline: dict[str, bytes], folder: Path) -> None:
        super().__init__()
        self.inline = inline
        self.folder = folder.resolve()

    def resolve(self, url: str | None, pubid: str | None, context: Any) -> Any:
        if url in self.inline:
            return self.resolve_string(self.inline[url], context, base_url=url)
        parsed = urlparse(url or "")
        if url and parsed.scheme in ("", "file"):
            path = (self.folder / unquote(parsed.path)).resolve()  # an absolute path stays
            if path.is_relative_to(self.folder) and path.is_file():
                return self.resolve_filename(str(path), context)
        return self.resolve_string(REFUSED, context)


def _inline_schemas(wsdl: etree._Element) -> dict[str, etree._Element]:
    """The WSDL's schemas by location, their namespace-only imports pointed at each other."""
    found = wsdl.findall(f"{{{WSDL_NS}}}types/{{{XSD_NS}}}schema")
    if not found:
        raise WsdlInvalid("the WSDL has no <types> schema to validate requests with")
    locations = {s.get("targetNamespace", ""): f"{INLINE}{n}" for n, s in enumerate(found)}
    schemas = {}
    for n, schema in enumerate(found):
        copy = etree.fromstring(etree.tostring(schema))  # keeps the WSDL's prefixes in scope
        for link in copy.findall(f"{{{XSD_NS}}}import"):
            if link.get("schemaLocation") is None and link.get("namespace") in locations:
                link.set("schemaLocation", locations[link.get("namespace", "")])
        schemas[f"{INLINE}{n}"] = copy
    return schemas


def wsdl_schema(wsdl: etree._Element, folder: Path) -> etree.XMLSchema:
    """One XMLSchema holding every schema of the WSDL's ``<types>``."""
    schemas = _inline_schemas(wsdl)
    root = etree.Element(f"{{{XSD_NS}}}schema", nsmap={"xs": XSD_NS})
    for location, schema in schemas.items():
        namespace = schema.get("targetNamespace")
        link = etree.SubElement(root, f"{{{XSD_NS}}}{'import' if namespace else 'include'}")
        link.set("schemaLocation", location)
        if namespace:
            link.set("namespace", namespace)
    parser = etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True)
    inline = {location: etree.tostring(schema) for location, schema in schemas.items()}
    parser.resolvers.add(_LocalOnly(inline, folder))
    document = etree.fromstring(etree.tostring(root), parser, base_url=folder.as_uri() + "/")
    try:
        return etree.XMLSchema(document)
    except etree.XMLSchemaParseError as exc:
        raise WsdlInvalid(f"the WSDL's schema cannot be used: {exc}") from exc


def _field(path: str | None) -> str:
    """``/ns0:Order/ns0:Lines/ns0:Line[2]/ns0:Qty`` -> ``Lines.Line[1].Qty`` (0-based)."""
    parts = []
    for step in (path or "").strip("/").split("/")[1:]:
        name = step.rpartition(":")[2]
        if match := POSITION.search(name):
            name = f"{name[: match.start()]}[{int(match.group(1)) - 1}]"
        parts.append(name)
    return ".".join(parts)


def _problem(error: Any) -> FieldProblem:
    """One lxml error as a field problem; a missing element is named, not its neighbour."""
    message = NAMESPACE.sub("", str(error.message)).removesuffix(".")
    message = re.sub(r"^Element '([^']*)': ", "", message)
    field = _field(error.path)
    expected = EXPECTED.search(str(error.message))
    if expected and "Missing child" in message:
        name = expected.group(1)
        return FieldProblem(f"{field}.{name}" if field else name, f"missing: <{name}> expected")
    if expected and "not expected" in message:
        parent, _, found = field.rpartition(".")
        name = expected.group(1)
        where = f"{parent}.{name}" if parent else name
        return FieldProblem(where, f"missing: <{name}> expected where <{found}> is")
    return FieldProblem(field, message)


def verdict(
    schema: etree.XMLSchema, element: etree._Element, *, limit: int = MAX_LISTED
) -> tuple[list[FieldProblem], int]:
    """The first ``limit`` reasons why ``element`` does not fit ``schema``, and how many
    there are in all (0: it fits). Only the listed ones are described: a request can
    break a rule ninety thousand times."""
    if schema.validate(element):
        return [], 0
    errors = schema.error_log
    return [_problem(error) for error in islice(errors, limit)], len(errors)


def field_problems(
    schema: etree.XMLSchema, element: etree._Element, *, limit: int = MAX_LISTED
) -> list[FieldProblem]:
    """Why ``element`` does not fit ``schema``, one problem per error (the first ``limit``)."""
    return verdict(schema, element, limit=limit)[0]
