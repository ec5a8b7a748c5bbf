"""Options of the ``file-drop`` inbound source."""

from __future__ import annotations

import codecs
from typing import Literal

from pydantic import Field, field_validator, model_validator

from esb.sdk import Duration, InboundConfig, StrictModel

from .decoding import AUTO

__all__ = ["CsvInput", "FileDropConfig", "XmlInput"]

DEFAULT_IGNORE = (".*", "*.tmp", "*.part", "*.partial", "*.filepart", "~*")


class CsvInput(StrictModel):
    """How a ``csv`` file is read: one message per row."""

    delimiter: str = Field(default=",", min_length=1, max_length=1, description="between cells")
    quote: str = Field(default='"', min_length=1, max_length=1, description="quotes a cell")
    header: bool = Field(
        default=True, description="the first row names the columns (skipped when `columns` is set)"
    )
    columns: list[str] | None = Field(
        default=None, min_length=1, description="field names of the cells; unset: the header row"
    )

    @model_validator(mode="after")
    def _named(self) -> CsvInput:
        if not self.header and not self.columns:
            raise ValueError("without a header row, `columns` must name the cells")
        if self.columns and len(set(self.columns)) != len(self.columns):
            raise ValueError("`columns` names a field twice")
        return self


class XmlInput(StrictModel):
    """How an ``xml`` file is read: the root's content, or each ``record`` element."""

    record: str | None = Field(
        default=None,
        description="one message per child of the root with this name; unset: "
        "one message for the whole document",
    )


class FileDropConfig(InboundConfig):
    folder: str = Field(
        min_length=1,
        description="folder watched, relative to the configuration folder or absolute, "
        "e.g. ${DROP_DIR}/wms/shipments",
    )
    pattern: str = Field(default="*", min_length=1, description="names taken, e.g. *.csv")
    ignore: list[str] = Field(
        default=list(DEFAULT_IGNORE),
        description="names never taken: files still being written under a temporary name",
    )
    format: Literal["csv", "json", "jsonl", "xml"] = Field(default="csv", description="content")
    encoding: str = Field(
        default="utf-8",
        description="text encoding, e.g. utf-8, gb18030, or `auto`: a byte-order mark "
        "decides, else strict UTF-8, else GB18030",
    )
    csv: CsvInput = Field(default_factory=CsvInput, description="csv layout")
    split_array: bool = Field(
        default=False, description="json: a top-level array gives one message per item"
    )
    xml: XmlInput = Field(default_factory=XmlInput, description="xml layout")
    archive: str | None = Field(
        default=None, description="where processed files go; unset: `archive` inside the folder"
    )
    errors: str | None = Field(
        default=None,
        description="where unreadable files and their reports go; unset: `error` inside the folder",
    )
    settle: Duration = Field(
        default=1.0,
        description="a file is taken once its size and time stayed the same this "
        "long (longer than the writer's longest pause)",
    )
    watch_archived: Duration = Field(
        default=60.0,
        ge=0,
        description="how long an archived file is still looked at for writes (a writer that "
        "kept it open): appended rows are read as a continuation, other changes go to the "
        "error folder with a report; 0: not looked at",
    )
    watch: Literal["events", "polling"] = Field(
        default="events",
        description="file-system events plus a rescan every `poll_interval`, "
        "or the rescan only (network shares that send no events)",
    )
    poll_interval: Duration = Field(default=5.0, gt=0, description="time between full rescans")
    batch: int = Field(
        default=500, ge=1, le=5000, description="rows handed to the pipeline (one commit) at once"
    )
    max_row_length: int = Field(
        default=1024 * 1024,
        ge=1024,
        description="characters in one row (csv, jsonl); a longer row is refused",
    )
    max_document_bytes: int = Field(
        default=10 * 1024 * 1024, ge=1024, description="a larger json or xml file is refused"
    )
    max_reported_rows: int = Field(
        default=1000, ge=1, description="refused rows kept in a file's report; more are counted"
    )
    create_folders: bool = Field(
        default=True, description="create missing folders; if false, wait for them"
    )

    @field_validator("encoding")
    @classmethod
    def _codec(cls, value: str) -> str:
        if value.lower() == AUTO:
            return AUTO
        try:
            codecs.lookup(value)
        except LookupError as exc:
            raise ValueError(f"unknown encoding {value!r}") from exc
        return value
