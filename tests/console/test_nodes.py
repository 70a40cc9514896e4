"""Console sessions and the failed sign-in throttle across nodes (issue 18 §1: "sign in
through node A, then use the session through node B"). A node here is a second app object
over the same database with the same SECRET_KEY, as a second gunicorn node is; the same is
proved through real processes behind HAProxy in tests/cluster/test_nodes.py."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from flask import Flask

from navigator import create_app
from navigator.auth.throttle import API_KEY, CONSOLE
from navigator.core.extensions import db
from tests.builders import console_user
from tests.console.conftest import post_form, replay, session_cookie

THROTTLE = {API_KEY: (20, 300), CONSOLE: (3, 300)}


def _node(app: Flask, secret_key: str) -> Flask:
    os.environ.setdefault("NAVIGATOR_INSTANCE_DIR", app.instance_path)
    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "SECRET_KEY": secret_key,
            "PUBLIC_BASE_URL": app.config["PUBLIC_BASE_URL"],
            "AUTH_THROTTLE": THROTTLE,
        }
    )


@pytest.fixture
def node_b(app: Flask) -> Iterator[Flask]:
    """Another node sharing node A's (the `app` fixture's) database and SECRET_KEY."""
    other = _node(app, app.config["SECRET_KEY"])
    yield other
    with other.app_context():
        db.engine.dispose()


def test_a_session_started_on_node_a_is_used_on_node_b(app: Flask, node_b: Flask) -> None:
    with app.app_context():
        email, password = console_user(role="navigator")
    node_a = app.test_client()
    assert post_form(node_a, "/login", {"email": email, "password": password}).status_code == 302
    on_b = replay(node_b, session_cookie(node_a))
    page = on_b.get("/calls")
    assert page.status_code == 200, page.status_code
    # A form served by node B posts back to node A: the CSRF token is signed with the same key.
    signed_out = post_form(on_b, "/logout", {}, page="/calls")
    assert signed_out.status_code == 302
    # Signing out on B ended the session in the database, so A refuses it too.
    assert replay(app, session_cookie(node_a)).get("/calls").status_code == 302


def test_a_node_with_another_secret_key_cannot_read_the_session(app: Flask) -> None:
    """Why the key must be shared (and why a per-node generated key is refused off SQLite)."""
    with app.app_context():
        email, password = console_user(role="navigator")
    node_a = app.test_client()
    assert post_form(node_a, "/login", {"email": email, "password": password}).status_code == 302
    stranger = _node(app, "another-nodes-own-key")
    try:
        assert replay(stranger, session_cookie(node_a)).get("/calls").status_code == 302
    finally:
        with stranger.app_context():
            db.engine.dispose()


def test_failed_sign_ins_on_node_a_throttle_node_b(
    app: Flask, node_b: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "AUTH_THROTTLE", THROTTLE)
    node_a, on_b = app.test_client(), node_b.test_client()
    for client in (node_a, on_b):
        client.environ_base["REMOTE_ADDR"] = "203.0.113.77"
    for n in range(3):
        guess = {"email": f"person{n}@nhs.example", "password": "Winter2026!"}
        assert post_form(node_a, "/login", guess).status_code == 401
    assert (
        post_form(on_b, "/login", {"email": "x@nhs.example", "password": "y" * 12}).status_code
        == 429
    )
