"""Admins manage console accounts: add a user with a role, unlock a locked-out one."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from navigator.auth.login import MAX_FAILED_LOGINS
from tests.builders import console_user
from tests.console.conftest import post_form


def test_admin_adds_a_user_who_can_then_sign_in(
    sign_in: Callable[[str], FlaskClient], app: Flask
) -> None:
    admin = sign_in("admin")
    short = post_form(
        admin, "/users", {"email": "new@nhs.example", "role": "navigator", "password": "short"}
    )
    assert short.status_code == 422 and 'href="#password"' in short.text
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
