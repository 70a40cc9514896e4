"""The migrations build exactly the schema the models describe, with one readable head."""

from __future__ import annotations

import re
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from navigator.migrate import alembic_config, include_object
from navigator.models import Base
from tests.conftest import PROJECT_ROOT


def test_migrated_database_matches_the_models(database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": include_object}
        )
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()


def test_one_head_and_sequential_readable_names(database_url: str) -> None:
    scripts = ScriptDirectory.from_config(alembic_config(database_url))
    assert len(scripts.get_heads()) == 1
    names = sorted(p.name for p in Path(PROJECT_ROOT / "migrations" / "versions").glob("*.py"))
    for number, name in enumerate(names, start=1):
        assert re.fullmatch(rf"{number:04d}_[a-z0-9_]+\.py", name), name


def test_0005_backfills_months_and_delayed_days_for_existing_rows(tmp_path: Path) -> None:
    """Rows written before 0005 get their London month and DTOC days (on a scratch SQLite)."""
    from sqlalchemy import text

    from navigator.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'backfill.db'}"
    upgrade(url, "0004")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO patients (id, name, sex, place, created_at, updated_at) VALUES ('p', 'P', 'unknown', 'luton', '2026-01-01', '2026-01-01')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO transition_events (id, client_id, event_id, request_hash, type, occurred_at, patient_id, place, "
                "readmission_30d, readmission_excluded, created_at, created_by) VALUES "
                "('t', '1', 'e', 'h', 'ae_attendance', '2026-03-31 23:30:00', 'p', 'luton', 0, 0, '2026-04-01', 'x')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO dtoc_episodes (id, patient_id, provider_ods, care_type, place, ready_at, transferred_at, created_at, created_by) "
                "VALUES ('d', 'p', 'RC9', 'acute', 'luton', '2026-01-30 10:00:00', '2026-02-03 11:00:00', '2026-01-30', 'x')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO dtoc_intervals (episode_id, effective_at, reason, responsible, recorded_at, recorded_by) VALUES ('d', NULL, 'E', 'nhs', '2026-01-30', 'x')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO dtoc_intervals (episode_id, effective_at, reason, responsible, recorded_at, recorded_by) VALUES ('d', '2026-02-01 09:00:00', 'Di', 'nhs', '2026-02-01', 'x')"
            )
        )
    upgrade(url)
    with engine.connect() as conn:
        # 23:30 UTC on 31 March is 00:30 BST on 1 April: an April event
        assert conn.execute(text("SELECT local_month FROM transition_events")).scalar() == "2026-04"
        days = conn.execute(text("SELECT local_month, reason FROM dtoc_days ORDER BY day")).all()
    assert [tuple(d) for d in days] == [
        ("2026-01", "E"),
        ("2026-02", "E"),
        ("2026-02", "Di"),
        ("2026-02", "Di"),
    ]
    engine.dispose()
