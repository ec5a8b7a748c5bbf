"""Kingdee K/3 Cloud (金蝶云星空): a connector saving bills and a source reading them.

``kingdee`` connector: each message is one bill saved through the WebAPI. Login once per
connector (password or app secret), the session cookie shared by every delivery; a lost
session renewed and the call repeated; ``Save`` answers classified (delivered, parked with
the field and Kingdee's message, retried); a bill number that already exists is the
earlier ``Save`` of this same message: delivered, no second bill.

``kingdee-poll`` source: bills new or changed since a watermark, read with
``ExecuteBillQuery`` on a schedule, each row one message.
"""

from esb_kingdee.config import KingdeeConfig, KingdeePollConfig
from esb_kingdee.connector import KingdeeConnector
from esb_kingdee.poll import KingdeePollSource

__all__ = ["KingdeeConfig", "KingdeeConnector", "KingdeePollConfig", "KingdeePollSource"]
