"""parallel run before go-live: comparisons, counts per day and field, promotions; audit
entries name the interface and target they act on when there is no delivery

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("audit_log", sa.Column("interface", sa.String(length=100), nullable=True))
    op.add_column("audit_log", sa.Column("target", sa.String(length=100), nullable=True))
    op.create_table(
        "shadow_comparisons",
        sa.Column("delivery_id", sa.Uuid(), nullable=False),
        sa.Column("target", sa.String(length=100), nullable=False),
        sa.Column("interface", sa.String(length=100), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("compared_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("sent", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("delivery_id", "target", name=op.f("pk_shadow_comparisons")),
    )
    op.create_index(
        op.f("ix_shadow_comparisons_interface_target_outcome_compared_at"),
        "shadow_comparisons",
        ["interface", "target", "outcome", "compared_at"],
        unique=False,
    )
    op.create_table(
        "shadow_days",
        sa.Column("interface", sa.String(length=100), nullable=False),
        sa.Column("target", sa.String(length=100), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("compared", sa.Integer(), nullable=False),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("differed", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("send_failed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("interface", "target", "day", name=op.f("pk_shadow_days")),
    )
    op.create_table(
        "shadow_field_days",
        sa.Column("interface", sa.String(length=100), nullable=False),
        sa.Column("target", sa.String(length=100), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("field", sa.String(length=300), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "interface", "target", "day", "field", name=op.f("pk_shadow_field_days")
        ),
    )
    op.create_table(
        "shadow_promotions",
        sa.Column("interface", sa.String(length=100), nullable=False),
        sa.Column("target", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("mapping", sa.String(length=100), nullable=True),
        sa.Column("previous", sa.String(length=100), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("interface", "target", name=op.f("pk_shadow_promotions")),
    )


def downgrade() -> None:
    op.drop_table("shadow_promotions")
    op.drop_table("shadow_field_days")
    op.drop_table("shadow_days")
    op.drop_index(
        op.f("ix_shadow_comparisons_interface_target_outcome_compared_at"),
        table_name="shadow_comparisons",
    )
    op.drop_table("shadow_comparisons")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("target")
        batch.drop_column("interface")
