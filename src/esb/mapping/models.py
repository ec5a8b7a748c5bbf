"""The mapping and code-table files as pydantic models: they check the YAML, give the JSON Schema.

A field is either a source path (``workOrderNo: OrderNo``) or a rule (a mapping
with the keywords below). Which keywords go together is checked here, so an
impossible combination is reported with its file and line before anything runs.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Discriminator, Field, Tag, model_validator

from esb.configfile import Name, StrictModel

CodeValue = str | int | float | bool
TypeName = Literal["string", "int", "number", "decimal", "bool"]
#: Union tags pydantic puts into error locations; the loader drops them.
TAGS = frozenset({"(path)", "(rule)", "(domain)", "(xref)"})


def _keys_are_text(what: str, example: str) -> BeforeValidator:
    """YAML reads ``01:`` as the number 1 and ``no:`` as false: insist on quotes there."""

    def check(values: Any) -> Any:
        if isinstance(values, dict):
            for key in values:
                if not isinstance(key, str):
                    raise ValueError(
                        f"{what} {key!r} was read as {type(key).__name__}, not text: "
                        f"put it in quotes, e.g. {example}"
                    )
        return values

    return BeforeValidator(check)


def _yaml_text(value: Any) -> Any:
    """``path: No`` is false and ``path: 12`` a number in YAML; say so instead of 'not a string'."""
    if isinstance(value, bool | int | float):
        shown = str(value).lower() if isinstance(value, bool) else repr(value)
        raise ValueError(f"YAML read this as {shown}, not text: put it in quotes")
    return value


Text = Annotated[str, BeforeValidator(_yaml_text)]
_CODES_ARE_TEXT = _keys_are_text("code", '"01": NORMAL')
_NAMES_ARE_TEXT = _keys_are_text("field name", '"no": OrderNo')


class CodeTable(StrictModel):
    """Translates one system's codes into another's."""

    description: str = Field(default="", description="what the codes mean")
    values: Annotated[dict[str, CodeValue], _CODES_ARE_TEXT] = Field(
        min_length=1, description='source code -> target value, e.g. {"PCS": "EA"}'
    )
    unknown: Literal["error", "default", "pass"] = Field(
        description="a code not in values: error (park the delivery), "
        "default (write the table's default), pass (keep the code unchanged)"
    )
    default: CodeValue | None = Field(
        default=None, description="the value written for unknown codes when unknown: default"
    )

    @model_validator(mode="after")
    def _default_goes_with_unknown(self) -> CodeTable:
        if self.unknown == "default" and self.default is None:
            raise ValueError("unknown: default needs a default: value")
        if self.unknown != "default" and self.default is not None:
            raise ValueError("default: is used only with unknown: default")
        return self


class CodeTableFile(CodeTable):
    """A shared code table, ``code-tables/<name>.yaml``; mappings use it by its file name."""


class XrefRule(StrictModel):
    """A cross-reference lookup with explicit systems."""

    domain: Name = Field(description="master-data domain, e.g. customer or material")
    from_system: Name | None = Field(
        default=None, alias="from", description="system of the code read; default: source"
    )
    to_system: Name | None = Field(
        default=None, alias="to", description="system whose code is written; default: target"
    )


class DateRule(StrictModel):
    """A calendar date rewritten from one pattern to another."""

    source: str = Field(alias="from", description="pattern of the value read, e.g. yyyyMMdd or iso")
    to: str = Field(description="pattern written, e.g. yyyy-MM-dd or iso")
    invalid: Literal["error", "pass"] = Field(
        default="error", description="a value that does not match: error, or pass it unchanged"
    )


class DateTimeRule(DateRule):
    """A date and time, read in one pattern and time zone, written in another."""

    zone: str | None = Field(
        default=None, description="time zone of values read without an offset, e.g. Asia/Shanghai"
    )
    to_zone: str | None = Field(
        default=None, description="convert to this time zone before writing, e.g. UTC"
    )


def _spec_kind(value: Any) -> str | None:
    if isinstance(value, str | bool | int | float):
        return "(path)"
    return "(rule)" if isinstance(value, dict | FieldRule) else None


def _xref_kind(value: Any) -> str | None:
    if isinstance(value, str):
        return "(domain)"
    return "(xref)" if isinstance(value, dict | XrefRule) else None


XrefSpec = Annotated[
    Annotated[Name, Tag("(domain)")] | Annotated[XrefRule, Tag("(xref)")],
    Discriminator(
        _xref_kind,
        custom_error_type="xref",
        custom_error_message="xref is a domain name or {domain, from, to}",
    ),
]

_CONVERSIONS = ("type", "date", "datetime", "code_table", "xref")


class FieldRule(StrictModel):
    """How one target field gets its value: from a path, a constant, an expression, or built."""

    description: str = Field(default="", description="a note for people; ignored by the engine")
    path: Text | None = Field(
        default=None,
        description="source path, e.g. CustCode, Lines[0].Qty; $.X reads from the root",
    )
    const: Any = Field(default=None, description="a fixed value, written as is")
    expr: Text | None = Field(default=None, description="an expression computing the value")
    condition: Text | None = Field(
        default=None, alias="if", description="an expression; when false the field is left out"
    )
    each: Text | None = Field(
        default=None, description="path of a source list: one output item per source item"
    )
    fields: Annotated[dict[str, FieldSpec], _NAMES_ARE_TEXT] | None = Field(
        default=None, description="builds an object (one item of each:, or a nested object)"
    )
    type: TypeName | None = Field(default=None, description="convert to this JSON type")
    date: DateRule | None = Field(default=None, description="rewrite a calendar date")
    datetime: DateTimeRule | None = Field(default=None, description="rewrite a date and time")
    code_table: Name | None = Field(default=None, description="translate through this code table")
    xref: XrefSpec | None = Field(default=None, description="look the code up in master data")
    default: Any = Field(default=None, description="written as is when the source value is missing")
    required: bool = Field(default=False, description="a missing source value is an error")

    def has(self, keyword: str) -> bool:
        """Whether the file gave ``keyword`` (const: null and default: null count)."""
        return keyword in self.model_fields_set

    @model_validator(mode="after")
    def _keywords_fit(self) -> FieldRule:
        problem = _combination_problem(self)
        if problem:
            raise ValueError(problem)
        return self


def _combination_problem(rule: FieldRule) -> str | None:
    given = [k for k in ("path", "const", "expr", "each") if rule.has(k)]
    converts = [k for k in _CONVERSIONS if rule.has(k)]
    if len(given) > 1:
        return f"use one of path, const, expr, each (found {', '.join(given)})"
    if not given and rule.fields is None:
        return "say where the value comes from: path, const, expr, each or fields"
    if rule.date is not None and rule.datetime is not None:
        return "use date or datetime, not both"
    if rule.required and rule.has("default"):
        return "required and default contradict each other"
    if rule.has("each") and rule.fields is None:
        return "each needs fields: (the fields of one output item)"
    if rule.fields is not None and (converts or rule.has("const") or rule.has("expr")):
        return "fields builds an object: const, expr, " + ", ".join(_CONVERSIONS) + " do not apply"
    if rule.has("const") and (converts or rule.required or rule.has("default")):
        return "const is written as is: no conversion, default or required"
    if rule.fields is not None and not given and (rule.required or rule.has("default")):
        return "required and default need a path: the object is read from"
    return None


FieldSpec = Annotated[
    Annotated[Text, Tag("(path)")] | Annotated[FieldRule, Tag("(rule)")],
    Discriminator(
        _spec_kind,
        custom_error_type="field",
        custom_error_message="a field is a source path (text) or a rule (path:, const:, expr: ...)",
    ),
]
FieldRule.model_rebuild()


class MappingFile(StrictModel):
    """A mapping, ``mappings/<name>.yaml``: turns a source body into a target body."""

    description: str = Field(default="", description="what this mapping is for")
    source: Name = Field(description="system whose codes the input carries (xref goes from it)")
    target: Name = Field(description="system that receives the output (xref goes to it)")
    fields: Annotated[dict[str, FieldSpec], _NAMES_ARE_TEXT] = Field(
        min_length=1, description="target field -> rule; the order here is the order written"
    )
    code_tables: dict[Name, CodeTable] = Field(
        default_factory=dict, description="code tables used only by this mapping"
    )


def as_rule(spec: str | FieldRule) -> FieldRule:
    """The path shorthand ``workOrderNo: OrderNo`` as the rule it stands for."""
    return FieldRule(path=spec) if isinstance(spec, str) else spec
