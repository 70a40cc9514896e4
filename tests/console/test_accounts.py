"""Signing in: argon2 passwords, lockout, CSRF, idle timeout, and sessions ended by a new password."""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from navigator.auth.login import MAX_FAILED_LOGINS
from navigator.auth.models import User
from navigator.auth.passwords import set_password
from navigator.db import transaction
from navigator.extensions import db
from tests.builders import console_user
from tests.console.conftest import csrf_token, post_form


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        email, _ = console_user(role="navigator")
    response = post_form(client, "/login", {"email": email, "password": "not-the-password"})
    assert response.status_code == 401
    assert "email address or password is not right" in response.text
    unknown = post_form(client, "/login", {"email": "nobody@x.example", "password": "whatever1"})
    assert unknown.status_code == 401
    assert client.get("/calls/new").status_code == 302  # still signed out


def test_right_password_signs_in_and_logout_signs_out(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        email, password = console_user(role="navigator")
    response = post_form(client, "/login", {"email": email.upper(), "password": password})
    assert response.status_code == 302
    assert response.location.endswith("/calls/new")
    assert client.get("/calls/new").status_code == 200
    post_form(client, "/logout", {}, page="/calls/new")
    assert client.get("/calls/new").status_code == 302


def test_account_locks_after_repeated_failures_even_for_the_right_password(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        email, password = console_user(role="navigator")
    for _ in range(MAX_FAILED_LOGINS):
        post_form(client, "/login", {"email": email, "password": "wrong-password"})
    locked = post_form(client, "/login", {"email": email, "password": password})
    assert locked.status_code == 401
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        assert user is not None and user.locked_until is not None


def test_forms_without_a_csrf_token_are_refused_and_change_nothing(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        email, password = console_user(role="navigator")
    assert client.post("/login", data={"email": email, "password": password}).status_code == 400
    assert client.get("/calls/new").status_code == 302


def test_every_console_page_needs_sign_in(client: FlaskClient) -> None:
    for path in ("/calls/new", "/calls", "/referrals", "/directory", "/dtoc", "/dashboard"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert "/login" in response.location


def test_idle_session_is_signed_out(sign_in: Callable[[str], FlaskClient], app: Flask) -> None:
    client = sign_in("navigator")
    with client.session_transaction() as session:
        session["seen"] = time.time() - app.config["CONSOLE_IDLE_MINUTES"] * 60 - 5
    response = client.get("/calls")
    assert response.status_code == 302 and "/login" in response.location
    assert client.get("/calls").status_code == 302


def test_changing_the_password_ends_existing_sessions(
    sign_in: Callable[[str], FlaskClient], app: Flask
) -> None:
    client = sign_in("navigator")
    with app.app_context(), transaction(db.session):
        user = db.session.scalar(select(User).where(User.role == "navigator"))
        assert user is not None
        set_password(user, "another-long-password")
    assert client.get("/calls").status_code == 302


def test_sign_in_never_redirects_off_site(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        email, password = console_user(role="navigator")
    token = csrf_token(client, "/login")
    response = client.post(
        "/login?next=//evil.example/x",
        data={"csrf_token": token, "email": email, "password": password},
    )
    assert response.location.endswith("/calls/new")


def test_console_pages_are_not_cached_or_framed(sign_in: Callable[[str], FlaskClient]) -> None:
    response = sign_in("navigator").get("/calls")
    assert response.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
