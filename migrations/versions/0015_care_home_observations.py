"""Structured care-home replies (issue 17): NEWS2 scores and soft signs in replies to follow-up
texts, urgent call-back tasks, and automatic replies through the SMS outbox.

- `care_home_observations`: a NEWS2 total score (SNOMED CT 1104051000000101) a care home texted,
  one per reply, linked to the reply, the follow-up, the call and the resident when known.
- `sms_replies.soft_signs` (JSON list of codes), `sms_replies.note` (why a score was not read),
  `sms_replies.linked_by` / `linked_at` (a navigator linked an unmatched reply to a call).
- `sms_callback_tasks.urgent` (false for existing tasks).
- `sms_messages.reply_id` (unique: one automatic reply per reply), and `navigation_id` /
  `service_id` nullable, for an automatic reply to a text that matched no follow-up.

Downgrade drops them; automatic replies with no call are deleted first, since
`sms_messages.navigation_id` becomes NOT NULL again.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 17:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sms_replies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("soft_signs", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("note", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("linked_by", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("linked_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("sms_callback_tasks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("urgent", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("sms_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reply_id", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_sms_messages_reply_id"), ["reply_id"])
        batch_op.alter_column("navigation_id", existing_type=sa.String(length=36), nullable=True)
        batch_op.alter_column("service_id", existing_type=sa.String(length=100), nullable=True)

    op.create_table(
        "care_home_observations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reply_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=True),
        sa.Column("navigation_id", sa.String(length=36), nullable=True),
        sa.Column("patient_id", sa.String(length=36), nullable=True),
        sa.Column("service_id", sa.String(length=100), nullable=True),
        sa.Column("code_system", sa.String(length=100), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("effective_at", sa.DateTime(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["sms_messages.id"],
            name=op.f("fk_care_home_observations_message_id_sms_messages"),
        ),
        sa.ForeignKeyConstraint(
            ["navigation_id"],
            ["navigations.id"],
            name=op.f("fk_care_home_observations_navigation_id_navigations"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_care_home_observations_patient_id_patients"),
        ),
        sa.ForeignKeyConstraint(
            ["reply_id"],
            ["sms_replies.id"],
            name=op.f("fk_care_home_observations_reply_id_sms_replies"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_home_observations")),
        sa.UniqueConstraint("reply_id", name=op.f("uq_care_home_observations_reply_id")),
    )
    with op.batch_alter_table("care_home_observations", schema=None) as batch_op:
        for column in ("message_id", "navigation_id", "patient_id"):
            batch_op.create_index(
                batch_op.f(f"ix_care_home_observations_{column}"), [column], unique=False
            )


def downgrade() -> None:
    with op.batch_alter_table("care_home_observations", schema=None) as batch_op:
        for column in ("patient_id", "navigation_id", "message_id"):
            batch_op.drop_index(batch_op.f(f"ix_care_home_observations_{column}"))
    op.drop_table("care_home_observations")
    # Automatic replies with no call, and what points at them.
    op.execute(
        "UPDATE sms_replies SET message_id = NULL WHERE message_id IN "
        "(SELECT id FROM sms_messages WHERE navigation_id IS NULL OR service_id IS NULL)"
    )
    op.execute(
        "DELETE FROM sms_callback_tasks WHERE message_id IN "
        "(SELECT id FROM sms_messages WHERE navigation_id IS NULL OR service_id IS NULL)"
    )
    op.execute("DELETE FROM sms_messages WHERE navigation_id IS NULL OR service_id IS NULL")
    with op.batch_alter_table("sms_messages", schema=None) as batch_op:
        batch_op.alter_column("service_id", existing_type=sa.String(length=100), nullable=False)
        batch_op.alter_column("navigation_id", existing_type=sa.String(length=36), nullable=False)
        batch_op.drop_constraint(batch_op.f("uq_sms_messages_reply_id"), type_="unique")
        batch_op.drop_column("reply_id")
    with op.batch_alter_table("sms_callback_tasks", schema=None) as batch_op:
        batch_op.drop_column("urgent")
    with op.batch_alter_table("sms_replies", schema=None) as batch_op:
        batch_op.drop_column("linked_at")
        batch_op.drop_column("linked_by")
        batch_op.drop_column("note")
        batch_op.drop_column("soft_signs")
