"""Options of the ``kingdee`` connector: where the K/3 Cloud site is, who logs in, which form."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator

from esb.sdk import ConnectorConfig, Duration, Timeouts


class KingdeeConfig(ConnectorConfig):
    """Options of the ``kingdee`` connector (K/3 Cloud WebAPI)."""

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
    envelope: Literal["json", "parameters"] = Field(
        default="json",
        description='request bodies: named fields, or the older {"parameters": [...]} envelope',
    )
    timeout: Timeouts = Field(
        default_factory=Timeouts,
        description="total bounds a whole delivery: login, Save and any View/Submit/Audit",
    )
    login_pause: Duration = Field(
        default=60.0,
        ge=0,
        description="after a refused login, deliveries park without trying again for this long "
        "(repeated wrong passwords lock the user)",
    )
    verify_tls: bool = Field(default=True, description="check the site's TLS certificate")

    @model_validator(mode="after")
    def _one_way_in(self) -> KingdeeConfig:
        by_app = self.app_id is not None or self.app_secret is not None
        if by_app and self.password is not None:
            raise ValueError("give password, or app_id and app_secret, not both")
        if by_app and (self.app_id is None or self.app_secret is None):
            raise ValueError("app_id and app_secret go together")
        if not by_app and self.password is None:
            raise ValueError("give password (ValidateUser), or app_id and app_secret")
        if self.auto_submit_and_audit and (self.submit or self.audit):
            raise ValueError(
                "submit/audit are separate steps: set auto_submit_and_audit false to use them"
            )
        if self.audit and not self.submit:
            raise ValueError("audit needs submit: Kingdee audits only a submitted bill")
        return self
