"""`POST /api/v1/navigations` takes an `Idempotency-Key` (issue 18 §4: "clients that retry with
the same Idempotency-Key end with exactly one record"; found by the node-kill fault test, where
a navigation whose answer was lost with its node was recorded twice on retry). The same rules
as referrals: the IETF draft "The Idempotency-Key HTTP Header Field" and BaRS's X-Request-Id."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from navigator.navigation.models import Navigation
from tests.navigation.conftest import MONDAY_10, Auth

CALL: dict[str, Any] = {
    "caller_role": "nhs111",
    "need": "fall_no_injury",
    "age": 84,
    "sex": "female",
    "postcode": "MK42 9DJ",
    "at": MONDAY_10,
}


def _send(client: FlaskClient, auth: Auth, key: str | None, body: dict[str, Any] = CALL) -> Any:
    headers = auth["integrator"] | ({"Idempotency-Key": key} if key is not None else {})
    return client.post("/api/v1/navigations", json=body, headers=headers)


def _count(session: Session) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(Navigation)) or 0)


def test_a_retry_with_the_same_key_and_body_returns_the_first_navigation(
    client: FlaskClient, auth: Auth, blmk: None, session: Session
) -> None:
    first = _send(client, auth, "call-0001")
    again = _send(client, auth, "call-0001")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["id"] == first.json["id"]
    assert again.json["recommendation"] == first.json["recommendation"]
    assert again.headers["Location"] == first.headers["Location"]
    assert _count(session) == 1


def test_the_same_key_with_another_body_is_409_and_writes_nothing(
    client: FlaskClient, auth: Auth, blmk: None, session: Session
) -> None:
    assert _send(client, auth, "call-0002").status_code == 201
    other = _send(client, auth, "call-0002", CALL | {"age": 30})
    assert other.status_code == 409
    assert other.json["code"] == "idempotency_key_reused"
    assert _count(session) == 1


def test_keys_belong_to_their_client_and_calls_without_one_are_each_recorded(
    client: FlaskClient, auth: Auth, blmk: None, session: Session
) -> None:
    assert _send(client, auth, "shared-key").status_code == 201
    navigator = client.post(
        "/api/v1/navigations",
        json=CALL,
        headers=auth["navigator"] | {"Idempotency-Key": "shared-key"},
    )
    assert navigator.status_code == 201  # another client's key space
    assert _send(client, auth, None).status_code == 201
    assert _send(client, auth, None).status_code == 201
    assert _count(session) == 4


def test_an_empty_or_overlong_key_is_400_naming_the_header(
    client: FlaskClient, auth: Auth, blmk: None
) -> None:
    for key in ("", "k" * 201):
        response = _send(client, auth, key)
        assert response.status_code == 400
        assert response.json["errors"] == {"Idempotency-Key": ["1 to 200 characters"]}


def test_concurrent_sends_of_one_key_make_exactly_one_navigation(
    app: Flask, auth: Auth, blmk: None, session: Session
) -> None:
    """Runs on SQLite and on PostgreSQL (NAVIGATOR_TEST_DATABASE_URL)."""

    def send(_: int) -> tuple[int, str]:
        response = _send(app.test_client(), auth, "raced-key")
        return response.status_code, response.json["id"]

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(send, range(12)))
    assert [status for status, _ in results].count(201) == 1
    assert {status for status, _ in results} <= {200, 201}
    assert len({ident for _, ident in results}) == 1
    assert _count(session) == 1
