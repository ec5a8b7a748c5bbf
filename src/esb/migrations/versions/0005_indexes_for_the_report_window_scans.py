"""indexes for the report window scans

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 17:32:36.148737
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(op.f("ix_attempts_started_at"), "attempts", ["started_at"], unique=False)
    op.create_index(op.f("ix_deliveries_created_at"), "deliveries", ["created_at"], unique=False)
    op.create_index(
        op.f("ix_deliveries_delivered_at"), "deliveries", ["delivered_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_deliveries_delivered_at"), table_name="deliveries")
    op.drop_index(op.f("ix_deliveries_created_at"), table_name="deliveries")
    op.drop_index(op.f("ix_attempts_started_at"), table_name="attempts")
