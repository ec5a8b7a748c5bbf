"""Kingdee K/3 Cloud (金蝶云星空) connector: each message is one bill saved through the WebAPI.

Login once per connector (password or app secret), the session cookie shared by every
delivery; a lost session renewed and the call repeated; ``Save`` answers classified
(delivered, parked with the field and Kingdee's message, retried); a bill number that
already exists is the earlier ``Save`` of this same message: delivered, no second bill.
"""

from esb_kingdee.config import KingdeeConfig
from esb_kingdee.connector import KingdeeConnector

__all__ = ["KingdeeConfig", "KingdeeConnector"]
