"""value report: refusals counted per day, the delivered figures rolled up per day

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "refusals",
        sa.Column("interface", sa.String(length=100), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("field", sa.String(length=200), nullable=False),
        sa.Column("documents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("interface", "day", "field", name=op.f("pk_refusals")),
    )
    op.create_table(
        "value_days",
        sa.Column("interface", sa.String(length=100), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("moved", sa.BigInteger(), nullable=False),
        sa.Column("retried", sa.BigInteger(), nullable=False),
        sa.Column("fixed", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("interface", "day", name=op.f("pk_value_days")),
    )
    op.create_table(
        "value_latency",
        sa.Column("interface", sa.String(length=100), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("bucket_ms", sa.BigInteger(), nullable=False),
        sa.Column("messages", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("interface", "day", "bucket_ms", name=op.f("pk_value_latency")),
    )
    op.create_table(
        "value_rollup",
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("rolled_to", sa.DateTime(timezone=True), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_value_rollup")),
    )


def downgrade() -> None:
    op.drop_table("value_rollup")
    op.drop_table("value_latency")
    op.drop_table("value_days")
    op.drop_table("refusals")
