"""A database outage is 503 with Retry-After, never 500 (issue 18 §4: "PostgreSQL restarted
under load: requests get 503 problem+json with Retry-After, never a 500"); a real bug stays a
500. The exceptions here are real ones, raised by the real drivers."""

from __future__ import annotations

import re
import socket
import sqlite3
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError, PendingRollbackError

from navigator import create_app
from navigator.core.outage import RETRY_AFTER_SECONDS, is_database_outage


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _raised(url: str, sql: str, **connect_args: object) -> DBAPIError:
    engine = create_engine(url, connect_args=connect_args)
    try:
        with engine.connect() as conn:
            conn.execute(text(sql))
    except DBAPIError as exc:
        return exc
    finally:
        engine.dispose()
    raise AssertionError("no error")


def test_postgresql_refusing_connections_is_an_outage() -> None:
    url = f"postgresql+psycopg://navigator@127.0.0.1:{_closed_port()}/navigator"
    assert is_database_outage(_raised(url, "SELECT 1", connect_timeout=2))


def test_a_locked_sqlite_database_is_an_outage_but_a_missing_table_is_a_bug(
    tmp_path: Path,
) -> None:
    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x INTEGER)")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        locked = _raised(f"sqlite:///{path}", "SELECT * FROM t", timeout=0)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert is_database_outage(locked)
    assert not is_database_outage(_raised(f"sqlite:///{path}", "SELECT * FROM no_such_table"))


def test_a_constraint_violation_is_not_an_outage() -> None:
    exc = IntegrityError("INSERT …", {}, sqlite3.IntegrityError("UNIQUE constraint failed"))
    assert not is_database_outage(exc)
    assert not is_database_outage(ValueError("not a database error"))


@pytest.fixture
def unreachable_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Flask:
    """navigator configured for a PostgreSQL server that is down (nothing listens there)."""
    monkeypatch.setenv("NAVIGATOR_INSTANCE_DIR", str(tmp_path))
    url = f"postgresql+psycopg://navigator@127.0.0.1:{_closed_port()}/navigator"
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "test-only-secret",
            "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 2}},
            "LOG_LEVEL": "WARNING",
        }
    )
    return app


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/services?postcode=MK42%209DJ"),
        ("POST", "/api/v1/navigations"),
        ("GET", "/oruk/services"),
    ],
)
def test_api_requests_during_an_outage_get_503_problem_json_with_retry_after(
    unreachable_app: Flask, method: str, path: str
) -> None:
    response = unreachable_app.test_client().open(
        path,
        method=method,
        headers={"Authorization": "Bearer not-checked-the-database-is-down"},
        json={} if method == "POST" else None,
    )
    assert response.status_code == 503, response.text
    assert response.mimetype == "application/problem+json"
    assert response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert response.json is not None and response.json["code"] == "database_unavailable"
    assert "127.0.0.1" not in response.text  # the driver's message (host, port) stays inside


def test_fhir_requests_during_an_outage_get_a_transient_operation_outcome(
    unreachable_app: Flask,
) -> None:
    response = unreachable_app.test_client().get(
        "/fhir/HealthcareService", headers={"Authorization": "Bearer x"}
    )
    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    body = response.json
    assert body is not None and body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["code"] == "transient"


def test_the_console_during_an_outage_answers_503_not_500(unreachable_app: Flask) -> None:
    client = unreachable_app.test_client()
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    response = client.post(
        "/login",
        data={"csrf_token": token.group(1), "email": "a@example.org", "password": "x" * 12},
    )
    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)


def test_the_health_check_says_unavailable(unreachable_app: Flask) -> None:
    response = unreachable_app.test_client().get("/api/v1/health")
    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "database": "unreachable"}


def test_an_error_raised_while_handling_an_outage_is_still_an_outage() -> None:
    """A connection lost mid-request can surface as another error (SQLAlchemy's
    PendingRollbackError after a failed flush): the chain is followed (issue 18 fault test:
    one 500 seen during a PostgreSQL restart)."""
    url = f"postgresql+psycopg://navigator@127.0.0.1:{_closed_port()}/navigator"
    refused = _raised(url, "SELECT 1", connect_timeout=2)
    follow_on = PendingRollbackError("This Session's transaction has been rolled back")
    follow_on.__cause__ = refused
    assert is_database_outage(follow_on)
    assert is_database_outage(refused.orig)  # the driver's own exception, unwrapped
    assert not is_database_outage(PendingRollbackError("rolled back after a constraint"))
