"""Navigations (a routed call each, with the full recommendation as returned) and the gaps
they found (services failing exactly one criterion).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 09:53:25.537740
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "navigations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("called_at", sa.DateTime(), nullable=False),
        sa.Column("caller_role", sa.String(length=20), nullable=False),
        sa.Column("need", sa.String(length=60), nullable=True),
        sa.Column("red_flags", sa.JSON(), nullable=False),
        sa.Column("age_days", sa.Integer(), nullable=True),
        sa.Column("sex", sa.String(length=10), nullable=True),
        sa.Column("postcode", sa.String(length=10), nullable=False),
        sa.Column("place", sa.String(length=40), nullable=True),
        sa.Column("gp_practice_ods", sa.String(length=20), nullable=True),
        sa.Column("disposition", sa.String(length=10), nullable=True),
        sa.Column("lives_in_care_home", sa.Boolean(), nullable=False),
        sa.Column("care_home_service_id", sa.String(length=100), nullable=True),
        sa.Column("case_ref", sa.String(length=100), nullable=True),
        sa.Column("nhs_number", sa.String(length=10), nullable=True),
        sa.Column("urgency", sa.String(length=20), nullable=False),
        sa.Column("rules_version", sa.String(length=40), nullable=False),
        sa.Column("rule_id", sa.String(length=100), nullable=False),
        sa.Column("rule_ids", sa.JSON(), nullable=False),
        sa.Column("recommended_service_id", sa.String(length=100), nullable=True),
        sa.Column("recommended_service_type", sa.String(length=60), nullable=True),
        sa.Column("fallback", sa.String(length=20), nullable=True),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_navigations")),
    )
    with op.batch_alter_table("navigations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_navigations_case_ref"), ["case_ref"], unique=False)
        batch_op.create_index("ix_navigations_created_at", ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_navigations_nhs_number"), ["nhs_number"], unique=False)

    op.create_table(
        "navigation_gaps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("navigation_id", sa.String(length=36), nullable=False),
        sa.Column("service_id", sa.String(length=100), nullable=False),
        sa.Column("criterion", sa.String(length=20), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["navigation_id"],
            ["navigations.id"],
            name=op.f("fk_navigation_gaps_navigation_id_navigations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_navigation_gaps")),
    )
    with op.batch_alter_table("navigation_gaps", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_navigation_gaps_navigation_id"), ["navigation_id"], unique=False
        )
        batch_op.create_index("ix_navigation_gaps_recorded_at", ["recorded_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("navigation_gaps", schema=None) as batch_op:
        batch_op.drop_index("ix_navigation_gaps_recorded_at")
        batch_op.drop_index(batch_op.f("ix_navigation_gaps_navigation_id"))

    op.drop_table("navigation_gaps")
    with op.batch_alter_table("navigations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_navigations_nhs_number"))
        batch_op.drop_index("ix_navigations_created_at")
        batch_op.drop_index(batch_op.f("ix_navigations_case_ref"))

    op.drop_table("navigations")
