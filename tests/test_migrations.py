"""The migrations build exactly the schema the models describe, with one readable head."""

from __future__ import annotations

import re
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from navigator.migrate import alembic_config
from navigator.models import Base
from tests.conftest import PROJECT_ROOT


def test_migrated_database_matches_the_models(database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()


def test_one_head_and_sequential_readable_names(database_url: str) -> None:
    scripts = ScriptDirectory.from_config(alembic_config(database_url))
    assert len(scripts.get_heads()) == 1
    names = sorted(p.name for p in Path(PROJECT_ROOT / "migrations" / "versions").glob("*.py"))
    for number, name in enumerate(names, start=1):
        assert re.fullmatch(rf"{number:04d}_[a-z0-9_]+\.py", name), name
