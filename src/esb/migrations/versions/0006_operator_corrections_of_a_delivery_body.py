"""operator corrections of a delivery body

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 17:33:22.837816
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("deliveries", sa.Column("corrected_body", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("deliveries", "corrected_body")
