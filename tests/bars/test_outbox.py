"""The outbox of BaRS `servicerequest-response` messages (issue 16 §1, "never lost, never
twice"): a message is written with the referral's status change (accept, reject, complete) of a
referral that came by BaRS and with nothing else; it is sent over real HTTP to the local fake
sender (`navigator.bars.fake_sender`) with one X-Request-Id for every attempt, retried with
backoff on 408/425/429/5xx/timeouts/refused connections, failed at once on other 4xx, and
counted delivered on the receiver's 409 `duplicate`
(booking-and-referral-fhir-api `examples1.4.0/OperationOutcome/REC/409-REC_CONFLICT-duplicate.json`).
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from navigator.bars.client import ACCEPT, CONTENT_TYPE, BarsClient
from navigator.bars.fake_sender import FakeBarsSender
from navigator.bars.models import (
    FAILED,
    SCHEDULED,
    SENDING,
    SENT,
    BarsOutboxMessage,
    BarsReferral,
    BarsRequest,
)
from navigator.bars.outbox import (
    SKIPPED,
    OutboxSettings,
    claim_due,
    requeue_stuck,
    send_claimed,
)
from navigator.bars.shown import deliveries as responses_for
from navigator.bars.worker import dispatch_due, run_once
from navigator.core.clock import local_month
from navigator.core.db import transaction, utcnow
from navigator.core.extensions import db
from navigator.core.reference import GAZETTEER
from navigator.patients.service import find_or_create_patient
from navigator.referrals.models import Referral
from navigator.referrals.service import change_status
from tests.builders import load_directory, organisation, service

NHS_NUMBER = "9434765919"


# --- builders shared with the round-trip tests ---------------------------------------------------


def settings_for(fake: FakeBarsSender | None, **overrides: Any) -> OutboxSettings:
    """Settings for tests: retries due at once (base 0), a short timeout, the fake registered."""
    values: dict[str, Any] = {
        "max_attempts": 5,
        "retry_base": 0.0,
        "retry_max": 0.0,
        "lease": 120.0,
        "timeout": 1.0,
        "sender_endpoints": (fake.endpoint,) if fake else (),
    }
    return OutboxSettings(**(values | overrides))


def request_bundle(nhs_number: str | None = NHS_NUMBER) -> str:
    """A referral request body as the receiver keeps it (JSON), carrying a Patient."""
    patient: dict[str, Any] = {"resourceType": "Patient"}
    if nhs_number:
        patient["identifier"] = [
            {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": nhs_number}
        ]
    return json.dumps(
        {
            "resourceType": "Bundle",
            "type": "message",
            "entry": [{"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": patient}],
        }
    )


def make_referral(
    session: Session,
    *,
    endpoint: str | None,
    service_id: str = "ucr",
    nhs_number: str | None = NHS_NUMBER,
) -> tuple[Referral, BarsReferral | None]:
    """A `sent` referral to `service_id` (the directory must hold it); with a BaRS sender at
    `endpoint` (a BarsReferral and the BarsRequest it came in) unless `endpoint` is None."""
    patient = find_or_create_patient(
        session,
        {"name": "Pat Example", "nhs_number": nhs_number} if nhs_number else {"name": "Pat"},
        actor="tests",
        gazetteer=GAZETTEER.get(),
    ).patient
    session.flush()
    now = utcnow()
    referral = Referral(
        id=str(uuid.uuid4()),
        service_id=service_id,
        patient_id=patient.id,
        reason="Fall without injury",
        urgency="urgent",
        consent=True,
        status="sent",
        created_at=now,
        local_month=local_month(now),
        created_by="tests",
        client_id="tests",
        request_hash="0" * 64,
        due_by=now + timedelta(hours=2),
        updated_at=now,
    )
    session.add(referral)
    session.flush()
    bars = None
    if endpoint is not None:
        bars = BarsReferral(
            referral_id=referral.id,
            correlation_id=str(uuid.uuid4()),
            service_request_id="236bb75d-90ef-461f-b71e-fde7f899802c",
            sender_endpoint=endpoint,
            sender_name="NHS 111 (test)",
            request_message_id="c89a8895-56fe-41de-b20b-fab6efa99c99",
            target_identifier="https://fhir.nhs.uk/Id/dos-service-id|111111111",
            flags=[],
            sender_updated_at=now,
        )
        session.add(bars)
        session.add(
            BarsRequest(
                request_id=str(uuid.uuid4()),
                correlation_id=bars.correlation_id,
                client_id="tests",
                state="processed",
                processed_at=now,
                event="servicerequest-request",
                reason="new",
                referral_id=referral.id,
                bundle=request_bundle(nhs_number),
            )
        )
        session.flush()
    return referral, bars


def outbox(session: Session) -> list[BarsOutboxMessage]:
    session.expire_all()
    return list(session.scalars(select(BarsOutboxMessage).order_by(BarsOutboxMessage.created_at)))


def accept(session: Session, referral: Referral, **body: Any) -> None:
    with transaction(session):
        change_status(session, referral, {"status": "accepted"} | body, actor="tests", now=utcnow())


@pytest.fixture
def directory(app_ctx: Flask) -> None:
    load_directory(
        organisations=[organisation(id="rc9", ods_code="RC9")],
        services=[service(id="ucr", organisation="rc9")],
    )


@pytest.fixture
def fake() -> Iterator[FakeBarsSender]:
    with FakeBarsSender() as sender:
        yield sender


@pytest.fixture
def bars_client() -> Iterator[BarsClient]:
    posting = BarsClient(timeout=1.0)
    yield posting
    posting.http.close()


# --- writing -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("steps", "statuses"),
    [
        ([{"status": "accepted"}], ["accepted"]),
        ([{"status": "rejected", "reason": "no_capacity"}], ["rejected"]),
        (
            [{"status": "accepted"}, {"status": "completed", "outcome": "Seen at home"}],
            ["accepted", "completed"],
        ),
    ],
)
def test_accept_reject_complete_each_write_one_message_with_the_status_change(
    session: Session,
    directory: None,
    steps: list[dict[str, Any]],
    statuses: list[str],
) -> None:
    referral, bars = make_referral(session, endpoint="https://111.example/bars")
    assert bars is not None
    session.commit()
    for body in steps:
        with transaction(session):
            change_status(session, referral, body, actor="tests", now=utcnow())
    rows = outbox(session)
    assert [row.referral_status for row in rows] == statuses
    assert {row.state for row in rows} == {SCHEDULED}
    assert all(row.correlation_id == bars.correlation_id for row in rows)
    assert all(row.endpoint == "https://111.example/bars" for row in rows)
    assert len({row.request_id for row in rows}) == len(rows)  # a new X-Request-Id each
    assert all(str(uuid.UUID(row.request_id)) == row.request_id for row in rows)
    assert all(row.request_id != row.id for row in rows)


def test_the_message_is_lost_with_the_status_change_it_belongs_to(
    session: Session, directory: None
) -> None:
    """Same transaction: a status change rolled back leaves no message behind (and a message
    is never written without its status change)."""
    referral, _ = make_referral(session, endpoint="https://111.example/bars")
    session.commit()

    class Boom(Exception):
        pass

    def accept_then_fail() -> None:
        with transaction(session):
            change_status(session, referral, {"status": "accepted"}, actor="t", now=utcnow())
            assert len(outbox(session)) == 1
            raise Boom

    with pytest.raises(Boom):
        accept_then_fail()
    assert outbox(session) == []
    assert session.get(Referral, referral.id).status == "sent"  # type: ignore[union-attr]


def test_referrals_that_did_not_come_by_bars_and_other_statuses_write_nothing(
    session: Session, directory: None
) -> None:
    """On hold is not sent back, and a cancellation by the sender itself is answered by the
    200 to its own message, not by a response."""
    plain, _ = make_referral(session, endpoint=None)
    held, _ = make_referral(session, endpoint="https://111.example/bars")
    cancelled, _ = make_referral(session, endpoint="https://111.example/bars")
    session.commit()
    accept(session, plain)
    with transaction(session):
        change_status(session, held, {"status": "on_hold"}, actor="tests", now=utcnow())
        change_status(
            session,
            cancelled,
            {"status": "cancelled"},
            actor="tests",
            now=utcnow(),
            by_bars_sender=True,
        )
    assert outbox(session) == []
    assert responses_for(session, plain.id) == []


def test_a_cancellation_by_navigator_goes_back_to_the_sender(
    session: Session, directory: None
) -> None:
    """Review of issue 16: a referral navigator cancels (console or API) is no longer live,
    and 111 must hear it, or it believes the patient is being seen; the reason is navigator's
    words only (a note may name the patient)."""
    cancelled, _ = make_referral(session, endpoint="https://111.example/bars")
    session.commit()
    with transaction(session):
        change_status(
            session,
            cancelled,
            {"status": "cancelled", "note": "Mrs Smith"},
            actor="t",
            now=utcnow(),
        )
    [message] = outbox(session)
    assert message.referral_status == "cancelled"
    encounter = next(
        e["resource"] for e in message.bundle["entry"]
        if e["resource"]["resourceType"] == "Encounter"
    )  # fmt: skip
    assert encounter["status"] == "cancelled"
    assert encounter["reasonCode"][0]["text"] == "Cancelled by the receiving service"
    assert "Mrs Smith" not in json.dumps(message.bundle)


# --- sending -----------------------------------------------------------------------------------


def test_a_message_is_posted_to_the_senders_process_message_with_the_bars_headers(
    session: Session, directory: None, fake: FakeBarsSender, bars_client: BarsClient
) -> None:
    referral, bars = make_referral(session, endpoint=fake.endpoint)
    assert bars is not None
    session.commit()
    accept(session, referral)
    report = dispatch_due(session, bars_client, settings_for(fake))
    assert (report.claimed, report.sent) == (1, 1)
    [row] = outbox(session)
    [got] = fake.received()
    assert got.path == "/bars/$process-message"
    assert got.request_id == row.request_id
    assert got.correlation_id == bars.correlation_id
    assert got.headers["content-type"] == CONTENT_TYPE
    assert got.headers["accept"] == ACCEPT
    assert got.bundle == row.bundle
    assert (row.state, row.attempts, row.response_status, row.last_error) == (SENT, 1, 200, None)
    assert row.sent_at is not None
    [state] = responses_for(session, referral.id)
    assert (state.referral_status, state.state, state.attempts, state.last_error) == (
        "accepted",
        SENT,
        1,
        None,
    )


def test_a_sender_down_for_a_while_then_up_gets_the_message_exactly_once(
    session: Session, directory: None, fake: FakeBarsSender, bars_client: BarsClient
) -> None:
    referral, _ = make_referral(session, endpoint=fake.endpoint)
    session.commit()
    accept(session, referral)
    settings = settings_for(fake)
    fake.down()  # connection refused
    assert dispatch_due(session, bars_client, settings).retrying == 1
    [row] = outbox(session)
    assert (row.state, row.attempts, row.last_error) == (SCHEDULED, 1, "ConnectionError")
    fake.up()
    fake.fail_next(2, status=503)  # up, but unavailable twice more
    assert dispatch_due(session, bars_client, settings).retrying == 1
    assert dispatch_due(session, bars_client, settings).retrying == 1
    [row] = outbox(session)
    assert "HTTP 503" in (row.last_error or "")
    assert dispatch_due(session, bars_client, settings).sent == 1
    assert dispatch_due(session, bars_client, settings).claimed == 0
    assert len(fake.received()) == 1
    [row] = outbox(session)
    assert (row.state, row.attempts) == (SENT, 4)


def test_an_answer_after_the_timeout_is_retried_with_the_same_request_id_and_received_once(
    session: Session, directory: None, fake: FakeBarsSender
) -> None:
    """The ambiguous failure: the receiver took the message but its answer came too late. The
    retry carries the same X-Request-Id, the receiver answers 409 duplicate, and that counts
    as delivered."""
    referral, _ = make_referral(session, endpoint=fake.endpoint)
    session.commit()
    accept(session, referral)
    settings = settings_for(fake, timeout=0.3)
    impatient = BarsClient(timeout=0.3)
    fake.answer_late(1, seconds=1.0)
    assert dispatch_due(session, impatient, settings).retrying == 1
    [row] = outbox(session)
    assert (row.state, row.last_error) == (SCHEDULED, "ReadTimeout")
    assert dispatch_due(session, impatient, settings).sent == 1
    [row] = outbox(session)
    assert (row.state, row.attempts, row.response_status) == (SENT, 2, 409)
    assert fake.attempts == 2
    assert [m.request_id for m in fake.received()] == [row.request_id]
    impatient.http.close()


def test_retry_after_is_honoured_and_the_backoff_doubles_up_to_its_cap(
    session: Session, directory: None, fake: FakeBarsSender, bars_client: BarsClient
) -> None:
    settings = settings_for(fake, retry_base=30.0, retry_max=1800.0)
    assert [settings.backoff(n).total_seconds() for n in (1, 2, 3, 7, 20)] == [
        30,
        60,
        120,
        1800,
        1800,
    ]
    assert settings.backoff(1, retry_after=300).total_seconds() == 300
    assert settings.backoff(3, retry_after=5).total_seconds() == 120
    assert settings.backoff(1, retry_after=86400).total_seconds() == 1800
    referral, _ = make_referral(session, endpoint=fake.endpoint)
    session.commit()
    accept(session, referral)
    fake.fail_next(1, status=429, retry_after=300)
    before = utcnow()
    assert dispatch_due(session, bars_client, settings).retrying == 1
    [row] = outbox(session)
    assert row.next_attempt_at >= before + timedelta(seconds=300)
    assert row.next_attempt_at <= utcnow() + timedelta(seconds=301)
    assert dispatch_due(session, bars_client, settings).claimed == 0  # not due yet


@pytest.mark.parametrize("status", [400, 422, 403])
def test_other_4xx_fail_at_once(
    session: Session, directory: None, fake: FakeBarsSender, bars_client: BarsClient, status: int
) -> None:
    referral, _ = make_referral(session, endpoint=fake.endpoint)
    session.commit()
    accept(session, referral)
    fake.fail_next(1, status=status)
    assert dispatch_due(session, bars_client, settings_for(fake)).failed == 1
    [row] = outbox(session)
    assert (row.state, row.attempts, row.response_status) == (FAILED, 1, status)
    assert (row.last_error or "").startswith(f"HTTP {status}")
    assert dispatch_due(session, bars_client, settings_for(fake)).claimed == 0
    assert fake.received() == []


def test_after_the_last_attempt_the_message_is_failed(
    session: Session, directory: None, fake: FakeBarsSender, bars_client: BarsClient
) -> None:
    referral, _ = make_referral(session, endpoint=fake.endpoint)
    session.commit()
    accept(session, referral)
    settings = settings_for(fake, max_attempts=3)
    fake.fail_next(5, status=500)
    for _ in range(5):
        dispatch_due(session, bars_client, settings)
    [row] = outbox(session)
    assert (row.state, row.attempts) == (FAILED, 3)
    assert "gave up after 3 attempts" in (row.last_error or "")
    assert fake.attempts == 3


def test_an_endpoint_no_longer_registered_gets_nothing(
    session: Session, directory: None, fake: FakeBarsSender, bars_client: BarsClient
) -> None:
    referral, _ = make_referral(session, endpoint=fake.endpoint)
    session.commit()
    accept(session, referral)
    settings = settings_for(None, sender_endpoints=("https://other.example/",))
    assert dispatch_due(session, bars_client, settings).failed == 1
    [row] = outbox(session)
    assert (row.state, row.last_error) == (
        FAILED,
        "endpoint not registered in BARS_SENDER_ENDPOINTS",
    )
    assert fake.attempts == 0


def test_a_message_stuck_in_sending_is_sent_again_with_the_same_request_id(
    session: Session, directory: None, fake: FakeBarsSender, bars_client: BarsClient
) -> None:
    """A worker that died after its claim (or mid-send): after the lease the sweep puts the
    message back and it goes with the same X-Request-Id; a receiver that had it says 409
    duplicate, so the sender still holds one message."""
    referral, _ = make_referral(session, endpoint=fake.endpoint)
    session.commit()
    accept(session, referral)
    settings = settings_for(fake, lease=60.0)
    with transaction(session):
        [claimed] = claim_due(session, now=utcnow(), limit=10)
    # The dead worker had posted it: the receiver has it under that X-Request-Id.
    [row] = outbox(session)
    bars_client.post_message(
        row.endpoint, row.bundle, request_id=row.request_id, correlation_id=row.correlation_id
    )
    with transaction(session):
        assert requeue_stuck(session, settings, now=utcnow()) == 0  # within the lease
    assert dispatch_due(session, bars_client, settings).claimed == 0  # still `sending`
    with transaction(session):  # the lease passes
        session.execute(
            update(BarsOutboxMessage).values(claimed_at=utcnow() - timedelta(seconds=61))
        )
    with transaction(session):
        assert requeue_stuck(session, settings, now=utcnow()) == 1
    [row] = outbox(session)
    assert (row.state, row.last_error) == (SCHEDULED, "re-queued after the sending lease expired")
    assert dispatch_due(session, bars_client, settings).sent == 1
    [row] = outbox(session)
    assert (row.id, row.state, row.attempts, row.response_status) == (claimed, SENT, 2, 409)
    assert len(fake.received()) == 1


def test_a_late_outcome_of_a_taken_over_claim_changes_nothing(
    app: Flask,
    session: Session,
    directory: None,
    fake: FakeBarsSender,
    bars_client: BarsClient,
) -> None:
    """`attempts` fences the claim: a slow worker's outcome, arriving after the sweep gave the
    message to another worker, is not recorded over the second worker's."""
    referral, _ = make_referral(session, endpoint=fake.endpoint)
    session.commit()
    accept(session, referral)
    settings = settings_for(fake, lease=60.0, timeout=5.0)
    with transaction(session):
        [message_id] = claim_due(session, now=utcnow(), limit=10)
    fake.answer_late(1, seconds=1.0)  # the receiver takes it, then answers slowly
    slow: list[str] = []

    def slow_worker() -> None:
        with app.app_context():
            slow_client = BarsClient(timeout=5.0)
            with transaction(db.session()):
                slow.append(send_claimed(db.session(), slow_client, settings, message_id))
            db.session.remove()
            slow_client.http.close()

    thread = threading.Thread(target=slow_worker)
    thread.start()
    while fake.attempts == 0:  # the slow worker's POST has reached the receiver
        threading.Event().wait(0.01)
    later = utcnow() + timedelta(seconds=61)
    with transaction(session):
        requeue_stuck(session, settings, now=later)
        assert claim_due(session, now=later, limit=10) == [message_id]  # attempt 2
    with transaction(session):
        assert send_claimed(session, bars_client, settings, message_id) == SENT
    thread.join(timeout=10)
    assert slow == [SKIPPED]
    [row] = outbox(session)
    assert (row.state, row.attempts, row.response_status) == (SENT, 2, 409)
    assert len(fake.received()) == 1


def test_a_completion_never_overtakes_its_acceptance(
    session: Session, directory: None, fake: FakeBarsSender, bars_client: BarsClient
) -> None:
    referral, _ = make_referral(session, endpoint=fake.endpoint)
    session.commit()
    accept(session, referral)
    fake.fail_next(1, status=503)
    settings = settings_for(fake)
    dispatch_due(session, bars_client, settings)  # the acceptance: retrying
    with transaction(session):
        change_status(
            session, referral, {"status": "completed", "outcome": "Seen"}, actor="t", now=utcnow()
        )
    report = dispatch_due(session, bars_client, settings)  # acceptance sent; completion waits
    assert (report.claimed, report.sent) == (1, 1)
    assert dispatch_due(session, bars_client, settings).sent == 1
    got = [m.bundle["entry"][0]["resource"]["reason"]["coding"][0]["code"] for m in fake.received()]
    assert got == ["new", "update"]
    assert [r.referral_status for r in responses_for(session, referral.id)] == [
        "accepted",
        "completed",
    ]
    assert [m.request_id for m in fake.received()] == [r.request_id for r in outbox(session)]


def test_concurrent_dispatchers_send_each_message_once(
    app: Flask, session: Session, directory: None, fake: FakeBarsSender
) -> None:
    """Two workers, each with its own connection, draining the same outbox at once: every
    message reaches the sender once, and none is even posted twice (the claim, not the
    receiver's dedup, keeps them apart). On PostgreSQL this runs FOR UPDATE SKIP LOCKED."""
    for _ in range(24):
        referral, _ = make_referral(session, endpoint=fake.endpoint)
        session.flush()
        change_status(session, referral, {"status": "accepted"}, actor="t", now=utcnow())
    session.commit()
    settings = settings_for(fake, batch_size=3)
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with app.app_context():
                bars_client = BarsClient(timeout=2.0)
                start.wait()
                for _ in range(3):
                    run_once(db.session(), bars_client, settings)
                db.session.remove()
                bars_client.http.close()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    rows = outbox(session)
    assert {row.state for row in rows} == {SENT}
    assert all(row.attempts == 1 for row in rows)
    assert fake.attempts == 24
    assert sorted(m.request_id for m in fake.received()) == sorted(r.request_id for r in rows)


def test_nothing_in_sending_is_claimed_twice(
    session: Session, directory: None, fake: FakeBarsSender
) -> None:
    referral, _ = make_referral(session, endpoint=fake.endpoint)
    session.commit()
    accept(session, referral)
    now: datetime = utcnow()
    with transaction(session):
        assert len(claim_due(session, now=now, limit=10)) == 1
    with transaction(session):
        assert claim_due(session, now=now, limit=10) == []
    [row] = outbox(session)
    assert (row.state, row.attempts) == (SENDING, 1)
