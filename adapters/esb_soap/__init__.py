"""SOAP connectors: call one operation of a WSDL (``soap`` target), and serve one as an
interface's endpoint (``soap`` inbound source).

Outcome rules (target): a fault with code ``Client`` parks, ``Server`` retries; without a
fault, 2xx is delivered, 408/425/429/5xx, connect errors and timeouts retry, other
statuses park. Endpoint rules: a refused request gets a ``Client`` fault naming its
fields, a database that is away a ``Server`` fault; an accepted one the message id.
XML from outside is parsed by :mod:`esb.sdk.xml` (no DTD, no entity, no network).
"""

from .config import SoapConfig, UsernameToken
from .connector import SoapConnector
from .endpoint import SoapEndpoint
from .inbound_config import SoapEndpointConfig

__all__ = ["SoapConfig", "SoapConnector", "SoapEndpoint", "SoapEndpointConfig", "UsernameToken"]
