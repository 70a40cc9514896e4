"""Bad API keys are throttled per source address (`navigator.web.auth`): after too many from one
address, 429 problem+json with `Retry-After`; other addresses, and valid keys, are untouched;
the count is kept in the database, so two app objects (two gunicorn workers or nodes) over one
database share it. Issue 12 §3; OWASP ASVS 2.2.1; RFC 6585 §4 (429) and RFC 9110 §10.2.3
(`Retry-After` in seconds)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from navigator import create_app
from navigator.auth.throttle import API_KEY, CONSOLE

LIMIT, WINDOW = 3, 300
ATTACKER, OTHER = "203.0.113.66", "198.51.100.20"
BAD = {"Authorization": "Bearer nav_0123456789ab_not-the-secret"}


@pytest.fixture(autouse=True)
def _low_limit(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(
        app.config, "AUTH_THROTTLE", {API_KEY: (LIMIT, WINDOW), CONSOLE: (LIMIT, WINDOW)}
    )


def _get(client: FlaskClient, source: str, headers: dict[str, str]) -> TestResponse:
    return client.get("/api/v1/services", headers=headers, environ_base={"REMOTE_ADDR": source})


def test_too_many_bad_keys_from_one_address_get_429_with_retry_after(
    client: FlaskClient,
) -> None:
    for _ in range(LIMIT):
        assert _get(client, ATTACKER, BAD).status_code == 401
    throttled = _get(client, ATTACKER, BAD)
    assert throttled.status_code == 429
    assert throttled.mimetype == "application/problem+json"
    assert throttled.json["status"] == 429 and throttled.json["title"] == "Too Many Requests"
    assert throttled.json["instance"] == "/api/v1/services"
    wait = int(throttled.headers["Retry-After"])
    assert 0 < wait <= WINDOW
    assert f"{wait} seconds" in throttled.json["detail"]
    # Malformed keys count too: anything presented as a key and refused.
    assert _get(client, ATTACKER, {"Authorization": "Bearer garbage"}).status_code == 429


def test_other_addresses_and_valid_keys_are_never_throttled(
    client: FlaskClient, auth: dict[str, dict[str, str]]
) -> None:
    for _ in range(LIMIT + 2):
        _get(client, ATTACKER, BAD)
    assert _get(client, ATTACKER, BAD).status_code == 429
    assert _get(client, OTHER, BAD).status_code == 401  # another address: its own count
    assert _get(client, OTHER, auth["integrator"]).status_code == 200
    # A valid key is checked before the throttle: from the throttled address it still works
    # (keys are unguessable, so this teaches a guesser nothing; see refuse_bad_key).
    assert _get(client, ATTACKER, auth["navigator"]).status_code == 200


def test_a_missing_key_is_not_counted_as_a_failure(client: FlaskClient) -> None:
    for _ in range(LIMIT + 2):
        assert _get(client, ATTACKER, {}).status_code == 401
    assert _get(client, ATTACKER, BAD).status_code == 401


@pytest.fixture
def second_app(app: Flask, database_url: str) -> Iterator[Flask]:
    """Another app object over the same database, as another gunicorn worker or node is."""
    os.environ.setdefault("NAVIGATOR_INSTANCE_DIR", app.instance_path)
    other = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test-only-secret",
            "PUBLIC_BASE_URL": "http://localhost",
            "AUTH_THROTTLE": {API_KEY: (LIMIT, WINDOW), CONSOLE: (LIMIT, WINDOW)},
        }
    )
    yield other
    with other.app_context():
        other.extensions["sqlalchemy"].engines[None].dispose()


def test_the_count_is_shared_between_app_objects_over_one_database(
    client: FlaskClient, second_app: Flask
) -> None:
    other = second_app.test_client()
    assert _get(client, ATTACKER, BAD).status_code == 401
    assert _get(other, ATTACKER, BAD).status_code == 401
    assert _get(client, ATTACKER, BAD).status_code == 401
    # Three failures across the two: both now refuse this address.
    assert _get(other, ATTACKER, BAD).status_code == 429
    assert _get(client, ATTACKER, BAD).status_code == 429
    assert _get(other, OTHER, BAD).status_code == 401
