"""Referral status reasons are coded: a free-text `reason` kept before is moved into `note`.

Issue 12 made `reason` on `PATCH /referrals/{id}` one of the rejection reason codes for any
status, and documents the codes as an enum in the responses. Before, any text of up to 40
characters was accepted on a status other than `rejected` (e.g. a cancellation "duplicate").
Such a value is moved, word for word, to the start of the event's `note` ("Reason given:
…"), so nothing is lost and the history still answers with the documented codes only.
The codes are listed here rather than imported: a migration must not change when the app
does.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 04:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REJECTION_REASONS = (
    "no_capacity",
    "not_eligible",
    "could_not_contact",
    "declined_by_patient",
    "other",
)
events = sa.table(
    "referral_events",
    sa.column("id", sa.Integer),
    sa.column("reason", sa.String),
    sa.column("note", sa.Text),
)


def upgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(events.c.id, events.c.reason, events.c.note).where(
            events.c.reason.is_not(None), events.c.reason.not_in(REJECTION_REASONS)
        )
    ).all()
    for row in rows:
        moved = f"Reason given: {row.reason}"
        note = f"{moved}\n{row.note}" if row.note else moved
        conn.execute(events.update().where(events.c.id == row.id).values(reason=None, note=note))


def downgrade() -> None:
    # The move cannot be told apart from a note a person wrote; nothing to undo safely.
    pass
