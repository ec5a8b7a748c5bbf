"""Options of the ``yonyou`` connector: one model for both flavours (U8 OpenAPI, YonBIP).

The error codes are options because Yonyou's lists differ between platform versions and
the defaults are partly assumed (README, "Where the stand-in assumes").
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator

from esb.sdk import ConnectorConfig, Duration, StrictModel, Timeouts


class Polling(StrictModel):
    """How the asynchronous result of a U8 write is followed: a growing wait, bounded."""

    first: Duration = Field(default=0.2, gt=0, description="wait before the first look")
    factor: float = Field(default=2.0, ge=1, le=10, description="each wait is the last times this")
    longest: Duration = Field(default=5.0, gt=0, description="no wait is longer than this")


class YonyouConfig(ConnectorConfig):
    """Options of the ``yonyou`` connector."""

    api: Literal["u8", "yonbip"] = Field(
        description="u8: U8+ OpenAPI (token, trade id, asynchronous result); "
        "yonbip: YonBIP / YonSuite self-built app (signed getAccessToken)"
    )
    base_url: str = Field(
        pattern=r"^https?://",
        description="u8: the OpenAPI host, e.g. https://api.yonyouup.com; "
        "yonbip: the tenant's gateway, e.g. ${YONBIP_GATEWAY}/iuap-api-gateway",
    )
    path: str = Field(
        pattern=r"^/",
        description="the write called, e.g. /api/saleorder/add (u8) or "
        "/yonbip/sd/voucherorder/singleSave (yonbip)",
    )
    app_key: str = Field(min_length=1, description="the app's key (u8 app_key, yonbip appKey)")
    app_secret: SecretStr = Field(description="the app's secret; write ${ENV_VAR}")
    from_account: str | None = Field(default=None, description="u8: the caller's account id")
    to_account: str | None = Field(default=None, description="u8: the enterprise account id")
    ds_sequence: int | None = Field(
        default=None, ge=1, description="u8: data source number when the account has several"
    )
    biz_id: bool = Field(
        default=True,
        description="u8: also send biz_id = the delivery's idempotency key, so a repeat "
        "after a restart is still recognised by the API",
    )
    token_url: str | None = Field(
        default=None,
        pattern=r"^https?://",
        description="yonbip: the auth service, e.g. https://host/iuap-api-auth "
        "(/open-auth/selfAppAuth/getAccessToken is appended); unset: base_url's host "
        "+ /iuap-api-auth",
    )
    token_lifetime: Duration = Field(
        default=7200.0, gt=0, description="u8: a token's life when the answer does not say"
    )
    token_margin: Duration = Field(
        default=60.0, ge=0, description="a token is renewed this long before it expires"
    )
    success_codes: list[str] = Field(
        default_factory=list,
        description="codes meaning done (default u8 errcode 0; yonbip code 200 00000)",
    )
    token_codes: list[str] = Field(
        default_factory=list,
        description="codes meaning the token expired or is invalid: renewed, call repeated "
        "once (default u8 20002 20003 20004; yonbip 401 1090003500065)",
    )
    busy_codes: list[str] = Field(
        default_factory=list,
        description="codes meaning busy or rate limited: retried later "
        "(default u8 10001 10002 30001; yonbip 429)",
    )
    processing_codes: list[str] = Field(
        default_factory=list,
        description="u8: result codes meaning still processing (default 30002 30003)",
    )
    polling: Polling = Field(
        default_factory=Polling, description="u8: how the asynchronous result is followed"
    )
    timeout: Timeouts = Field(
        default_factory=Timeouts,
        description="limits; total bounds the whole delivery (token, trade id, write, result)",
    )
    verify_tls: bool = Field(default=True, description="check the server certificate")

    @model_validator(mode="after")
    def _flavour(self) -> YonyouConfig:
        if self.api == "u8":
            missing = [n for n in ("from_account", "to_account") if not getattr(self, n)]
            if missing:
                raise ValueError(f"api u8 needs {' and '.join(missing)}")
        elif self.from_account or self.to_account or self.ds_sequence:
            raise ValueError("from_account, to_account and ds_sequence are for api u8 only")
        return self

    def codes(self) -> Codes:
        """The code lists in force: the options, or the flavour's defaults."""
        flavour = DEFAULTS[self.api]
        return Codes(
            success=frozenset(self.success_codes or flavour.success),
            token=frozenset(self.token_codes or flavour.token),
            busy=frozenset(self.busy_codes or flavour.busy),
            processing=frozenset(self.processing_codes or flavour.processing),
        )


class Codes(StrictModel):
    success: frozenset[str]
    token: frozenset[str]
    busy: frozenset[str]
    processing: frozenset[str]


class _Defaults(StrictModel):
    success: list[str]
    token: list[str]
    busy: list[str]
    processing: list[str]


DEFAULTS = {
    "u8": _Defaults(
        success=["0"],
        token=["20002", "20003", "20004"],
        busy=["10001", "10002", "30001"],
        processing=["30002", "30003"],
    ),
    "yonbip": _Defaults(
        success=["200", "00000"], token=["401", "1090003500065"], busy=["429"], processing=[]
    ),
}
