"""The outbox state machine (`navigator.sms.outbox`), step by step, with the real Twilio client
against the fake Twilio. Each step runs in a transaction the test commits, as the worker does:
the outbox itself never commits. What is protected: a claim is taken once; a refusal fails at
once and tells someone; an ambiguous failure is looked for before it is sent again; a message
whose sender died is adopted or queued again; receipts only move a message forward."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from navigator.core.db import transaction, utcnow
from navigator.core.extensions import db
from navigator.sms.clients.twilio import TwilioSettings, TwilioSmsClient
from navigator.sms.models import (
    DELIVERED,
    FAILED,
    SCHEDULED,
    SENDING,
    SENT,
    UNDELIVERED,
    CallbackTask,
    SmsMessage,
)
from navigator.sms.outbox import (
    FOUND,
    OutboxSettings,
    apply_receipt,
    claim_due,
    resolve_stuck,
    send_claimed,
    stuck_messages,
)
from navigator.sms.plan import QuietHours
from tests.sms.conftest import Live, closed_port_url

NO_QUIET = QuietHours(0, 0)


@pytest.fixture
def other_session(live: Live) -> Iterator[Session]:
    """A second worker's session."""
    with live.app.app_context():
        yield db.session()
        db.session.remove()


def claim(session: Session, limit: int = 10) -> list[str]:
    with transaction(session):
        return claim_due(session, now=utcnow(), limit=limit)


def send(session: Session, live: Live, message_id: str, **kwargs: Any) -> str:
    client = kwargs.pop("client", None) or live.client()
    settings = kwargs.pop("settings", None) or live.settings()
    with transaction(session):
        return send_claimed(session, client, settings, NO_QUIET, message_id)


def message(session: Session, message_id: str) -> SmsMessage:
    found = session.get(SmsMessage, message_id, populate_existing=True)
    assert found is not None
    return found


def test_the_outbox_leaves_the_commit_to_its_caller(
    live: Live, live_session: Session, due_messages: list[str]
) -> None:
    assert sorted(claim_due(live_session, now=utcnow(), limit=10)) == sorted(due_messages)
    assert live.statuses() == [SCHEDULED, SCHEDULED]  # not committed: nobody else sees it
    live_session.rollback()
    assert sorted(claim(live_session)) == sorted(due_messages)
    assert live.statuses() == [SENDING, SENDING]


def test_a_committed_claim_is_not_claimed_again(
    live_session: Session, other_session: Session, due_messages: list[str]
) -> None:
    assert sorted(claim(live_session)) == sorted(due_messages)
    assert claim(other_session) == []


def test_a_refusal_fails_at_once_and_opens_a_not_delivered_task(
    live: Live, live_session: Session, due_messages: list[str]
) -> None:
    refused = TwilioSmsClient(
        replace(TwilioSettings.from_config(live.app.config), auth_token="not-the-token")
    )
    [first, _] = claim(live_session)
    assert send(live_session, live, first, client=refused) == FAILED
    failed = message(live_session, first)
    assert failed.attempts == 1 < live.settings().max_attempts
    assert failed.last_error == "Twilio 401 error 20003"
    task = live_session.scalar(select(CallbackTask).where(CallbackTask.message_id == first))
    assert task is not None and task.reason == "not_delivered"


def test_an_ambiguous_failure_is_looked_for_before_it_is_sent_again(
    live: Live, live_session: Session, due_messages: list[str]
) -> None:
    # No receipts: they alone would recognise the accepted message by its id (the other guard).
    live.fake.callbacks_enabled = False
    live.fake.fail(1, "accept_timeout", seconds=1.0)  # Twilio takes it; the answer is lost
    outcomes = [send(live_session, live, message_id) for message_id in claim(live_session)]
    assert sorted(outcomes) == [SCHEDULED, SENT]
    [retry] = [m for m in due_messages if message(live_session, m).status == SCHEDULED]
    assert message(live_session, retry).last_error == "ReadTimeout talking to Twilio"
    assert claim(live_session) == [retry]
    assert send(live_session, live, retry) == FOUND
    assert message(live_session, retry).attempts == 2
    assert set(Counter(m["body"] for m in live.fake.sent()).values()) == {1}


def test_a_message_out_of_attempts_fails(
    live: Live, live_session: Session, due_messages: list[str]
) -> None:
    live.fake.fail(2, "500")
    once = replace(live.settings(), max_attempts=1)
    assert [send(live_session, live, m, settings=once) for m in claim(live_session)] == [FAILED] * 2
    assert {message(live_session, m).last_error for m in due_messages} == {"Twilio 500 error 20500"}


def test_a_retry_waits_its_backoff(
    live: Live, live_session: Session, due_messages: list[str]
) -> None:
    live.fake.fail(1, "500")
    minute = replace(live.settings(), retry_base=60.0)
    [first, _] = claim(live_session)
    before = utcnow()
    assert send(live_session, live, first, settings=minute) == SCHEDULED
    retry_at = message(live_session, first).next_attempt_at
    assert before + timedelta(seconds=60) <= retry_at <= utcnow() + timedelta(seconds=60)


def test_backoff_doubles_up_to_its_cap() -> None:
    settings = OutboxSettings(
        max_attempts=6, retry_base=30.0, retry_max=100.0, lease=120.0, batch_size=10
    )
    assert [settings.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 100, 100]


def test_a_lease_must_outlast_two_client_timeouts() -> None:
    settings = OutboxSettings(
        max_attempts=0, retry_base=30.0, retry_max=100.0, lease=20.0, batch_size=10
    )
    assert settings.problems(call_timeout=10.0) == [
        "SMS_SENDING_LEASE_SECONDS must be more than twice SMS_HTTP_TIMEOUT_SECONDS",
        "SMS_MAX_ATTEMPTS must be at least 1",
    ]
    assert replace(settings, max_attempts=1).problems(call_timeout=9.0) == []


def test_receipts_only_move_a_message_forward(
    live: Live, live_session: Session, due_messages: list[str]
) -> None:
    live.fake.callbacks_enabled = False
    [first, _] = claim(live_session)
    assert send(live_session, live, first) == SENT
    sid = message(live_session, first).twilio_sid

    def receipt(status: str, **ids: Any) -> bool:
        with transaction(live_session):
            ids = {"message_id": first, "sid": sid} | ids
            return apply_receipt(live_session, status=status, error=None, now=utcnow(), **ids)

    assert receipt(SENT) is False  # already there
    assert receipt(DELIVERED, message_id=None) is True  # found by Twilio's id alone
    assert receipt(SENT) is False and receipt(UNDELIVERED) is False
    assert message(live_session, first).status == DELIVERED
    assert receipt(DELIVERED, message_id="no-such-message", sid=None) is False


def test_a_stuck_message_is_adopted_if_twilio_has_it_else_queued_again(
    live: Live, live_session: Session, due_messages: list[str]
) -> None:
    live.fake.callbacks_enabled = False
    settings = live.settings()
    [accepted, lost] = claim(live_session)
    # The sender died after Twilio accepted `accepted`, and before it sent `lost`.
    row = message(live_session, accepted)
    sid = live.client().send_sms(row.to_number, row.body, reference=accepted)
    assert stuck_messages(live_session, settings, now=utcnow()) == []  # within the lease
    later = utcnow() + timedelta(seconds=settings.lease + 1)
    with transaction(live_session):
        stuck = stuck_messages(live_session, settings, now=later)
    assert sorted(stuck) == sorted(due_messages)
    for message_id in stuck:
        with transaction(live_session):
            assert resolve_stuck(
                live_session, live.client(), settings, NO_QUIET, message_id, now=later
            )
    adopted, queued = message(live_session, accepted), message(live_session, lost)
    assert (adopted.status, adopted.twilio_sid) == (SENT, sid)
    assert (queued.status, queued.claimed_at, queued.next_attempt_at) == (SCHEDULED, None, later)
    assert queued.last_error == "re-queued after the sending lease expired"
    assert len(live.fake.sent()) == 1


def test_a_stuck_message_waits_while_twilio_cannot_be_asked_and_fails_out_of_attempts(
    live: Live, live_session: Session, due_messages: list[str]
) -> None:
    settings = live.settings()
    [first, second] = claim(live_session)
    later = utcnow() + timedelta(seconds=settings.lease + 1)
    nowhere = TwilioSmsClient(
        replace(TwilioSettings.from_config(live.app.config), api_base=closed_port_url())
    )
    with transaction(live_session):
        assert not resolve_stuck(live_session, nowhere, settings, NO_QUIET, first, now=later)
    assert message(live_session, first).status == SENDING
    once = replace(settings, max_attempts=1)
    with transaction(live_session):
        assert resolve_stuck(live_session, live.client(), once, NO_QUIET, second, now=later)
    failed = message(live_session, second)
    assert (failed.status, failed.last_error) == (FAILED, "stuck in sending")
    assert live_session.scalar(select(CallbackTask).where(CallbackTask.message_id == second))
