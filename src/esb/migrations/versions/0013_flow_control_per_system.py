"""flow control per system: breaker and rate state, in-flight leases, deferrals, events

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 08:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "flow_state",
        sa.Column("system", sa.String(length=100), nullable=False),
        sa.Column("rate_tat", sa.Float(), nullable=True),
        sa.Column("rate_queue", sa.Float(), nullable=True),
        sa.Column("breaker", sa.String(length=20), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("reopen_at", sa.Float(), nullable=True),
        sa.Column("probe_owner", sa.String(length=200), nullable=True),
        sa.Column("probe_until", sa.Float(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("system", name=op.f("pk_flow_state")),
    )
    op.create_table(
        "flow_slots",
        sa.Column("system", sa.String(length=100), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("lease", sa.String(length=64), nullable=True),
        sa.Column("owner", sa.String(length=200), nullable=True),
        sa.Column("expires_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("system", "slot", name=op.f("pk_flow_slots")),
    )
    op.create_table(
        "flow_deferrals",
        sa.Column("delivery_id", sa.Uuid(), nullable=False),
        sa.Column("system", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deferred_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("delivery_id", name=op.f("pk_flow_deferrals")),
    )
    op.create_index(op.f("ix_flow_deferrals_system"), "flow_deferrals", ["system"], unique=False)
    op.create_table(
        "flow_events",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("system", sa.String(length=100), nullable=False),
        sa.Column("event", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flow_events")),
    )
    op.create_index(op.f("ix_flow_events_at"), "flow_events", ["at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_flow_events_at"), table_name="flow_events")
    op.drop_table("flow_events")
    op.drop_index(op.f("ix_flow_deferrals_system"), table_name="flow_deferrals")
    op.drop_table("flow_deferrals")
    op.drop_table("flow_slots")
    op.drop_table("flow_state")
