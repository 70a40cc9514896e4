"""The round trip of issue 16 §3, end to end with real parts: "BaRS referral in → referral
visible in the console → accepted there → servicerequest-response received by the fake sender,
exactly once, including when the sender is down for a while", then a cancellation.

Everything is the real thing: the published REFREQ01 (adapted as tests/fhir/bars_messages.py
adapts it, its source endpoint the fake sender's URL) POSTed to `/fhir/$process-message` with
an integrator key; the console signed into through its form, the referral accepted through
its status form with the page's CSRF token; the fake BaRS sender (navigator/bars/fake_sender.py)
listening on 127.0.0.1 and brought down and up; the scheduler's BaRS job
(`navigator.bars.worker:dispatch_job`) run as the scheduler runs it. Time is advanced past the
backoff by moving the message's `next_attempt_at` (the outbox's own clock is `utcnow`).
The cancellation is SERVREQ01 (revoked), adapted the same way, for a second referral.
Runs on SQLite and PostgreSQL (NAVIGATOR_TEST_DATABASE_URL).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from navigator.bars.fake_sender import FakeBarsSender
from navigator.bars.models import SCHEDULED, SENT, BarsOutboxMessage, BarsReferral
from navigator.bars.response_message import EVENT
from navigator.bars.shown import deliveries as responses_for
from navigator.core.db import transaction, utcnow
from navigator.core.extensions import db
from navigator.referrals.models import Referral
from tests.bars.test_round_trip import run_scheduler_job
from tests.builders import console_user, load_directory, organisation, service
from tests.console.test_bars_flags import section, text_of
from tests.fhir.bars_messages import (
    SR_ID,
    bars_headers,
    cancellation,
    referral,
    resource,
    with_new_ids,
)

Auth = dict[str, dict[str, str]]
URL = "/fhir/$process-message"
REQUEST_MESSAGE_ID = "c89a8895-56fe-41de-b20b-fab6efa99c99"  # REFREQ01's MessageHeader
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
RETRY_BASE = 60.0  # seconds: long enough that "later" is not "now" in this test


@pytest.fixture
def fake(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBarsSender]:
    with FakeBarsSender(host="127.0.0.1") as sender:
        monkeypatch.setitem(app.config, "BARS_SENDER_ENDPOINTS", (sender.endpoint,))
        monkeypatch.setitem(app.config, "BARS_RETRY_BASE_SECONDS", RETRY_BASE)
        monkeypatch.setitem(app.config, "BARS_RETRY_MAX_SECONDS", 600.0)
        monkeypatch.setitem(app.config, "BARS_HTTP_TIMEOUT_SECONDS", 2.0)
        yield sender


@pytest.fixture
def directory(app: Flask) -> None:
    with app.app_context():
        load_directory(
            organisations=[organisation(id="bh", ods_code="RC1")],
            services=[
                service(id="test-ed", organisation="bh", service_type="emergency_department")
            ],
        )
        db.session.remove()


@contextmanager
def database(app: Flask) -> Iterator[Session]:
    """A short look at the database in an app context of its own. No app context is held
    across the console's requests: a request run inside one shares its `g` (and Flask-WTF's
    cached CSRF token) with every other request, which a browser never does."""
    with app.app_context():
        try:
            yield db.session()
        finally:
            db.session.remove()


def from_fake(bundle: dict[str, Any], fake: FakeBarsSender) -> dict[str, Any]:
    bundle["entry"][0]["resource"]["source"]["endpoint"] = fake.endpoint
    return bundle


def send(client: FlaskClient, bundle: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    answer = client.post(URL, data=json.dumps(bundle), headers=headers)
    assert answer.status_code == 200, answer.text
    body = answer.get_json(force=True)
    Bundle.model_validate(body)
    return dict(body)


def console(app: Flask) -> FlaskClient:
    """A browser signed in as a navigator (who may see and update every referral) through
    the real sign-in form."""
    with app.app_context():
        email, password = console_user(role="navigator")
        db.session.remove()
    browser = app.test_client()
    signed_in = post_form(browser, "/login", {"email": email, "password": password})
    assert signed_in.status_code == 302, signed_in.text
    return browser


def post_form(
    browser: FlaskClient, path: str, data: dict[str, str], page: str | None = None
) -> TestResponse:
    shown = browser.get(page or path)
    token = TOKEN.search(shown.text)
    assert token, f"no CSRF token on {page or path}"
    return browser.post(path, data={"csrf_token": token.group(1), **data})


def outbox_row(app: Flask, referral_id: str) -> BarsOutboxMessage:
    with database(app) as session:
        row = session.scalars(
            select(BarsOutboxMessage).where(BarsOutboxMessage.referral_id == referral_id)
        ).one()
        session.expunge(row)
        return row


def status_of(app: Flask, referral_id: str) -> str:
    with database(app) as session:
        return session.get_one(Referral, referral_id).status


def responses(app: Flask, referral_id: str) -> list[Any]:
    with database(app) as session:
        return list(responses_for(session, referral_id))


def test_a_bars_referral_round_trip_through_the_console(
    app: Flask, client: FlaskClient, auth: Auth, directory: None, fake: FakeBarsSender
) -> None:
    # 1. The 111 referral arrives.
    headers = bars_headers(auth["integrator"])
    answer = send(client, from_fake(referral(), fake), headers)
    referral_id = resource(answer, "ServiceRequest")["id"]
    with database(app) as session:
        bars = session.get_one(BarsReferral, referral_id)
        assert bars.correlation_id == headers["X-Correlation-Id"]

    # 2. It is in the console, with its flags.
    browser = console(app)
    listed = browser.get("/referrals")
    assert listed.status_code == 200
    assert f"/referrals/{referral_id}" in listed.text
    page = browser.get(f"/referrals/{referral_id}")
    assert page.status_code == 200
    for shown in (
        "Child is cause for safeguarding concern (finding)",
        "Adjust for needle phobia",
        "Patient choice",
        "ADVICE GIVEN: If there are any new symptoms",
    ):
        assert shown in page.text, shown
    # Safeguarding first in the page, as the console promises.
    assert page.text.index("Child is cause for safeguarding") < page.text.index(
        "Adjust for needle phobia"
    )

    # 3. Accepted through the console's form.
    path = f"/referrals/{referral_id}"
    accepted = post_form(browser, f"{path}/status", {"status": "accepted"}, page=path)
    assert accepted.status_code == 302, accepted.text
    assert status_of(app, referral_id) == "accepted"
    assert fake.received() == []  # nothing is sent in the console's request

    # 4. The sender is down: nothing received, the message kept for later.
    fake.down()
    run_scheduler_job(app)
    assert fake.received() == []
    [state] = responses(app, referral_id)
    assert (state.referral_status, state.state, state.attempts) == ("accepted", SCHEDULED, 1)
    assert state.last_error == "ConnectionError"
    waiting = outbox_row(app, referral_id)
    assert waiting.next_attempt_at > utcnow() + timedelta(seconds=RETRY_BASE / 2)

    # Up again, but the retry is not due yet: still nothing sent, nothing attempted.
    fake.up()
    run_scheduler_job(app)
    assert (fake.received(), fake.attempts) == ([], 0)
    assert outbox_row(app, referral_id).attempts == 1

    # 5. Past the backoff: delivered, exactly once.
    with database(app) as session, transaction(session):
        session.execute(
            update(BarsOutboxMessage)
            .where(BarsOutboxMessage.referral_id == referral_id)
            .values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )
    run_scheduler_job(app)
    [got] = fake.received()
    assert got.correlation_id == headers["X-Correlation-Id"]
    assert got.request_id not in (headers["X-Request-Id"], headers["X-Correlation-Id"])
    assert str(uuid.UUID(got.request_id)) == got.request_id
    sent = Bundle.model_validate(got.bundle)
    assert sent.type == "message"
    header = got.bundle["entry"][0]["resource"]
    assert header["eventCoding"]["code"] == EVENT
    assert header["response"]["identifier"] == REQUEST_MESSAGE_ID
    focus = next(
        e["resource"]
        for e in got.bundle["entry"]
        if e["fullUrl"] == header["focus"][0]["reference"]
    )
    assert focus["id"] == SR_ID
    [state] = responses(app, referral_id)
    assert (state.state, state.attempts, state.last_error) == (SENT, 2, None)

    # Dispatching again sends nothing more.
    attempts = fake.attempts
    run_scheduler_job(app)
    run_scheduler_job(app)
    assert len(fake.received()) == 1
    assert fake.attempts == attempts == 1

    # 6. A cancellation (SERVREQ01, revoked) for another referral.
    other_sr = str(uuid.uuid4())
    second = send(
        client,
        with_new_ids(from_fake(referral(nhs_number=None), fake), other_sr),
        bars_headers(auth["integrator"]),
    )
    second_id = resource(second, "ServiceRequest")["id"]
    assert second_id != referral_id
    assert f"/referrals/{second_id}" in browser.get("/referrals").text
    cancel = with_new_ids(from_fake(cancellation(at=utcnow()), fake), other_sr)
    cancelled = send(client, cancel, bars_headers(auth["integrator"]))
    assert resource(cancelled, "ServiceRequest")["status"] == "revoked"
    assert status_of(app, second_id) == "cancelled"
    assert status_of(app, referral_id) == "accepted"
    page = browser.get(f"/referrals/{second_id}")
    assert page.status_code == 200
    assert re.search(r"\bCancelled\b|\bcancelled\b", page.text)
    assert f"/referrals/{second_id}" not in browser.get("/referrals").text  # no longer open
    # A cancellation goes nowhere: the sender cancelled it.
    run_scheduler_job(app)
    assert len(fake.received()) == 1


def test_a_failed_delivery_gives_the_senders_phone_from_the_message(
    app: Flask,
    client: FlaskClient,
    auth: Auth,
    directory: None,
    fake: FakeBarsSender,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Review of issue 16, finding 3: the phone number the referral came with
    (REFREQ01's `MessageHeader.source.contact`, `+44 (0113) 123 4567`) is kept, so when the
    status response cannot be delivered the referral page says whom to ring (before: the
    number was never written and the page had none to give)."""
    monkeypatch.setitem(app.config, "BARS_MAX_ATTEMPTS", 1)
    answer = send(client, from_fake(referral(), fake), bars_headers(auth["integrator"]))
    referral_id = resource(answer, "ServiceRequest")["id"]
    browser = console(app)
    path = f"/referrals/{referral_id}"
    accepted = post_form(browser, f"{path}/status", {"status": "accepted"}, page=path)
    assert accepted.status_code == 302, accepted.text
    fake.down()
    run_scheduler_job(app)
    [state] = responses(app, referral_id)
    assert state.state == "failed"
    page = browser.get(path).text
    line = text_of(section(page, "bars-deliveries"))
    assert "Emergency service has not been told – phone them on +44 (0113) 123 4567." in line
