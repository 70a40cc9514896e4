"""Issue 12 §5: a signed Twilio webhook whose `MessageSid` is longer than its column (40)
was a 500 on PostgreSQL (`StringDataRightTruncation`). Each field is checked against the
column it is written to: too long is 422 naming the field, and nothing is recorded. Run with
NAVIGATOR_TEST_DATABASE_URL to prove it on PostgreSQL (SQLite keeps any length)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from navigator.core.errors import PROBLEM_JSON
from navigator.core.extensions import db
from navigator.sms.models import SmsReply

TOKEN = "test-twilio-token"


@pytest.fixture
def twilio_token(app: Flask, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", TOKEN)
    return TOKEN


def post_signed(client: FlaskClient, app: Flask, path: str, params: dict[str, str]):  # type: ignore[no-untyped-def]
    url = app.config["PUBLIC_BASE_URL"] + path
    signature = RequestValidator(TOKEN).compute_signature(url, params)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature})


def replies(app: Flask) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(SmsReply)) or 0
        db.session.remove()
    return count


@pytest.mark.usefixtures("twilio_token")
@pytest.mark.parametrize(
    ("field", "value"),
    [("MessageSid", "SM" + "a" * 39), ("SmsSid", "SM" + "a" * 39), ("From", "+44" + "7" * 98)],
)
def test_an_inbound_field_longer_than_its_column_is_422_naming_it(
    app: Flask, client: FlaskClient, field: str, value: str
) -> None:
    params = {"MessageSid": "SM" + "1" * 32, "From": "+447700900101", "Body": "2"}
    if field == "SmsSid":
        del params["MessageSid"]
    params[field] = value
    response = post_signed(client, app, "/webhooks/twilio/inbound", params)
    assert response.status_code == 422
    assert response.mimetype == PROBLEM_JSON
    assert set(response.json["errors"]) == {"From" if field == "From" else "MessageSid"}
    assert replies(app) == 0


@pytest.mark.usefixtures("twilio_token")
def test_an_inbound_text_at_the_limits_is_recorded(app: Flask, client: FlaskClient) -> None:
    """40 characters of SID fit; a long body is kept (cut to 1600), never refused."""
    params = {"MessageSid": "SM" + "b" * 38, "From": "+447700900101", "Body": "x" * 5000}
    response = post_signed(client, app, "/webhooks/twilio/inbound", params)
    assert response.status_code == 200, response.text
    assert replies(app) == 1


@pytest.mark.usefixtures("twilio_token")
@pytest.mark.parametrize(
    ("field", "value"), [("MessageSid", "SM" + "c" * 39), ("ErrorCode", "3" * 21)]
)
def test_a_status_callback_field_longer_than_its_column_is_422_naming_it(
    app: Flask, client: FlaskClient, field: str, value: str
) -> None:
    params = {"MessageSid": "SM" + "1" * 32, "MessageStatus": "undelivered", field: value}
    response = post_signed(client, app, "/webhooks/twilio/status", params)
    assert response.status_code == 422
    assert set(response.json["errors"]) == {field}
