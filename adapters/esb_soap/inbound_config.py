"""Options of the ``soap`` inbound source: a SOAP endpoint served from a WSDL."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from esb.sdk import InboundConfig

__all__ = ["Credential", "ResponseValue", "SoapEndpointConfig"]

Credential = Literal["wsse", "bearer", "basic"]
ResponseValue = Literal["message_id", "status", "duplicate"]


class SoapEndpointConfig(InboundConfig):
    wsdl: str = Field(
        min_length=1,
        description="WSDL file, relative to the configuration folder; schemas it imports "
        "must be files beside it (nothing is fetched)",
    )
    operation: str = Field(
        min_length=1, description="the document/literal operation served, e.g. ReportShipment"
    )
    service: str | None = Field(default=None, description="WSDL service; unset: the first one")
    port: str | None = Field(default=None, description="port of that service; unset: the first one")
    auth: list[Credential] = Field(
        default=["wsse", "bearer", "basic"],
        min_length=1,
        description="how callers may prove who they are: a WS-Security UsernameToken, "
        "Authorization: Bearer KEY, or Basic with SYSTEM:KEY",
    )
    response: dict[str, ResponseValue] = Field(
        default={"MessageId": "message_id"},
        description="fields of the operation's response element and what they carry: the "
        "message id, its status (accepted or duplicate), or whether it is a repeat",
    )
    max_request_bytes: int = Field(
        default=1024 * 1024, ge=1024, description="a larger request is refused (HTTP 413)"
    )
    max_elements: int = Field(
        default=20_000,
        ge=10,
        description="elements in one request (envelope included); more: a Client fault, "
        "before the schema looks at any of them",
    )
    max_attributes: int = Field(
        default=2_000,
        ge=0,
        description="attributes in one request; more: a Client fault, before the schema "
        "looks at any of them",
    )
