"""Options of the ``soap`` connector."""

from __future__ import annotations

from pydantic import Field, SecretStr

from esb.sdk import Auth, ConnectorConfig, StrictModel, Timeouts

__all__ = ["SoapConfig", "UsernameToken"]


class UsernameToken(StrictModel):
    """WS-Security UsernameToken put in the SOAP header of every call."""

    username: str = Field(description="user name")
    password: SecretStr = Field(description="password; write ${ENV_VAR}, never the secret")
    digest: bool = Field(default=False, description="send PasswordDigest instead of PasswordText")


class SoapConfig(ConnectorConfig):
    wsdl: str = Field(
        min_length=1,
        description="WSDL file (relative to the configuration folder) or http(s) URL; "
        "read once, and nothing it imports is fetched from the network",
    )
    operation: str = Field(min_length=1, description="the operation called, e.g. CreatePickRequest")
    service: str | None = Field(default=None, description="WSDL service; unset: the first one")
    port: str | None = Field(default=None, description="port of that service; unset: the first one")
    address: str | None = Field(
        default=None,
        pattern=r"^https?://",
        description="endpoint called instead of the WSDL's soap:address, e.g. ${WMS_URL}/wms/soap",
    )
    wsse: UsernameToken | None = Field(
        default=None, description="WS-Security UsernameToken in the SOAP header"
    )
    auth: Auth | None = Field(
        default=None,
        description="HTTP auth: {type: basic, username, password}, {type: bearer, token} "
        "or {type: header, name, value}",
    )
    headers: dict[str, SecretStr] = Field(default_factory=dict, description="extra HTTP headers")
    timeout: Timeouts = Field(default_factory=Timeouts, description="limits of one call")
    max_connections: int = Field(default=16, ge=1, description="pooled connections to the target")
    max_response_bytes: int = Field(
        default=10 * 1024 * 1024, ge=1024, description="a longer answer is refused (parked)"
    )
    verify_tls: bool = Field(default=True, description="check the server certificate")
