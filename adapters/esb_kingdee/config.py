"""Options of the Kingdee plugins: the site and its login (shared), then the ``kingdee``
connector's (which form, how far a bill is taken) and the ``kingdee-poll`` source's (which
bills are read, from which change time on)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from esb.sdk import (
    ConnectorConfig,
    Duration,
    InboundConfig,
    ScheduleText,
    StrictModel,
    Timeouts,
    TimeZoneName,
)

_FIELD_KEY = r"^[A-Za-z_][\w.]*$"  # FBillNo, FMaterialId.FNumber, FEntity_FEntryID


class KingdeeSite(StrictModel):
    """Where the K/3 Cloud site is and who logs in: what every Kingdee plugin shares."""

    url: str = Field(
        pattern=r"^https?://",
        description="base URL of the site, e.g. ${KINGDEE_URL} (http://host/k3cloud)",
    )
    acct_id: str = Field(
        min_length=1, description="data centre id (账套ID), e.g. ${KINGDEE_ACCT_ID}"
    )
    username: str = Field(min_length=1, description="the Kingdee user the gateway acts as")
    password: SecretStr | None = Field(
        default=None, description="login by password (ValidateUser); write ${KINGDEE_PASSWORD}"
    )
    app_id: str | None = Field(
        default=None, description="login by third-party app (LoginByAppSecret): the app id"
    )
    app_secret: SecretStr | None = Field(
        default=None, description="the app's secret, with app_id; write ${KINGDEE_APP_SECRET}"
    )
    lcid: int = Field(
        default=2052, description="language of Kingdee's messages: 2052 中文, 1033 English"
    )
    envelope: Literal["json", "parameters"] = Field(
        default="json",
        description='request bodies: named fields, or the older {"parameters": [...]} envelope',
    )
    login_pause: Duration = Field(
        default=60.0,
        ge=0,
        description="after a refused login, no login is tried again for this long "
        "(repeated wrong passwords lock the user)",
    )
    verify_tls: bool = Field(default=True, description="check the site's TLS certificate")
    timeout: Timeouts = Field(default_factory=Timeouts, description="limits of each call")

    @model_validator(mode="after")
    def _one_way_in(self) -> KingdeeSite:
        by_app = self.app_id is not None or self.app_secret is not None
        if by_app and self.password is not None:
            raise ValueError("give password, or app_id and app_secret, not both")
        if by_app and (self.app_id is None or self.app_secret is None):
            raise ValueError("app_id and app_secret go together")
        if not by_app and self.password is None:
            raise ValueError("give password (ValidateUser), or app_id and app_secret")
        return self


class KingdeeConfig(KingdeeSite, ConnectorConfig):
    """Options of the ``kingdee`` connector (K/3 Cloud WebAPI)."""

    form_id: str = Field(
        min_length=1, pattern=r"^\w+$", description="business object, e.g. PRD_INSTOCK (生产入库单)"
    )
    bill_no_field: str = Field(
        default="FBillNo",
        min_length=1,
        description="Model field holding the bill number (required: a repeat is then harmless)",
    )
    auto_submit_and_audit: bool = Field(
        default=True,
        description="Save with IsAutoSubmitAndAudit (saved, submitted and audited at once)",
    )
    submit: bool = Field(
        default=False, description="with auto_submit_and_audit false: Submit after Save"
    )
    audit: bool = Field(default=False, description="with submit: Audit after Submit")
    timeout: Timeouts = Field(
        default_factory=Timeouts,
        description="total bounds a whole delivery: login, Save and any View/Submit/Audit",
    )

    @model_validator(mode="after")
    def _steps(self) -> KingdeeConfig:
        if self.auto_submit_and_audit and (self.submit or self.audit):
            raise ValueError(
                "submit/audit are separate steps: set auto_submit_and_audit false to use them"
            )
        if self.audit and not self.submit:
            raise ValueError("audit needs submit: Kingdee audits only a submitted bill")
        return self


class KingdeePollConfig(KingdeeSite, InboundConfig):
    """Options of the ``kingdee-poll`` source (``ExecuteBillQuery`` since a watermark)."""

    form_id: str = Field(
        min_length=1, pattern=r"^\w+$", description="business object, e.g. SAL_SaleOrder (销售订单)"
    )
    field_keys: list[str] = Field(
        min_length=2,
        max_length=200,
        description="FieldKeys read, in order (a row is one document); must hold the "
        "watermark and key fields",
    )
    names: dict[str, str] = Field(
        default_factory=dict,
        description="document names of some field keys (e.g. FMaterialId.FNumber: material); "
        "the others keep their key",
    )
    watermark_field: str = Field(
        default="FModifyDate",
        pattern=_FIELD_KEY,
        description="change time of a bill (修改日期): rows are read from the latest seen on",
    )
    key: list[str] = Field(
        default_factory=lambda: ["FBillNo"],
        min_length=1,
        description="fields naming a row (with its change time, its idempotency key); add the "
        "entry id (e.g. FTreeEntity_FEntryID) when field_keys read entry lines",
    )
    filter: str | None = Field(
        default=None,
        max_length=2000,
        description="more FilterString, ANDed, e.g. FDocumentStatus = 'C' (audited only)",
    )
    start: str | None = Field(
        default=None,
        description="first pull of a fresh gateway asks from this time (ISO 8601); "
        "none: every bill",
    )
    page_size: int = Field(
        default=500, ge=1, le=2000, description="rows a query asks for (Limit; Kingdee: ≤ 2000)"
    )
    max_pages: int = Field(
        default=100,
        ge=1,
        description="pages in one pull at most; the rest is read on the next tick",
    )
    interval: ScheduleText = "1m"
    time_zone: TimeZoneName | None = Field(
        default=None,
        description="zone of the site's times (they carry no offset); "
        "default: the factory's (ESB_TIME_ZONE)",
    )

    @field_validator("field_keys", "key")
    @classmethod
    def _field_keys(cls, keys: list[str]) -> list[str]:
        bad = [k for k in keys if not re.match(_FIELD_KEY, k)]
        if bad:
            raise ValueError(f"not a Kingdee field key: {', '.join(map(repr, bad))}")
        if len(set(keys)) != len(keys):
            raise ValueError("a field key is named twice")
        return keys

    @field_validator("start")
    @classmethod
    def _a_time(cls, start: str | None) -> str | None:
        if start is not None:
            try:
                datetime.fromisoformat(start)
            except ValueError as exc:
                raise ValueError(f"start {start!r} is no ISO 8601 time") from exc
        return start

    @model_validator(mode="after")
    def _read_what_is_needed(self) -> KingdeePollConfig:
        missing = [f for f in (self.watermark_field, *self.key) if f not in self.field_keys]
        if missing:
            raise ValueError(f"field_keys must hold {', '.join(missing)} (watermark and key)")
        unknown = [k for k in self.names if k not in self.field_keys]
        if unknown:
            raise ValueError(f"names renames keys not in field_keys: {', '.join(unknown)}")
        shown = [self.names.get(k, k) for k in self.field_keys]
        if len(set(shown)) != len(shown):
            raise ValueError("names makes two fields one document name")
        return self
