"""SQL: systems reached through their own database.

- ``sql-poll`` (inbound, :class:`SqlPollSource`): rows of a staging table (中间表) or a
  SELECT, read on a schedule in key order; each row one message; each row's fate written
  back into it (accepted, delivered, failed with the reason).
"""

from esb_sql.config import SqlPollConfig, WriteBack
from esb_sql.source import SqlPollSource

__all__ = ["SqlPollConfig", "SqlPollSource", "WriteBack"]
