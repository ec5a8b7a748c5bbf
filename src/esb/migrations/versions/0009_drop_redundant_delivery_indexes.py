"""drop the per-pair time indexes of deliveries

Every accept inserts a delivery and every outcome updates its status and times, so
each index on deliveries is paid for on the hot path. The report scans the window
through ``created_at`` / ``delivered_at`` alone (0005), and the per-pair counts go
through ``(interface, target, status)``: the per-pair time indexes are not read.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 20:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_deliveries_interface_target_created_at", table_name="deliveries")
    op.drop_index("ix_deliveries_interface_target_delivered_at", table_name="deliveries")


def downgrade() -> None:
    op.create_index(
        "ix_deliveries_interface_target_delivered_at",
        "deliveries",
        ["interface", "target", "delivered_at"],
    )
    op.create_index(
        "ix_deliveries_interface_target_created_at",
        "deliveries",
        ["interface", "target", "created_at"],
    )
