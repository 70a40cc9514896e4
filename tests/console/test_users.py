"""Admins manage console accounts: add a user with a role, unlock a locked-out one, set a new
password. Unlocking and a new password end every session the user has: a copied cookie gets
the sign-in page (issue 12 §3; OWASP ASVS 3.3.3/3.3.4 terminate sessions on credential change
and by an administrator)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from navigator.auth.login import MAX_FAILED_LOGINS
from navigator.auth.models import ConsoleSession, User
from navigator.core.extensions import db
from tests.builders import console_user
from tests.console.conftest import post_form, replay, session_cookie


def _ended_reasons(app: Flask, email: str) -> list[str | None]:
    """Why each of the user's console sessions ended (None: still live), oldest first."""
    with app.app_context():
        rows = db.session.scalars(
            select(ConsoleSession)
            .where(ConsoleSession.user_id == _user_id(email))
            .order_by(ConsoleSession.created_at)
        )
        reasons = [row.ended_reason for row in rows]
        db.session.remove()
    return reasons


def _user_id(email: str) -> int:
    user = db.session.scalar(select(User).where(User.email == email))
    assert user is not None
    return user.id


def test_admin_adds_a_user_who_can_then_sign_in(
    sign_in: Callable[[str], FlaskClient], app: Flask
) -> None:
    admin = sign_in("admin")
    short = post_form(
        admin, "/users", {"email": "new@nhs.example", "role": "navigator", "password": "short"}
    )
    assert short.status_code == 422 and 'href="#password"' in short.text
    # An impossible address is refused, not stored (fresh-eyes review: `<b>x</b>"'&@…` was).
    impossible = post_form(
        admin,
        "/users",
        {"email": "<b>x</b>\"'&@example.com", "role": "navigator", "password": "a-good-password"},
    )
    assert impossible.status_code == 422 and "Enter an email address" in impossible.text
    added = post_form(
        admin,
        "/users",
        {"email": "New@nhs.example", "role": "supervisor", "password": "a-good-first-password"},
    )
    assert added.status_code == 302
    assert "new@nhs.example" in admin.get("/users").text
    again = post_form(
        admin,
        "/users",
        {"email": "new@nhs.example", "role": "navigator", "password": "another-password"},
    )
    assert again.status_code == 422 and "already exists" in again.text
    fresh = app.test_client()
    signed = post_form(
        fresh, "/login", {"email": "new@nhs.example", "password": "a-good-first-password"}
    )
    assert signed.status_code == 302
    assert fresh.get("/dashboard").status_code == 200  # a supervisor


def test_admin_unlocks_a_locked_out_user(sign_in: Callable[[str], FlaskClient], app: Flask) -> None:
    with app.app_context():
        email, password = console_user(role="navigator", email="locked@nhs.example")
    other = app.test_client()
    for _ in range(MAX_FAILED_LOGINS):
        post_form(other, "/login", {"email": email, "password": "wrong-password"})
    assert post_form(other, "/login", {"email": email, "password": password}).status_code == 401
    admin = sign_in("admin")
    page = admin.get("/users").text
    assert "Locked until" in page
    user_id = page.split("/users/")[1].split("/unlock")[0]
    post_form(admin, f"/users/{user_id}/unlock", {}, page="/users")
    assert post_form(other, "/login", {"email": email, "password": password}).status_code == 302


def test_only_admins_manage_users(sign_in: Callable[[str], FlaskClient]) -> None:
    supervisor = sign_in("supervisor")
    assert supervisor.get("/users").status_code == 403
    refused = post_form(
        supervisor,
        "/users",
        {"email": "x@nhs.example", "role": "admin", "password": "a-long-password"},
        page="/calls",
    )
    assert refused.status_code == 403


def _signed_in_elsewhere(app: Flask, email: str, password: str) -> str:
    """Sign the user in from their own browser; return that browser's session cookie."""
    browser = app.test_client()
    assert post_form(browser, "/login", {"email": email, "password": password}).status_code == 302
    assert browser.get("/calls").status_code == 200
    return session_cookie(browser)


def test_unlocking_signs_the_user_out_everywhere(
    sign_in: Callable[[str], FlaskClient], app: Flask
) -> None:
    with app.app_context():
        email, password = console_user(role="navigator", email="someone@nhs.example")
    cookies = [_signed_in_elsewhere(app, email, password) for _ in range(2)]
    admin = sign_in("admin")
    with app.app_context():
        user_id = str(_user_id(email))
        db.session.remove()
    response = post_form(admin, f"/users/{user_id}/unlock", {}, page="/users")
    assert response.status_code == 302
    for cookie in cookies:
        replayed = replay(app, cookie).get("/calls")
        assert replayed.status_code == 302 and "/login" in replayed.location
    assert _ended_reasons(app, email) == ["unlocked", "unlocked"]
    assert admin.get("/users").status_code == 200  # the admin's own session is untouched


def test_admin_sets_a_new_password_and_the_old_sessions_end(
    sign_in: Callable[[str], FlaskClient], app: Flask
) -> None:
    with app.app_context():
        email, password = console_user(role="navigator", email="forgot@nhs.example")
    cookie = _signed_in_elsewhere(app, email, password)
    admin = sign_in("admin")
    short = post_form(
        admin, "/users/password", {"reset_email": email, "new_password": "short"}, page="/users"
    )
    assert short.status_code == 422 and 'href="#new-password"' in short.text
    assert replay(app, cookie).get("/calls").status_code == 200  # nothing changed yet
    unknown = post_form(
        admin,
        "/users/password",
        {"reset_email": "nobody@nhs.example", "new_password": "a-new-long-password"},
        page="/users",
    )
    assert unknown.status_code == 422 and 'href="#reset-email"' in unknown.text
    done = post_form(
        admin,
        "/users/password",
        {"reset_email": email, "new_password": "a-new-long-password"},
        page="/users",
    )
    assert done.status_code == 302
    replayed = replay(app, cookie).get("/calls")
    assert replayed.status_code == 302 and "/login" in replayed.location
    assert _ended_reasons(app, email) == ["password_changed"]
    fresh = app.test_client()
    old = post_form(fresh, "/login", {"email": email, "password": password})
    assert old.status_code == 401
    new = post_form(fresh, "/login", {"email": email, "password": "a-new-long-password"})
    assert new.status_code == 302


def test_only_admins_set_passwords(sign_in: Callable[[str], FlaskClient], app: Flask) -> None:
    with app.app_context():
        email, _ = console_user(role="navigator", email="target@nhs.example")
    supervisor = sign_in("supervisor")
    refused = post_form(
        supervisor,
        "/users/password",
        {"reset_email": email, "new_password": "a-new-long-password"},
        page="/calls",
    )
    assert refused.status_code == 403
