"""``masterdata.yaml`` (optional): where each system's own list of a domain's codes is,
for the master-data sync check (``esb xref check``), and when the check runs by itself.

    checks:
      customer:
        schedule: "0 2 * * *"            # optional: also every night at 02:00
        systems:
          erp: {url: "${ERP_URL}/api/customers", items: items, code: code}
          mes: {url: "${MES_URL}/api/customers/ids", items: null, code: null}
"""

from __future__ import annotations

from pydantic import Field, SecretStr

from esb.config.types import Auth, StrictModel, Timeouts
from esb.configfile.models import Name
from esb.sdk import ScheduleText

_PATH = r"^[^.\s]+(\.[^.\s]+)*$"


class CodeList(StrictModel):
    """One system's list of codes: a JSON API read page by page."""

    url: str = Field(pattern=r"^https?://", description="the list, e.g. ${ERP_URL}/api/customers")
    items: str | None = Field(
        default="items",
        pattern=_PATH,
        description="path to the list in an answer; none: the answer",
    )
    code: str | None = Field(
        default="code",
        pattern=_PATH,
        description="path to the code in an item; none: items are codes",
    )
    page_param: str | None = Field(
        default="page", description="query parameter naming the page; none: one answer holds all"
    )
    next_page: str = Field(
        default="next_page", pattern=_PATH, description="path to the next page; null: the last"
    )
    max_pages: int = Field(default=10_000, ge=1, description="pages read at most (a loop guard)")
    headers: dict[str, SecretStr] = Field(default_factory=dict, description="extra headers")
    auth: Auth | None = Field(default=None, description="basic, bearer or header; ${ENV_VAR}")
    timeout: Timeouts = Field(default_factory=Timeouts, description="limits of each request")


class DomainCheck(StrictModel):
    """One domain's check: the systems whose lists are compared with the cross-reference."""

    schedule: ScheduleText | None = Field(
        default=None,
        description="also run on this schedule (e.g. '0 2 * * *'), in one gateway process",
    )
    systems: dict[Name, CodeList] = Field(min_length=1, description="system -> its code list")


class MasterDataFile(StrictModel):
    checks: dict[Name, DomainCheck] = Field(
        default_factory=dict, description="domain -> its sync check"
    )
