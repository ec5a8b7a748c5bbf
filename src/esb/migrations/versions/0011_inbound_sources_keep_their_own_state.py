"""inbound sources keep their own state: source_state and source_leases replace inbound_files

Each inbound source gets durable keys and JSON values of its own (``source_state``,
scoped to interface and source kind) and a lease row (``source_leases``) so that one
process at a time runs it. The file drop's ledger moves there: every ``inbound_files``
row becomes the value of ``file/<sha256>`` of its interface's ``file-drop`` state, and
the names it was found under are indexed as ``name/<sha256 of the name>`` (the latest
contents first), as ``esb_file.ledger`` reads them. Downgrade carries the file rows
back into a new ``inbound_files`` (other sources' state has nowhere to go and is lost).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-10 10:00:00
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KIND = "file-drop"
RECENT = 20  # contents listed per name (esb_file.ledger.RECENT)
CHUNK = 1000

state = sa.table(
    "source_state",
    sa.column("interface", sa.String),
    sa.column("kind", sa.String),
    sa.column("key", sa.String),
    sa.column("value", sa.Text),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
files = sa.table(
    "inbound_files",
    sa.column("id", sa.BigInteger),
    sa.column("interface", sa.String),
    sa.column("name", sa.String),
    sa.column("sha256", sa.String),
    sa.column("size", sa.BigInteger),
    sa.column("status", sa.String),
    sa.column("rows_accepted", sa.Integer),
    sa.column("rows_refused", sa.Integer),
    sa.column("report", sa.Text),
    sa.column("started_at", sa.DateTime(timezone=True)),
    sa.column("finished_at", sa.DateTime(timezone=True)),
)


def name_key(name: str) -> str:
    return "name/" + hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()


def _text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(when, datetime)
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC).isoformat()


def _when(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _create_tables() -> None:
    op.create_table(
        "source_state",
        sa.Column("interface", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("interface", "kind", "key", name=op.f("pk_source_state")),
    )
    op.create_table(
        "source_leases",
        sa.Column("interface", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("interface", "kind", name=op.f("pk_source_leases")),
    )


def _file_value(row: Any) -> dict[str, Any]:
    return {
        "name": row.name,
        "size": row.size,
        "status": row.status,
        "rows_accepted": row.rows_accepted,
        "rows_refused": row.rows_refused,
        "report": json.loads(row.report) if row.report else None,
        "started_at": _iso(row.started_at),
        "finished_at": _iso(row.finished_at),
    }


def _carry_over(conn: sa.Connection) -> None:
    now = datetime.now(UTC)
    names: dict[tuple[str, str], list[str]] = {}
    batch: list[dict[str, Any]] = []
    for row in conn.execute(sa.select(files).order_by(files.c.id.desc())):
        value = _file_value(row)
        batch.append(
            {"interface": row.interface, "kind": KIND, "key": f"file/{row.sha256}",
             "value": _text(value), "updated_at": now}
        )  # fmt: skip
        listed = names.setdefault((row.interface, row.name), [])
        if len(listed) < RECENT:
            listed.append(row.sha256)
        if len(batch) >= CHUNK:
            conn.execute(state.insert(), batch)
            batch = []
    for (interface, name), shas in names.items():
        value = {"name": name, "files": shas}
        batch.append(
            {"interface": interface, "kind": KIND, "key": name_key(name),
             "value": _text(value), "updated_at": now}
        )  # fmt: skip
        if len(batch) >= CHUNK:
            conn.execute(state.insert(), batch)
            batch = []
    if batch:
        conn.execute(state.insert(), batch)


def upgrade() -> None:
    _create_tables()
    _carry_over(op.get_bind())
    op.drop_table("inbound_files")


def _recreate_inbound_files() -> None:
    op.create_table(
        "inbound_files",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("interface", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("rows_accepted", sa.Integer(), nullable=False),
        sa.Column("rows_refused", sa.Integer(), nullable=False),
        sa.Column("report", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_files")),
        sa.UniqueConstraint("interface", "sha256", name=op.f("uq_inbound_files_interface_sha256")),
    )


def _carry_back(conn: sa.Connection) -> None:
    query = sa.select(state.c.interface, state.c.key, state.c.value).where(
        state.c.kind == KIND, state.c.key.startswith("file/")
    )
    rows = []
    for row in conn.execute(query):
        value = json.loads(row.value)
        report = value.get("report")
        rows.append(
            {
                "interface": row.interface,
                "name": value["name"],
                "sha256": row.key.removeprefix("file/"),
                "size": value["size"],
                "status": value["status"],
                "rows_accepted": value["rows_accepted"],
                "rows_refused": value["rows_refused"],
                "report": None if report is None else _text(report),
                "started_at": _when(value["started_at"]),
                "finished_at": _when(value.get("finished_at")),
            }
        )
    rows.sort(key=lambda found: found["started_at"])  # ids in the order files were found
    for start in range(0, len(rows), CHUNK):
        conn.execute(files.insert(), rows[start : start + CHUNK])


def downgrade() -> None:
    _recreate_inbound_files()
    _carry_back(op.get_bind())
    op.drop_table("source_leases")
    op.drop_table("source_state")
