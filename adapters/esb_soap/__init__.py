"""SOAP connector: call one operation of a WSDL with the mapped body as its input.

Outcome rules: a fault with code ``Client`` parks, ``Server`` retries; without a fault,
2xx is delivered, 408/425/429/5xx, connect errors and timeouts retry, other statuses park.
XML from the target is parsed by :mod:`esb_soap.xmlsafe` (no DTD, no entity, no network).
"""

from .config import SoapConfig, UsernameToken
from .connector import SoapConnector

__all__ = ["SoapConfig", "SoapConnector", "UsernameToken"]
