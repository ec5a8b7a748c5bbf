"""Who is calling: keys by Bearer, Basic or UsernameToken, checked against the systems."""

from __future__ import annotations

import base64

import pytest
from lxml import etree
from starlette.requests import Request

from esb.errors import Unauthenticated
from esb_soap.answer import SOAP11
from esb_soap.callers import WSSE, header_caller, token_caller
from esb_soap.inbound_config import Credential

KEYS = {"wms-key": "wms", "erp-key": "erp"}
ALL: tuple[Credential, ...] = ("wsse", "bearer", "basic")


def check(key: str) -> str | None:
    return KEYS.get(key)


def request(authorization: str | None) -> Request:
    headers = [(b"authorization", authorization.encode())] if authorization else []
    return Request({"type": "http", "method": "POST", "path": "/", "headers": headers})


def token(user: str, key: str, kind: str = "PasswordText") -> etree._Element:
    password_type = f"{WSSE[: -len('secext-1.0.xsd')]}username-token-profile-1.0#{kind}"
    return etree.fromstring(
        f'<s:Envelope xmlns:s="{SOAP11}" xmlns:w="{WSSE}"><s:Header><w:Security>'
        f"<w:UsernameToken><w:Username>{user}</w:Username>"
        f'<w:Password Type="{password_type}">{key}</w:Password></w:UsernameToken>'
        "</w:Security></s:Header><s:Body/></s:Envelope>"
    )


def basic(user: str, key: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{key}".encode()).decode()


def test_each_way_names_the_system_of_the_key() -> None:
    assert header_caller(request("Bearer wms-key"), ALL, check) == "wms"
    assert header_caller(request(basic("wms", "wms-key")), ALL, check) == "wms"
    assert header_caller(request(None), ALL, check) is None
    assert token_caller(token("wms", "wms-key"), SOAP11, ALL, check) == "wms"


@pytest.mark.parametrize(
    "authorization",
    ["Bearer nope", basic("erp", "wms-key"), "Basic not-base64!", "Digest x=y", "Bearer"],
)
def test_wrong_or_unknown_http_credentials_are_refused(authorization: str) -> None:
    with pytest.raises(Unauthenticated):
        header_caller(request(authorization), ALL, check)


def test_only_the_configured_ways_are_accepted() -> None:
    with pytest.raises(Unauthenticated, match="Bearer is not accepted"):
        header_caller(request("Bearer wms-key"), ["wsse"], check)
    with pytest.raises(Unauthenticated, match="send Authorization: Bearer"):
        token_caller(token("wms", "wms-key"), SOAP11, ["bearer"], check)


def test_a_password_digest_cannot_be_checked_and_says_so() -> None:
    with pytest.raises(Unauthenticated, match="PasswordText"):
        token_caller(token("wms", "digest==", "PasswordDigest"), SOAP11, ALL, check)
    with pytest.raises(Unauthenticated, match="unknown user or key"):
        token_caller(token("erp", "wms-key"), SOAP11, ALL, check)
