"""Who is calling a SOAP endpoint: a system of ``systems.yaml``, by its key.

A caller proves it is a system with that system's key, in one of three ways:
``Authorization: Bearer <key>``; ``Authorization: Basic`` with the system's name as
the user and its key as the password; or a WS-Security ``UsernameToken`` in the SOAP
header, likewise name and key, as ``PasswordText`` (send it over TLS). A
``PasswordDigest`` cannot be checked: the gateway keeps only hashes of keys.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Collection

from lxml import etree
from starlette.requests import Request

from esb.sdk import KeyCheck, Unauthenticated

from .inbound_config import Credential

__all__ = ["WSSE", "KeyCheck", "header_caller", "token_caller"]

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
PASSWORD_TEXT = "#PasswordText"


def _from_header(header: str, allowed: Collection[Credential], check: KeyCheck) -> str:
    scheme, _, value = header.partition(" ")
    scheme, value = scheme.lower(), value.strip()
    if scheme == "bearer" and "bearer" in allowed:
        system = check(value)
    elif scheme == "basic" and "basic" in allowed:
        system = _basic(value, check)
    else:
        raise Unauthenticated(f"Authorization: {scheme.title()} is not accepted here")
    if system is None:
        raise Unauthenticated("unknown key")
    return system


def _basic(value: str, check: KeyCheck) -> str | None:
    try:
        user, _, key = base64.b64decode(value, validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise Unauthenticated("Authorization: Basic is not base64 of user:key") from exc
    system = check(key)
    return system if system == user else None


def _username_token(envelope: etree._Element, soap_ns: str, check: KeyCheck) -> str | None:
    """The system of a UsernameToken in the envelope's header; None if there is no token."""
    token = envelope.find(f"{{{soap_ns}}}Header/{{{WSSE}}}Security/{{{WSSE}}}UsernameToken")
    if token is None:
        return None
    user = (token.findtext(f"{{{WSSE}}}Username") or "").strip()
    password = token.find(f"{{{WSSE}}}Password")
    if password is None:
        raise Unauthenticated("the UsernameToken has no Password")
    if not password.get("Type", PASSWORD_TEXT).endswith(PASSWORD_TEXT):
        raise Unauthenticated("send the key as PasswordText (over TLS): keys are kept as hashes")
    system = check(password.text or "")
    if system is None or system != user:
        raise Unauthenticated("unknown user or key in the UsernameToken")
    return system


def header_caller(request: Request, allowed: Collection[Credential], check: KeyCheck) -> str | None:
    """The system proven by the Authorization header; None when there is no header."""
    header = request.headers.get("authorization")
    return _from_header(header, allowed, check) if header else None


def token_caller(
    envelope: etree._Element, soap_ns: str, allowed: Collection[Credential], check: KeyCheck
) -> str:
    """The system proven by a UsernameToken, or Unauthenticated saying what to send."""
    if "wsse" in allowed and (system := _username_token(envelope, soap_ns, check)):
        return system
    ways = {
        "wsse": "a WS-Security UsernameToken",
        "bearer": "Authorization: Bearer <key>",
        "basic": "Authorization: Basic <system>:<key>",
    }
    raise Unauthenticated("send " + " or ".join(ways[way] for way in allowed))
