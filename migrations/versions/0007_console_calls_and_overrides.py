"""Calls taken in the console: the caller's name and phone, notes, the patient, and the
navigator's decision on each navigation (accepted, or overridden with a reason).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 12:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("navigations") as batch:
        batch.add_column(sa.Column("caller_name", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("caller_phone", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("notes", sa.Text(), nullable=True))
        batch.add_column(sa.Column("patient_id", sa.String(length=36), nullable=True))
        batch.add_column(sa.Column("decision", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("chosen_service_id", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("override_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("decided_by", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("decided_at", sa.DateTime(), nullable=True))
        batch.create_foreign_key(
            "fk_navigations_patient_id_patients", "patients", ["patient_id"], ["id"]
        )
        batch.create_index("ix_navigations_patient_id", ["patient_id"])


def downgrade() -> None:
    with op.batch_alter_table("navigations") as batch:
        batch.drop_index("ix_navigations_patient_id")
        batch.drop_constraint("fk_navigations_patient_id_patients", type_="foreignkey")
        for column in (
            "decided_at",
            "decided_by",
            "override_reason",
            "chosen_service_id",
            "decision",
            "patient_id",
            "notes",
            "caller_phone",
            "caller_name",
        ):
            batch.drop_column(column)
