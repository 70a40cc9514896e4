"""Console helpers: CSRF tokens read from the real pages and sign-in through the real form."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from navigator.core.extensions import db
from tests.builders import console_user, load_directory, organisation, service

# The live system (app on a real port, fake Twilio, real twilio client) from the SMS tests.
from tests.sms.conftest import follow_ups_without_quiet_hours, live, live_app  # noqa: F401

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str) -> str:
    page = client.get(path)
    match = TOKEN.search(page.text)
    assert match, f"no CSRF token on {path} ({page.status_code})"
    return match.group(1)


def post_form(client: FlaskClient, path: str, data: dict[str, object], *, page: str | None = None):
    """POST a form the way a browser would: with the CSRF token from the page it is on."""
    return client.post(path, data={"csrf_token": csrf_token(client, page or path), **data})


def form_controls(page: str, action: str) -> set[str]:
    """The names of the controls (inputs, selects, text areas) of the form on `page` (HTML)
    that submits to `action`."""
    form = re.search(rf'<form[^>]*action="{re.escape(action)}"[^>]*>(.*?)</form>', page, re.S)
    assert form, f"no form submitting to {action}"
    return set(re.findall(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"', form.group(1)))


def session_cookie(client: FlaskClient) -> str:
    """The console session cookie a client holds now, as an attacker would copy it."""
    cookie = client.get_cookie("session")
    assert cookie is not None, "no session cookie"
    return cookie.value


def replay(app: Flask, cookie: str) -> FlaskClient:
    """A fresh client (another browser) sending a copied session cookie."""
    other = app.test_client()
    other.set_cookie("session", cookie)
    return other


@pytest.fixture
def sign_in(app: Flask, client: FlaskClient) -> Callable[[str], FlaskClient]:
    def do(role: str) -> FlaskClient:
        with app.app_context():
            email, password = console_user(role=role)
            db.session.remove()
        response = post_form(client, "/login", {"email": email, "password": password})
        assert response.status_code == 302, response.text
        return client

    return do


@pytest.fixture
def bedford_directory(app: Flask) -> None:
    """Two urgent community response services and a care home, all covering Bedford."""
    with app.app_context():
        load_directory(
            services=[
                service(id="ucr-one", name="UCR One"),
                service(id="ucr-two", name="UCR Two", postcode="MK40 1AA", lat=52.2, lng=-0.5),
                service(
                    id="care-home-a",
                    service_type="care_home",
                    sector="social_care",
                    needs=[],
                ),
            ],
            organisations=[organisation()],
        )
        db.session.remove()
