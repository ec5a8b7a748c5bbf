"""SQL: systems reached through their own database.

- ``sql-poll`` (inbound, :class:`SqlPollSource`): rows of a staging table (中间表) or a
  SELECT, read on a schedule in key order; each row one message; each row's fate written
  back into it (accepted, delivered, failed with the reason).
- ``sql`` (connector, :class:`SqlConnector`): the mapped document becomes one row of a
  target's staging table, in one transaction per delivery, never twice for one message
  (a unique column holds its idempotency key); refused values park naming the column.
"""

from esb_sql.config import SqlPollConfig, WriteBack
from esb_sql.connector import SqlConfig, SqlConnector
from esb_sql.source import SqlPollSource

__all__ = ["SqlConfig", "SqlConnector", "SqlPollConfig", "SqlPollSource", "WriteBack"]
