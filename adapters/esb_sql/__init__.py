"""SQL adapters: write into (and read from) another system's database tables.

Connector (``kind: sql``): the mapped document becomes one row of a staging table,
in one transaction per delivery, never twice for one message (a unique column holds
its idempotency key); refused values park naming the column.
"""

# The `sql` connector (outbound): one row per delivery.
from esb_sql.connector import SqlConfig, SqlConnector

__all__ = ["SqlConfig", "SqlConnector"]
