"""delivery keeps the body it sent

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 17:16:24.823943
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("deliveries", sa.Column("sent_body", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("deliveries", "sent_body")
