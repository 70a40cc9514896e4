"""Navigations take an Idempotency-Key (issue 18 §4): a client that resends a navigation whose
answer was lost (its node died, a timeout) gets the first one back, not a second record.

- `navigations.client_id`, `navigations.idempotency_key`, `navigations.request_hash`: whose
  key, the key, and the fingerprint of the body it came with; NULL for calls sent without a
  key and for calls taken in the console.
- unique (`client_id`, `idempotency_key`): NULLs never conflict, on SQLite or PostgreSQL.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 21:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("navigations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("idempotency_key", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("request_hash", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            "uq_navigations_client_id_idempotency_key", ["client_id", "idempotency_key"]
        )


def downgrade() -> None:
    with op.batch_alter_table("navigations", schema=None) as batch_op:
        batch_op.drop_constraint("uq_navigations_client_id_idempotency_key", type_="unique")
        batch_op.drop_column("request_hash")
        batch_op.drop_column("idempotency_key")
        batch_op.drop_column("client_id")
