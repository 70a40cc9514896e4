"""Issue 12 §5: console text longer than its column was a 500 on PostgreSQL
(`StringDataRightTruncation`): a caller's name or phone on a new call, a new user's email,
and any call taken by a user whose email is long (the audit `actor` is `user:id:email`).
Too long is now a form error naming the field; run with NAVIGATOR_TEST_DATABASE_URL to
prove these on PostgreSQL (SQLite keeps any length)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from navigator.auth.models import User
from navigator.core.extensions import db
from navigator.navigation.models import Navigation
from navigator.patients.models import AuditEvent
from tests.builders import console_user
from tests.console.calls.conftest import FALL, count
from tests.console.conftest import post_form

pytestmark = pytest.mark.usefixtures("bedford_directory")

SignIn = Callable[[str], FlaskClient]


def long_email(length: int) -> str:
    domain = "@nhs.net"
    return "a" * (length - len(domain)) + domain


@pytest.mark.parametrize(("field", "limit"), [("caller_name", 200), ("caller_phone", 40)])
def test_a_caller_detail_longer_than_its_column_is_a_form_error(
    sign_in: SignIn, app: Flask, field: str, limit: int
) -> None:
    client = sign_in("navigator")
    too_long = post_form(client, "/calls/new", FALL | {field: "7" * (limit + 1)})
    assert too_long.status_code == 422
    assert f'id="{field.replace("_", "-")}-error"' in too_long.text
    assert f"must be {limit} characters or fewer" in too_long.text
    with app.app_context():
        assert count(Navigation) == 0
    fits = post_form(client, "/calls/new", FALL | {field: "7" * limit})
    assert fits.status_code == 302, fits.text


def test_a_red_flag_call_with_too_long_a_caller_name_is_recorded_without_it(
    sign_in: SignIn, app: Flask
) -> None:
    """Issue 13 §1 still holds: a red flag is never held up by a form error."""
    client = sign_in("navigator")
    response = post_form(
        client, "/calls/new", FALL | {"red_flags": "chest_pain", "caller_name": "n" * 201}
    )
    assert response.status_code == 302
    with app.app_context():
        navigation = db.session.scalar(select(Navigation))
        assert navigation is not None and navigation.caller_name is None
        assert "caller_name" in {w["field"] for w in navigation.result["warnings"]}


def test_a_new_users_email_longer_than_254_is_a_form_error(sign_in: SignIn, app: Flask) -> None:
    client = sign_in("admin")
    data = {"role": "navigator", "password": "a-long-test-password"}
    too_long = post_form(client, "/users", data | {"email": long_email(255)}, page="/users")
    assert too_long.status_code == 422
    assert 'id="email-error"' in too_long.text
    assert "at most 254 characters" in too_long.text
    fits = post_form(client, "/users", data | {"email": long_email(254)}, page="/users")
    assert fits.status_code == 302, fits.text
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == long_email(254))) is not None


def test_a_user_with_a_254_character_email_can_take_a_call(app: Flask, client: FlaskClient) -> None:
    """The audit actor and `created_by` are `user:id:email`, cut to their 200 characters."""
    with app.app_context():
        email, password = console_user(role="navigator", email=long_email(254))
        db.session.remove()
    assert post_form(client, "/login", {"email": email, "password": password}).status_code == 302
    response = post_form(client, "/calls/new", FALL)
    assert response.status_code == 302, response.text
    with app.app_context():
        navigation = db.session.scalar(select(Navigation))
        assert navigation is not None and len(navigation.created_by) == 200
        assert navigation.created_by.startswith("user:")
        actors = db.session.scalars(select(AuditEvent.actor)).all()
    assert actors and all(len(actor) <= 200 for actor in actors)
