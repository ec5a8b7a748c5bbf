"""master data cross-reference

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 16:47:52.457912
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "xref_codes",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("domain", sa.String(length=100), nullable=False),
        sa.Column("entity", sa.Uuid(), nullable=False),
        sa.Column("system", sa.String(length=100), nullable=False),
        sa.Column("code", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_xref_codes")),
        sa.UniqueConstraint(
            "domain", "entity", "system", name=op.f("uq_xref_codes_domain_entity_system")
        ),
        sa.UniqueConstraint(
            "domain", "system", "code", name=op.f("uq_xref_codes_domain_system_code")
        ),
    )
    op.create_table(
        "xref_versions",
        sa.Column("domain", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("domain", name=op.f("pk_xref_versions")),
    )


def downgrade() -> None:
    op.drop_table("xref_versions")
    op.drop_table("xref_codes")
