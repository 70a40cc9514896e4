"""BaRS referral messaging (issue 16): the messages received on `/fhir/$process-message`, what
navigator keeps of each referral's sender, and the outbox of status responses to senders.

- `bars_requests`: one row per `X-Request-Id` (unique), claimed `processing` before the message
  is processed and `processed` in the same transaction as the referral it made, with the Bundle
  kept as received (`bundle`, the body as text), so every version of a referral is stored.
- `bars_referrals`: for a referral received by BaRS, the correlation id, the sender's
  `MessageHeader.source.endpoint`, its ServiceRequest id, and the Flags the console shows.
- `bars_outbox`: `servicerequest-response` messages to senders, each with its own fixed
  `X-Request-Id`, sent by the scheduler with retries.

- `navigations.symptom_group`, `navigations.symptom_discriminator`: the NHS Pathways codes a
  call came with (a 111 referral carries them); NULL for existing calls.

Three new tables and two nullable columns. Downgrade drops them (and the BaRS history).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 13:40:19.175926
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("navigations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("symptom_group", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("symptom_discriminator", sa.String(length=20), nullable=True))
    op.create_table(
        "bars_outbox",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("referral_id", sa.String(length=36), nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("correlation_id", sa.String(length=36), nullable=False),
        sa.Column("endpoint", sa.String(length=500), nullable=False),
        sa.Column("referral_status", sa.String(length=20), nullable=False),
        sa.Column("bundle", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f("fk_bars_outbox_referral_id_referrals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bars_outbox")),
        sa.UniqueConstraint("request_id", name=op.f("uq_bars_outbox_request_id")),
    )
    with op.batch_alter_table("bars_outbox", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bars_outbox_referral_id"), ["referral_id"], unique=False
        )
        batch_op.create_index(
            "ix_bars_outbox_state_next_attempt_at", ["state", "next_attempt_at"], unique=False
        )

    op.create_table(
        "bars_referrals",
        sa.Column("referral_id", sa.String(length=36), nullable=False),
        sa.Column("correlation_id", sa.String(length=36), nullable=False),
        sa.Column("service_request_id", sa.String(length=200), nullable=False),
        sa.Column("sender_endpoint", sa.String(length=500), nullable=False),
        sa.Column("sender_name", sa.String(length=200), nullable=True),
        sa.Column("sender_phone", sa.String(length=40), nullable=True),
        sa.Column("request_message_id", sa.String(length=200), nullable=False),
        sa.Column("target_identifier", sa.String(length=200), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("patient_instruction", sa.Text(), nullable=True),
        sa.Column("sender_updated_at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f("fk_bars_referrals_referral_id_referrals")
        ),
        sa.PrimaryKeyConstraint("referral_id", name=op.f("pk_bars_referrals")),
    )
    with op.batch_alter_table("bars_referrals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bars_referrals_correlation_id"), ["correlation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_bars_referrals_service_request_id"), ["service_request_id"], unique=False
        )

    op.create_table(
        "bars_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("correlation_id", sa.String(length=36), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=False),
        sa.Column("processed_at", sa.DateTime(), nullable=True),
        sa.Column("event", sa.String(length=60), nullable=True),
        sa.Column("reason", sa.String(length=20), nullable=True),
        sa.Column("referral_id", sa.String(length=36), nullable=True),
        sa.Column("bundle", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f("fk_bars_requests_referral_id_referrals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bars_requests")),
        sa.UniqueConstraint("request_id", name=op.f("uq_bars_requests_request_id")),
    )
    with op.batch_alter_table("bars_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bars_requests_correlation_id"), ["correlation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_bars_requests_referral_id"), ["referral_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("bars_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bars_requests_referral_id"))
        batch_op.drop_index(batch_op.f("ix_bars_requests_correlation_id"))

    op.drop_table("bars_requests")
    with op.batch_alter_table("bars_referrals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bars_referrals_service_request_id"))
        batch_op.drop_index(batch_op.f("ix_bars_referrals_correlation_id"))

    op.drop_table("bars_referrals")
    with op.batch_alter_table("bars_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_bars_outbox_state_next_attempt_at")
        batch_op.drop_index(batch_op.f("ix_bars_outbox_referral_id"))

    op.drop_table("bars_outbox")
    with op.batch_alter_table("navigations", schema=None) as batch_op:
        batch_op.drop_column("symptom_discriminator")
        batch_op.drop_column("symptom_group")
