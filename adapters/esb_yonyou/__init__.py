"""Yonyou connector (``kind: yonyou``): U8+ OpenAPI or a YonBIP self-built app.

U8: a token held until it expires (renewed once however many deliveries need it), a
trade id per delivery kept for its repeats, the asynchronous result followed until it
settles. YonBIP: a signed getAccessToken, the token held for its ``expire``. Codes are
classified as done, business error (parked with Yonyou's message), token refused
(renewed and repeated once) or busy (retried). README: the sources and the tables.
"""

from esb_yonyou.config import YonyouConfig
from esb_yonyou.connector import YonyouConnector
from esb_yonyou.yonbip import signature

__all__ = ["YonyouConfig", "YonyouConnector", "signature"]
