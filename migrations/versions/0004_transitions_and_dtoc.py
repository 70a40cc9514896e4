"""Transitions of care (one per client event_id, with readmission flags) and delayed
transfer of care episodes with their reason and responsibility intervals.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 10:38:59.649293
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dtoc_episodes",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("provider_ods", sa.String(length=20), nullable=False),
        sa.Column("site", sa.String(length=200), nullable=True),
        sa.Column("care_type", sa.String(length=20), nullable=False),
        sa.Column("place", sa.String(length=40), nullable=True),
        sa.Column("clinically_ready_at", sa.DateTime(), nullable=True),
        sa.Column("mdt_ready_at", sa.DateTime(), nullable=True),
        sa.Column("safe_to_transfer_at", sa.DateTime(), nullable=True),
        sa.Column("ready_at", sa.DateTime(), nullable=True),
        sa.Column("receiving_service_id", sa.String(length=100), nullable=True),
        sa.Column("receiving_accepted_at", sa.DateTime(), nullable=True),
        sa.Column("expected_transfer_date", sa.Date(), nullable=True),
        sa.Column("transferred_at", sa.DateTime(), nullable=True),
        sa.Column("destination", sa.String(length=100), nullable=True),
        sa.Column("pathway", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_dtoc_episodes_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["receiving_service_id"],
            ["services.id"],
            name=op.f("fk_dtoc_episodes_receiving_service_id_services"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dtoc_episodes")),
    )
    with op.batch_alter_table("dtoc_episodes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dtoc_episodes_patient_id"), ["patient_id"], unique=False
        )
        batch_op.create_index("ix_dtoc_episodes_transferred_at", ["transferred_at"], unique=False)

    op.create_table(
        "transition_events",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=30), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("place", sa.String(length=40), nullable=True),
        sa.Column("organisation", sa.String(length=20), nullable=True),
        sa.Column("specialty", sa.String(length=60), nullable=True),
        sa.Column("pathway", sa.Integer(), nullable=True),
        sa.Column("destination", sa.String(length=100), nullable=True),
        sa.Column("from_organisation", sa.String(length=20), nullable=True),
        sa.Column("to_organisation", sa.String(length=20), nullable=True),
        sa.Column("readmission_30d", sa.Boolean(), nullable=False),
        sa.Column("readmission_excluded", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_transition_events_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transition_events")),
        sa.UniqueConstraint(
            "client_id", "event_id", name="uq_transition_events_client_id_event_id"
        ),
    )
    with op.batch_alter_table("transition_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_transition_events_patient_id_occurred_at",
            ["patient_id", "occurred_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_transition_events_type_occurred_at", ["type", "occurred_at"], unique=False
        )

    op.create_table(
        "dtoc_intervals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.String(length=36), nullable=False),
        sa.Column("effective_at", sa.DateTime(), nullable=True),
        sa.Column("reason", sa.String(length=4), nullable=False),
        sa.Column("responsible", sa.String(length=20), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["episode_id"],
            ["dtoc_episodes.id"],
            name=op.f("fk_dtoc_intervals_episode_id_dtoc_episodes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dtoc_intervals")),
    )
    with op.batch_alter_table("dtoc_intervals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dtoc_intervals_episode_id"), ["episode_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("dtoc_intervals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dtoc_intervals_episode_id"))

    op.drop_table("dtoc_intervals")
    with op.batch_alter_table("transition_events", schema=None) as batch_op:
        batch_op.drop_index("ix_transition_events_type_occurred_at")
        batch_op.drop_index("ix_transition_events_patient_id_occurred_at")

    op.drop_table("transition_events")
    with op.batch_alter_table("dtoc_episodes", schema=None) as batch_op:
        batch_op.drop_index("ix_dtoc_episodes_transferred_at")
        batch_op.drop_index(batch_op.f("ix_dtoc_episodes_patient_id"))

    op.drop_table("dtoc_episodes")
