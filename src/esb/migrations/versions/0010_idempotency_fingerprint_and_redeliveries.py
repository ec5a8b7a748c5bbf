"""idempotency fingerprint, a key column that holds what the API allows, redelivery count

- ``messages.idempotency_key`` held 200 characters while the API allows a 200-character
  ``Idempotency-Key`` and stores it as ``key:`` + the key: widened to 250.
- ``messages.fingerprint``: the canonical hash of the body, so that the same key sent
  with a different body is refused instead of answered as a repeat.
- ``deliveries.redeliveries``: how often the delivery was handed to a worker again
  without a recorded outcome (a crash, an error while recording); past a bound it is
  parked instead of looping.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 16:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _widen_key(length: int) -> None:
    """On SQLite the table is copied (batch mode; foreign keys are off in migrations)."""
    with op.batch_alter_table("messages") as batch:
        batch.alter_column(
            "idempotency_key", type_=sa.String(length=length), existing_nullable=False
        )


def upgrade() -> None:
    _widen_key(250)
    op.add_column("messages", sa.Column("fingerprint", sa.String(length=71), nullable=True))
    op.add_column(
        "deliveries",
        sa.Column("redeliveries", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_column("deliveries", "redeliveries")
    op.drop_column("messages", "fingerprint")
    _widen_key(200)
