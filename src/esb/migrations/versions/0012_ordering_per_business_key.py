"""ordering per business key: one head delivery per interface, target and key

- ``ordering_heads``: for each (interface, target, business key) whose target orders by
  key, the one delivery that may go out now (``head_id``; none when nothing waits) and
  the last sequence number given out (``last_seq``). Accept, outcome and operator
  transactions lock this row, so releasing the next delivery and accepting a new one
  cannot race.
- ``deliveries.order_key`` / ``order_seq``: the key and the place in its acceptance
  order of an ordered delivery; ``deliveries.superseded_by``: the message that replaced
  a waiting delivery (``supersede: true``).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 08:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ordering_heads",
        sa.Column("interface", sa.String(length=100), nullable=False),
        sa.Column("target", sa.String(length=100), nullable=False),
        sa.Column("business_key", sa.String(length=200), nullable=False),
        sa.Column("head_id", sa.Uuid(), nullable=True),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "interface", "target", "business_key", name=op.f("pk_ordering_heads")
        ),
    )
    op.create_index(op.f("ix_ordering_heads_head_id"), "ordering_heads", ["head_id"])
    op.add_column("deliveries", sa.Column("order_key", sa.String(length=200), nullable=True))
    op.add_column("deliveries", sa.Column("order_seq", sa.BigInteger(), nullable=True))
    op.add_column("deliveries", sa.Column("superseded_by", sa.Uuid(), nullable=True))
    op.create_index(
        op.f("ix_deliveries_interface_target_order_key_order_seq"),
        "deliveries",
        ["interface", "target", "order_key", "order_seq"],
    )


def downgrade() -> None:
    """Waiting deliveries get an outbox row first: without the heads nothing would ever
    release them (they go out unordered, as with ``ordering: none``); superseded ones
    become discarded, the nearest status the older schema knows."""
    conn = op.get_bind()
    conn.execute(
        sa.text(
            "INSERT INTO outbox (delivery_id, status, available_at, created_at) "
            "SELECT d.id, 'pending', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM deliveries d "
            "WHERE d.status = 'pending' AND d.order_key IS NOT NULL "
            "AND NOT EXISTS (SELECT 1 FROM ordering_heads h WHERE h.head_id = d.id)"
        )
    )
    conn.execute(sa.text("UPDATE deliveries SET status = 'discarded' WHERE status = 'superseded'"))
    op.drop_index(
        op.f("ix_deliveries_interface_target_order_key_order_seq"), table_name="deliveries"
    )
    op.drop_column("deliveries", "superseded_by")
    op.drop_column("deliveries", "order_seq")
    op.drop_column("deliveries", "order_key")
    op.drop_index(op.f("ix_ordering_heads_head_id"), table_name="ordering_heads")
    op.drop_table("ordering_heads")
