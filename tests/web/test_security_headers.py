"""Security headers on every kind of response: console pages, API answers and API errors, the
open ORUK feed, the Twilio webhooks and the API reference page (issue 12 §1; OWASP ASVS 5.0
V3.4.3 CSP with `object-src 'none'` and `base-uri 'none'`, V3.4.4 `nosniff`, V3.4.5 referrer
policy, V3.4.6 `frame-ancestors`)."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from navigator.core.extensions import db
from tests.builders import console_user, load_directory, service
from tests.console.conftest import post_form

Auth = dict[str, dict[str, str]]


def policy(response: TestResponse) -> dict[str, list[str]]:
    """The Content-Security-Policy as {directive: [sources]}."""
    header = response.headers.get("Content-Security-Policy", "")
    assert header, f"no Content-Security-Policy on {response.request.path}"
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        if words := part.split():
            directives[words[0]] = words[1:]
    return directives


def assert_common(response: TestResponse) -> dict[str, list[str]]:
    """nosniff, no referrer, and a CSP that cannot be framed, re-based or load plugins."""
    path = response.request.path
    assert response.headers.get("X-Content-Type-Options") == "nosniff", path
    assert response.headers.get("Referrer-Policy") == "no-referrer", path
    csp = policy(response)
    assert csp.get("frame-ancestors") == ["'none'"], path
    assert csp.get("base-uri") == ["'none'"], path
    assert csp.get("object-src") == ["'none'"], path
    for sources in csp.values():
        assert "'unsafe-inline'" not in sources and "'unsafe-eval'" not in sources, path
    return csp


def test_console_pages_signed_out_and_in(app: Flask, client: FlaskClient) -> None:
    sign_in_page = client.get("/login")
    csp = assert_common(sign_in_page)
    assert csp["form-action"] == ["'self'"]
    assert sign_in_page.headers["Cache-Control"] == "no-store"
    nonce = re.search(r'<script type="module" nonce="([^"]+)"', sign_in_page.text)
    assert nonce and csp["script-src"] == ["'self'", f"'nonce-{nonce.group(1)}'"]
    with app.app_context():
        load_directory(services=[service(id="ucr")])
        email, password = console_user(role="admin")
        db.session.remove()
    post_form(client, "/login", {"email": email, "password": password})
    for path in ("/directory", "/directory/ucr", "/directory/no-such-service"):
        response = client.get(path)
        assert response.mimetype == "text/html", path
        assert assert_common(response)["form-action"] == ["'self'"]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/health", 200),  # an answer
        ("/api/v1/patients/some-id", 401),  # an error: no API key
        ("/api/v1/no-such-thing", 404),  # an error from routing
        ("/oruk/services", 200),  # the open feed
        ("/oruk/services/no-such-service", 404),
    ],
)
def test_api_and_feed_responses(client: FlaskClient, path: str, status: int) -> None:
    response = client.get(path)
    assert response.status_code == status
    csp = assert_common(response)
    assert csp["default-src"] == ["'none'"]  # JSON loads nothing


def test_an_api_error_with_a_key(client: FlaskClient, auth: Auth) -> None:
    response = client.post("/api/v1/navigations", json={}, headers=auth["integrator"])
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert_common(response)


def test_twilio_webhooks(client: FlaskClient) -> None:
    response = client.post("/webhooks/twilio/inbound", data={"Body": "hello"})
    assert response.status_code == 403  # unsigned
    assert_common(response)


def test_the_api_reference_page(client: FlaskClient) -> None:
    """Its one inline stylesheet runs by nonce; nothing else may load, submit or frame it."""
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    csp = assert_common(response)
    style = re.search(r'<style nonce="([^"]+)">', response.text)
    assert style and csp["style-src"] == [f"'nonce-{style.group(1)}'"]
    assert csp["default-src"] == ["'none'"] and csp["form-action"] == ["'none'"]
    assert "script-src" not in csp  # falls back to default-src 'none'
    again = policy(client.get("/api/v1/docs"))
    assert again["style-src"] != csp["style-src"]  # a fresh nonce for each response
