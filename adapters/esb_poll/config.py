"""The options of the ``rest-poll`` source."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr, model_validator

from esb.sdk import Auth, InboundConfig, ScheduleText, StrictModel, Timeouts, TimeZoneName

_PATH = r"^[^.\s]+(\.[^.\s]+)*$"
#: A dotted path into a JSON object, e.g. ``items`` or ``data.list``.
DottedPath = Annotated[str, Field(pattern=_PATH, max_length=200)]


class Watermark(StrictModel):
    """What the next pull asks from: the largest value of an item field (a time, compared
    as instants whatever offset each is written in), or a cursor the API answers."""

    field: DottedPath | None = Field(
        default="updated_at",
        description="item field whose largest value is the watermark (ISO 8601 times, "
        "compared as instants); none: use `cursor`",
    )
    cursor: DottedPath | None = Field(
        default=None,
        description="path in an answer to a cursor for the next pull (the last page's "
        "non-null one); set it instead of `field`",
    )
    param: str = Field(
        default="updated_since",
        min_length=1,
        description="query parameter carrying the watermark (not sent on the first pull)",
    )

    @model_validator(mode="after")
    def _one_kind(self) -> Watermark:
        if (self.field is None) == (self.cursor is None):
            raise ValueError("set exactly one of watermark.field and watermark.cursor")
        return self


class Paging(StrictModel):
    """How the API pages: the page asked for in a query parameter, the next one named in
    each answer (a number, a token, or a whole URL); null or missing means no more."""

    param: str | None = Field(
        default="page",
        description="query parameter naming the page; none: the API does not page",
    )
    first: str | int | None = Field(
        default=1, description="page asked for first; none: no page parameter on page one"
    )
    next: DottedPath = Field(
        default="next_page",
        description="path in an answer to the next page (number, token or URL); "
        "null, missing or empty: the last page",
    )
    max_pages: int = Field(
        default=1000, ge=1, description="pages in one pull at most (a loop guard)"
    )


class RestPollConfig(InboundConfig):
    """Options of the ``rest-poll`` source."""

    url: str = Field(
        pattern=r"^https?://", description="list endpoint, e.g. ${ERP_URL}/api/customers"
    )
    interval: ScheduleText = "5m"
    items: DottedPath | None = Field(
        default="items",
        description="path in an answer to its list of items; none: the answer is the list",
    )
    key: DottedPath = Field(
        default="id",
        description="item field naming the item (with the watermark field, its idempotency "
        "key: an unchanged item pulled again is the same message)",
    )
    watermark: Watermark = Field(
        default_factory=Watermark,
        description="what the next pull asks from; moved only after a whole pull went through",
    )
    paging: Paging = Field(
        default_factory=Paging, description="how the API pages; every page is read in one pull"
    )
    params: dict[str, str] = Field(
        default_factory=dict,
        description="more query parameters on every request (they show in request log "
        "lines: put keys in `headers` or `auth`)",
    )
    headers: dict[str, SecretStr] = Field(default_factory=dict, description="extra headers")
    auth: Auth | None = Field(
        default=None,
        description="`{type: basic, username, password}`, `{type: bearer, token}` or "
        "`{type: header, name, value}`; write secrets as ${ENV_VAR}",
    )
    timeout: Timeouts = Field(default_factory=Timeouts, description="limits of each request")
    max_body: int = Field(
        default=10_000_000, ge=1, description="bytes of one answer at most (a larger one fails)"
    )
    time_zone: TimeZoneName | None = Field(
        default=None,
        description="zone of watermark times written without an offset; "
        "default: the factory's (ESB_TIME_ZONE)",
    )
    verify_tls: bool = Field(default=True, description="check the server's certificate")
