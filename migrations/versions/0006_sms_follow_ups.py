"""SMS follow-ups to care homes: the care home's SMS number, consent and opt-out on services;
the message outbox, replies and call-back tasks.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sms_number", sa.String(length=20), nullable=True))
        batch_op.add_column(
            sa.Column("sms_consent", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("sms_consent_recorded_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("sms_opted_out_at", sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_services_sms_number"), ["sms_number"], unique=False)

    op.create_table(
        "sms_messages",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("navigation_id", sa.String(length=36), nullable=False),
        sa.Column("service_id", sa.String(length=100), nullable=False),
        sa.Column("follow_up", sa.String(length=60), nullable=False),
        sa.Column("to_number", sa.String(length=20), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("first_claimed_at", sa.DateTime(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("twilio_sid", sa.String(length=40), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["navigation_id"],
            ["navigations.id"],
            name=op.f("fk_sms_messages_navigation_id_navigations"),
        ),
        sa.ForeignKeyConstraint(
            ["service_id"], ["services.id"], name=op.f("fk_sms_messages_service_id_services")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_messages")),
        sa.UniqueConstraint(
            "navigation_id", "follow_up", name="uq_sms_messages_navigation_follow_up"
        ),
        sa.UniqueConstraint("twilio_sid", name=op.f("uq_sms_messages_twilio_sid")),
    )
    with op.batch_alter_table("sms_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sms_messages_navigation_id"), ["navigation_id"], unique=False
        )
        batch_op.create_index(
            "ix_sms_messages_status_next_attempt_at", ["status", "next_attempt_at"], unique=False
        )
        batch_op.create_index(
            "ix_sms_messages_to_number_created_at", ["to_number", "created_at"], unique=False
        )

    op.create_table(
        "sms_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("twilio_sid", sa.String(length=40), nullable=False),
        sa.Column("from_number", sa.String(length=20), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=True),
        sa.Column("navigation_id", sa.String(length=36), nullable=True),
        sa.Column("service_id", sa.String(length=100), nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"], ["sms_messages.id"], name=op.f("fk_sms_replies_message_id_sms_messages")
        ),
        sa.ForeignKeyConstraint(
            ["navigation_id"],
            ["navigations.id"],
            name=op.f("fk_sms_replies_navigation_id_navigations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_replies")),
        sa.UniqueConstraint("twilio_sid", name=op.f("uq_sms_replies_twilio_sid")),
    )
    with op.batch_alter_table("sms_replies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sms_replies_from_number"), ["from_number"])
        batch_op.create_index(batch_op.f("ix_sms_replies_message_id"), ["message_id"])
        batch_op.create_index(batch_op.f("ix_sms_replies_navigation_id"), ["navigation_id"])

    op.create_table(
        "sms_callback_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reply_id", sa.Integer(), nullable=True),
        sa.Column("message_id", sa.String(length=36), nullable=True),
        sa.Column("navigation_id", sa.String(length=36), nullable=True),
        sa.Column("service_id", sa.String(length=100), nullable=True),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.Column("completed_by", sa.String(length=200), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["navigation_id"],
            ["navigations.id"],
            name=op.f("fk_sms_callback_tasks_navigation_id_navigations"),
        ),
        sa.ForeignKeyConstraint(
            ["reply_id"],
            ["sms_replies.id"],
            name=op.f("fk_sms_callback_tasks_reply_id_sms_replies"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_callback_tasks")),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["sms_messages.id"],
            name=op.f("fk_sms_callback_tasks_message_id_sms_messages"),
        ),
        sa.UniqueConstraint("reply_id", name=op.f("uq_sms_callback_tasks_reply_id")),
        sa.UniqueConstraint("message_id", name=op.f("uq_sms_callback_tasks_message_id")),
    )
    with op.batch_alter_table("sms_callback_tasks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sms_callback_tasks_navigation_id"), ["navigation_id"], unique=False
        )
        batch_op.create_index(
            "ix_sms_callback_tasks_status_created_at", ["status", "created_at"], unique=False
        )


def downgrade() -> None:
    op.drop_table("sms_callback_tasks")
    op.drop_table("sms_replies")
    op.drop_table("sms_messages")
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_services_sms_number"))
        batch_op.drop_column("sms_opted_out_at")
        batch_op.drop_column("sms_consent_recorded_at")
        batch_op.drop_column("sms_consent")
        batch_op.drop_column("sms_number")
