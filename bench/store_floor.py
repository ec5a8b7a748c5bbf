"""The embedded store's floor: the rows the gateway writes for each accepted message (the
message, and a delivery and an outbox row per target), written by ``sqlite3``'s own
``executemany`` into the real, migrated schema, WAL and ``synchronous=FULL`` as the gateway
runs, one commit per page: no checks, no routing, no framework. The intake benchmarks
compare the gateway with it as well as with their plain copy."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

from esb.ids import uuid7s

MESSAGE = (
    "INSERT INTO messages (id, interface, message_type, source_system, business_key, "
    "idempotency_key, content_type, body, received_at) VALUES (?,?,?,?,?,?,?,?,?)"
)
DELIVERY = (
    "INSERT INTO deliveries (id, message_id, interface, target, status, attempts, "
    "round_attempts, next_attempt_at, created_at, updated_at) VALUES (?,?,?,?,?,0,0,?,?,?)"
)
OUTBOX = "INSERT INTO outbox (delivery_id, status, available_at, created_at) VALUES (?,?,?,?)"


class Message(NamedTuple):
    business_key: str
    idempotency_key: str
    body: str
    targets: tuple[str, ...]


class StoreFloor:
    """A migrated embedded database in ``folder``; ``commit(page)`` stores one page."""

    def __init__(self, folder: Path, interface: str, message_type: str, source: str) -> None:
        env = {**os.environ, "ESB_DATA_DIR": str(folder), "ESB_DATABASE_URL": ""}
        subprocess.run(
            [sys.executable, "-m", "esb", "db", "upgrade"], env=env, check=True, capture_output=True
        )
        self.conn = sqlite3.connect(folder / "esb.db", isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.names = (interface, message_type, source)

    def commit(self, page: list[Message]) -> None:
        interface, message_type, source = self.names
        now = time.strftime("%Y-%m-%d %H:%M:%S.000000")
        messages, deliveries, outbox = [], [], []
        ids = iter(uuid7s(len(page) + sum(len(m.targets) for m in page)))
        for m in page:
            mid = next(ids).hex
            messages.append((mid, interface, message_type, source, m.business_key,
                             m.idempotency_key, "application/json", m.body, now))  # fmt: skip
            for target in m.targets:
                did = next(ids).hex
                deliveries.append((did, mid, interface, target, "pending", now, now, now))
                outbox.append((did, "pending", now, now))
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.executemany(MESSAGE, messages)
        self.conn.executemany(DELIVERY, deliveries)
        self.conn.executemany(OUTBOX, outbox)
        self.conn.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()
