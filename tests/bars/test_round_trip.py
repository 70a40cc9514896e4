"""The round trip (issue 16 §3): a referral that came by BaRS is accepted through the app (the
API's `PATCH /api/v1/referrals/{id}`, as a provider), the scheduler's BaRS job runs, and the
fake sender holds exactly one `servicerequest-response` for it: the referral's X-Correlation-Id,
a new X-Request-Id, the sender's ServiceRequest id. Also when the sender is down for a while.

The referral and its `BarsReferral` are written directly (the `$process-message` receiver is
built alongside); the scheduler job runs in a thread set up as `navigator scheduler`'s thread
pool sets up its threads (`navigator.sms.worker._enter_app_context`)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from navigator.bars.fake_sender import FakeBarsSender
from navigator.bars.models import FAILED, SCHEDULED, SENT, BarsOutboxMessage, BarsRequest
from navigator.bars.response_message import EVENT
from navigator.bars.shown import deliveries as responses_for
from navigator.sms.worker import _enter_app_context, build_scheduler
from tests.bars.test_outbox import make_referral
from tests.builders import load_directory, organisation, service

Auth = dict[str, dict[str, str]]


@pytest.fixture
def fake(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBarsSender]:
    with FakeBarsSender() as sender:
        monkeypatch.setitem(app.config, "BARS_SENDER_ENDPOINTS", (sender.endpoint,))
        monkeypatch.setitem(app.config, "BARS_RETRY_BASE_SECONDS", 0.0)
        monkeypatch.setitem(app.config, "BARS_RETRY_MAX_SECONDS", 0.0)
        monkeypatch.setitem(app.config, "BARS_HTTP_TIMEOUT_SECONDS", 2.0)
        yield sender


@pytest.fixture
def directory(app_ctx: Flask) -> None:
    load_directory(
        organisations=[organisation(id="rc9", ods_code="RC9")],
        services=[service(id="ucr", organisation="rc9")],
    )


def run_scheduler_job(app: Flask) -> None:
    """`navigator.bars.worker:dispatch_job` as the scheduler runs it: in a pool thread that
    entered the app's context when it started, resolved from its string reference."""
    from apscheduler.util import ref_to_obj

    job = ref_to_obj("navigator.bars.worker:dispatch_job")
    with ThreadPoolExecutor(1, initializer=_enter_app_context, initargs=(app,)) as pool:
        pool.submit(job).result(timeout=30)


def test_the_scheduler_runs_the_bars_job(app: Flask) -> None:
    scheduler = build_scheduler(app)
    job = scheduler.get_job("bars-dispatch")
    assert job is not None
    assert job.func_ref == "navigator.bars.worker:dispatch_job"
    assert job.trigger.interval.total_seconds() == app.config["BARS_DISPATCH_INTERVAL_SECONDS"]


def test_accepted_in_the_app_reaches_the_sender_exactly_once_even_when_it_was_down(
    app: Flask,
    client: FlaskClient,
    auth: Auth,
    session: Session,
    directory: None,
    fake: FakeBarsSender,
) -> None:
    referral, bars = make_referral(session, endpoint=fake.endpoint)
    assert bars is not None
    session.commit()
    incoming = session.scalar(select(BarsRequest.request_id))

    fake.down()
    answer = client.patch(
        f"/api/v1/referrals/{referral.id}", json={"status": "accepted"}, headers=auth["provider"]
    )
    assert answer.status_code == 200, answer.json
    run_scheduler_job(app)  # the sender is down: kept for a retry
    run_scheduler_job(app)
    [state] = responses_for(session, referral.id)
    assert (state.referral_status, state.state, state.attempts) == ("accepted", SCHEDULED, 2)
    assert state.last_error == "ConnectionError"

    fake.up()
    run_scheduler_job(app)
    run_scheduler_job(app)  # nothing more to send
    [got] = fake.received()
    assert got.correlation_id == bars.correlation_id
    assert got.request_id not in (incoming, bars.correlation_id)
    header = got.bundle["entry"][0]["resource"]
    assert header["eventCoding"]["code"] == EVENT
    assert header["response"]["identifier"] == bars.request_message_id
    focus = next(
        e["resource"]
        for e in got.bundle["entry"]
        if e["fullUrl"] == header["focus"][0]["reference"]
    )
    assert focus["id"] == bars.service_request_id
    [state] = responses_for(session, referral.id)
    assert (state.state, state.attempts, state.last_error) == (SENT, 3, None)
    assert state.sent_at is not None


def test_a_rejection_in_the_app_carries_its_reason_and_a_refusal_shows_as_failed(
    app: Flask,
    client: FlaskClient,
    auth: Auth,
    session: Session,
    directory: None,
    fake: FakeBarsSender,
) -> None:
    referral, _ = make_referral(session, endpoint=fake.endpoint)
    session.commit()
    answer = client.patch(
        f"/api/v1/referrals/{referral.id}",
        json={"status": "rejected", "reason": "not_eligible"},
        headers=auth["provider"],
    )
    assert answer.status_code == 200, answer.json
    fake.fail_next(1, status=422)
    run_scheduler_job(app)
    [state] = responses_for(session, referral.id)
    assert (state.referral_status, state.state, state.attempts) == ("rejected", FAILED, 1)
    assert state.last_error == "HTTP 422 (not-supported)"
    assert fake.received() == []
    bundle = session.scalar(select(BarsOutboxMessage.bundle))
    assert bundle is not None
    [encounter] = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Encounter"
    ]
    assert encounter["reasonCode"][0]["text"] == "The patient is not eligible for this service"
