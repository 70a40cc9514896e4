"""The health check the load balancer polls (issue 18 §1): a node whose database connection
cannot write is out of rotation, so navigator never works from a lagging standby (H41)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from navigator import create_app
from navigator.core.extensions import db

pytestmark = pytest.mark.skipif(
    not os.environ.get("NAVIGATOR_TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="read-only connections (as to a hot standby) are PostgreSQL's",
)


@pytest.fixture
def standby_node(app: Flask) -> Iterator[Flask]:
    """A node whose every connection is read-only, as one to a hot standby is (PostgreSQL
    docs, "Hot Standby": transactions there are read-only; `transaction_read_only` is on)."""
    options = {"connect_args": {"options": "-c default_transaction_read_only=on"}}
    node = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "SQLALCHEMY_ENGINE_OPTIONS": app.config["SQLALCHEMY_ENGINE_OPTIONS"] | options,
            "SECRET_KEY": app.config["SECRET_KEY"],
        }
    )
    yield node
    with node.app_context():
        db.engine.dispose()


def test_a_node_connected_to_a_read_only_database_reports_itself_unavailable(
    client: FlaskClient, standby_node: Flask
) -> None:
    assert client.get("/api/v1/health").json == {"status": "ok", "database": "ok"}
    response = standby_node.test_client().get("/api/v1/health")
    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "database": "read_only"}


def test_a_write_refused_by_a_read_only_database_is_503_not_500(
    standby_node: Flask, auth: dict[str, dict[str, str]]
) -> None:
    call = {"caller_role": "public", "need": "fall_no_injury", "age": 80, "sex": "female"}
    response = standby_node.test_client().post(
        "/api/v1/navigations",
        json=call | {"postcode": "MK42 9DJ"},
        headers=auth["integrator"] | {"Idempotency-Key": "read-only-1"},
    )
    assert response.status_code == 503, response.text
    assert response.mimetype == "application/problem+json"
    assert response.headers["Retry-After"]
