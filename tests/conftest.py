"""Test fixtures: one migrated database per run (SQLite, or the PostgreSQL server named by
NAVIGATOR_TEST_DATABASE_URL), emptied before each test; an app, a client and API keys."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from navigator import create_app
from navigator.core.extensions import db
from navigator.core.migrations import upgrade
from navigator.directory import index as directory_index
from navigator.models import Base
from tests.builders import api_key_for

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("NAVIGATOR_TEST_DATABASE_URL")
    if not url:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'navigator-test.db'}"
    upgrade(url)  # the real migrations, so tests also prove them
    return url


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    os.environ.setdefault("NAVIGATOR_INSTANCE_DIR", str(tmp_path_factory.mktemp("instance")))
    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test-only-secret",
            "PUBLIC_BASE_URL": "http://localhost",
        }
    )


def _empty_all_tables(url: str) -> None:
    engine = create_engine(url)
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - names from our metadata
    engine.dispose()


@pytest.fixture(autouse=True)
def _clean_database(database_url: str) -> None:
    _empty_all_tables(database_url)
    directory_index._cache.clear()


@pytest.fixture
def app_ctx(app: Flask) -> Iterator[Flask]:
    with app.app_context():
        yield app
        db.session.remove()


@pytest.fixture
def session(app_ctx: Flask) -> Session:
    return db.session()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def is_postgres(database_url: str) -> bool:
    return database_url.startswith("postgresql")


@pytest.fixture
def auth(app: Flask) -> dict[str, dict[str, str]]:
    """Authorization headers for one API client of each role (the provider is RC9's)."""
    with app.app_context():
        headers = {
            role: {"Authorization": f"Bearer {api_key_for(role=role)}"}
            for role in ("integrator", "navigator", "admin")
        }
        headers["provider"] = {
            "Authorization": f"Bearer {api_key_for(role='provider', organisation_ods='RC9')}"
        }
        db.session.remove()
    return headers
