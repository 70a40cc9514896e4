"""`transition_events.sent_place`: the place the recording client named itself.

A transition's `place` is the truth the CISP metrics count: the `place` the client named, else
the place of the postcode navigator holds for the patient, which may have come from another
client or the console. A client without the full view of the patient must not be shown that
(issue 12 §2, need-to-know; hazard H27), so it is shown the place it named, else the place of
the postcode it sent itself. This column keeps the place it named, which `place` alone cannot
tell apart from a derived one.

Existing rows get NULL: whether their client named the place was not recorded, so they show
such a client the place of its own postcode (or null), never the held one. Nothing else
changes; downgrade drops the column.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("transition_events", sa.Column("sent_place", sa.String(40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("transition_events") as batch:
        batch.drop_column("sent_place")
