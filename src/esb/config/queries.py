"""``queries.yaml``: named, parameterised, read-only SQL queries granted to systems.

Each query names its database (a plain ``mysql://`` / ``postgresql://`` URL, usually
``${VAR}``), its SQL (one ``SELECT`` or ``WITH`` statement, checked with a SQL parser
when the file loads: ``esb.queries.sql``), its typed parameters (bound as values,
never pasted into the SQL), the systems that may run it, a row limit and a statement
timeout. ``enabled`` lets a query depend on a setting: ``enabled: ${MES_DB_URL:+true}``
is off while ``MES_DB_URL`` is unset (the YAML reader leaves such a block out).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from esb.config.types import Duration, StrictModel, Switch, TimeZoneName
from esb.configfile.models import Name

ParameterType = Literal["string", "integer", "number", "date", "datetime", "boolean"]
#: A parameter's name is written ``:name`` in the SQL and ``?name=`` in the URL.
PARAMETER_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
MAX_ROW_LIMIT = 100_000


class QueryParameter(StrictModel):
    """One ``?name=value`` of the request, checked and bound as a typed value."""

    type: ParameterType = Field(default="string", description="how the text of the URL is read")
    description: str = ""
    required: bool | None = Field(
        default=None, description="default: required unless a default is given"
    )
    default: str | int | float | bool | None = Field(
        default=None, description="the value when the request leaves it out"
    )
    max_length: int = Field(default=200, ge=1, le=10_000, description="for a string")

    @property
    def is_required(self) -> bool:
        return self.required if self.required is not None else self.default is None


class QueryConfig(StrictModel):
    """One named query: ``GET /v1/queries/{name}?param=...``."""

    description: str = ""
    enabled: Switch = True
    database: str = Field(
        default="",
        description="the database URL: mysql://, mariadb://, postgresql://, mssql://, "
        "oracle:// (write ${ENV_VAR}); the gateway picks the async driver",
    )
    sql: str = Field(
        min_length=1,
        description="one SELECT or WITH statement; parameters written :name",
    )
    parameters: dict[
        Annotated[str, Field(pattern=PARAMETER_PATTERN, max_length=63)], QueryParameter
    ] = Field(default_factory=dict)
    systems: list[Name] = Field(
        default_factory=list, description="the systems whose key may run it (the admin key may)"
    )
    row_limit: int = Field(
        default=1000, ge=1, le=MAX_ROW_LIMIT, description="at most this many rows are answered"
    )
    timeout: Duration = Field(default=10.0, gt=0, le=600, description="statement timeout, e.g. 10s")
    time_zone: TimeZoneName | None = Field(
        default=None,
        description="zone of the database's DATETIME values without zone; times are answered "
        "in ISO 8601 with this zone's offset; default: the factory's (ESB_TIME_ZONE)",
    )


class QueriesFile(StrictModel):
    queries: dict[Name, QueryConfig] = Field(default_factory=dict)
