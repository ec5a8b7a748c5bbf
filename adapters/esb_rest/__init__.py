"""REST connector: deliver the mapped body as JSON over HTTP(S) with httpx.

Outcome rules: 2xx delivered; 408, 425, 429, 5xx, connect errors and timeouts are
transient (retried, honouring ``Retry-After``); any other status parks at once.
"""

from esb_rest.connector import RestConfig, RestConnector

__all__ = ["RestConfig", "RestConnector"]
