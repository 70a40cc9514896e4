"""The directory's change log (issue 18 §2): web nodes apply edits to their in-memory index
incrementally instead of rebuilding it whole.

- `directory_changes`: one row per change to the directory's static data, keyed by an integer
  `seq`, with the revision token it left and the changed service ids as JSON (NULL means
  "everything", e.g. a bulk load).
- `directory_state.seq`: the latest change's `seq` (0 before any), allocated under the row's
  lock so that seqs become visible in commit order.

Downgrade drops both; the `revision` token keeps working on its own.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 20:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "directory_changes",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("revision", sa.String(length=32), nullable=False),
        sa.Column("service_ids", sa.JSON(), nullable=True),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_directory_changes")),
    )
    with op.batch_alter_table("directory_state", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("seq", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("directory_state", schema=None) as batch_op:
        batch_op.drop_column("seq")
    op.drop_table("directory_changes")
