"""Open Referral UK import without loss (issue 15): recurring opening sessions and who
classified a service.

- `opening_sessions.rule`: for a session of kind `recurring`, the RFC 5545 recurrence it
  follows (HSDS schedule fields `freq`, `interval`, `byday`, `bymonthday`, `dtstart`, `until`,
  `count`, `valid_from`, `valid_to`) as canonical JSON; NULL for weekly, bank-holiday and
  specified-date sessions, which keep their own columns.
- `services.classified_by`: who gave the service its navigator type, needs and eligibility when
  the source did not: `mapping:<name>` (a taxonomy mapping file), `person:<username>` (the
  console's "To classify" queue), or NULL (the source's own classification, or none yet, for
  a service of type `unclassified`). A person's classification survives re-loading the feed.
- `services.source_terms`: the taxonomy terms the source feed classified the service with
  (`[{"taxonomy", "code", "name"}]`, e.g. the LGA's ESD service list), kept so nothing the feed
  said is lost: the "To classify" queue shows them and `/oruk/` publishes them again.

Existing rows get NULL (and `source_terms` an empty list): every existing session is weekly,
bank-holiday or dated, and every existing service was classified by its own source. Downgrade
drops the three columns (and with them any recurring sessions, which the old code could not
read).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("opening_sessions", sa.Column("rule", sa.Text(), nullable=True))
    op.add_column("services", sa.Column("classified_by", sa.String(200), nullable=True))
    json_list = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    op.add_column(
        "services",
        sa.Column("source_terms", json_list, nullable=False, server_default=sa.text("'[]'")),
    )


def downgrade() -> None:
    op.execute("DELETE FROM opening_sessions WHERE kind = 'recurring'")
    with op.batch_alter_table("opening_sessions") as batch:
        batch.drop_column("rule")
    with op.batch_alter_table("services") as batch:
        batch.drop_column("classified_by")
        batch.drop_column("source_terms")
