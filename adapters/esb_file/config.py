"""Options of the ``file`` connector."""

from __future__ import annotations

import codecs
from typing import Literal

from lxml import etree
from pydantic import Field, field_validator

from esb.sdk import ConnectorConfig, Duration, StrictModel

from .naming import Template

__all__ = ["Collision", "CsvOptions", "FileConfig", "XmlOptions"]

Collision = Literal["overwrite", "skip-identical", "suffix", "error"]


class CsvOptions(StrictModel):
    """How a ``csv`` file is laid out: a header row, then one row per object."""

    delimiter: str = Field(default=",", min_length=1, max_length=1, description="between cells")
    line_end: Literal["crlf", "lf"] = Field(default="crlf", description="row terminator")
    header: bool = Field(default=True, description="write the column names first")
    columns: list[str] | None = Field(
        default=None, min_length=1, description="columns and their order; unset: the body's keys"
    )


class XmlOptions(StrictModel):
    """How an ``xml`` file is laid out: the body's fields as elements under one root."""

    root: str = Field(default="message", description="name of the root element")
    namespace: str | None = Field(default=None, description="namespace of every element")
    item: str = Field(default="item", description="element for each entry of a list body")

    @field_validator("root", "item")
    @classmethod
    def _xml_name(cls, value: str) -> str:
        try:
            etree.QName(value)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not an XML element name") from exc
        return value


class FileConfig(ConnectorConfig):
    folder: str = Field(
        min_length=1,
        description="folder written to, relative to the configuration folder or absolute, "
        "e.g. ${DROP_DIR}/finance/invoice-requests",
    )
    filename: str = Field(
        min_length=1,
        description="file name template: {Field} or {Dotted.path} of the mapped body, or "
        "{message_id}, {business_key}, {target}, {interface}, {message_type}",
    )
    format: Literal["json", "csv", "xml"] = Field(default="json", description="file content")
    encoding: str = Field(default="utf-8", description="text encoding, e.g. utf-8, gb18030")
    pretty: bool = Field(default=True, description="indented json and xml")
    csv: CsvOptions = Field(default_factory=CsvOptions, description="csv layout")
    xml: XmlOptions = Field(default_factory=XmlOptions, description="xml layout")
    on_collision: Collision = Field(
        default="error", description="when the file already exists with other content"
    )
    create_folder: bool = Field(
        default=True, description="create a missing folder; if false, wait for it (retry)"
    )
    timeout: Duration = Field(default=30.0, description="time for the whole write")
    max_parallel_writes: int = Field(
        default=4, ge=1, description="writes in flight at once (a hung share holds them)"
    )

    @field_validator("filename")
    @classmethod
    def _template(cls, value: str) -> str:
        Template.parse(value)
        return value

    @field_validator("encoding")
    @classmethod
    def _codec(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError as exc:
            raise ValueError(f"unknown encoding {value!r}") from exc
        return value
