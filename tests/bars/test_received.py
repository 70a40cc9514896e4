"""Claiming a received BaRS message's X-Request-Id (navigator/bars/received.py; issue 16 §1 "A
repeated X-Request-Id → 409 REC_CONFLICT (duplicate), including under concurrent retries. While
the first attempt is still processing → 425 REC_TOO_EARLY").

Protects: the first claim wins; a repeat after the message was processed is 409 `duplicate`
(the BaRS receiver's REC_CONFLICT, Bundle-Processing "HTTP Headers" pseudo code: a RequestId
already received); a repeat while the first attempt holds the claim is 425; a claim older than
the lease is taken over (the first attempt died); releasing or completing a claim works only
for the attempt whose `claimed_at` still holds it (fencing), so a superseded attempt can
neither delete nor complete the new owner's row; concurrent claims of one id from threads on
real connections: exactly one wins. Runs on SQLite and on PostgreSQL
(NAVIGATOR_TEST_DATABASE_URL).
"""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from navigator.bars.models import PROCESSED, PROCESSING, BarsRequest
from navigator.bars.received import claim_request, mark_processed, release_request
from navigator.core.db import transaction, utcnow
from navigator.core.errors import Problem
from navigator.core.extensions import db
from tests.bars.test_outbox import make_referral
from tests.builders import load_directory, organisation, service

LEASE = 60.0
THREADS = 8


@pytest.fixture(autouse=True)
def directory(app_ctx: Flask) -> None:
    """The service a processed message's referral is to (referrals.service_id is a key)."""
    load_directory(
        organisations=[organisation(id="rc9", ods_code="RC9")],
        services=[service(id="ucr", organisation="rc9")],
    )


def claim(session: Session, request_id: str, now: datetime, client: str = "nhs111") -> datetime:
    with transaction(session):
        return claim_request(
            session,
            request_id=request_id,
            correlation_id=str(uuid.uuid4()),
            client_id=client,
            now=now,
            lease_seconds=LEASE,
        )


def refused(session: Session, request_id: str, now: datetime) -> Problem:
    with pytest.raises(Problem) as caught:
        claim(session, request_id, now)
    return caught.value


def row(session: Session, request_id: str) -> BarsRequest | None:
    session.expire_all()
    return session.scalar(select(BarsRequest).where(BarsRequest.request_id == request_id))


def process(session: Session, request_id: str, claimed_at: datetime, now: datetime) -> None:
    referral, _ = make_referral(session, endpoint=None)
    mark_processed(
        session,
        request_id,
        claimed_at,
        now=now,
        event="servicerequest-request",
        reason="new",
        referral_id=referral.id,
        bundle='{"resourceType": "Bundle"}',
    )


def test_the_first_claim_is_kept_processing(session: Session) -> None:
    request_id, now = str(uuid.uuid4()), utcnow()
    assert claim(session, request_id, now, client="c" * 80) == now
    kept = row(session, request_id)
    assert kept is not None
    assert (kept.state, kept.claimed_at, kept.processed_at) == (PROCESSING, now, None)
    assert kept.client_id == "c" * 64  # the column's width, not an error


def test_a_repeat_after_processing_is_409_duplicate(session: Session) -> None:
    request_id, now = str(uuid.uuid4()), utcnow()
    token = claim(session, request_id, now)
    with transaction(session):
        process(session, request_id, token, now)
    assert row(session, request_id).state == PROCESSED  # type: ignore[union-attr]
    # However long after: a processed message is never processed again.
    for later in (now + timedelta(seconds=1), now + timedelta(days=30)):
        problem = refused(session, request_id, later)
        assert (problem.status, problem.code) == (409, "duplicate")


def test_a_repeat_while_processing_is_425(session: Session) -> None:
    request_id, now = str(uuid.uuid4()), utcnow()
    claim(session, request_id, now)
    problem = refused(session, request_id, now + timedelta(seconds=LEASE - 1))
    assert problem.status == 425
    assert row(session, request_id).claimed_at == now  # type: ignore[union-attr]


def test_a_claim_older_than_the_lease_is_taken_over(session: Session) -> None:
    """The first attempt died holding the claim: after the lease a retry takes it over, with
    its own token; the dead attempt can then neither complete nor release it."""
    request_id, now = str(uuid.uuid4()), utcnow()
    first = claim(session, request_id, now)
    later = now + timedelta(seconds=LEASE + 1)
    second = claim(session, request_id, later)
    assert second == later != first
    assert row(session, request_id).claimed_at == later  # type: ignore[union-attr]

    # The first attempt, waking up, completes nothing: 425, its transaction rolls back.
    with pytest.raises(Problem) as caught, transaction(session):
        process(session, request_id, first, later)
    assert caught.value.status == 425
    assert row(session, request_id).state == PROCESSING  # type: ignore[union-attr]

    # The owner completes it.
    with transaction(session):
        process(session, request_id, second, later)
    assert row(session, request_id).state == PROCESSED  # type: ignore[union-attr]


def test_release_deletes_only_the_claim_it_made(session: Session) -> None:
    """claimed_at fencing: a superseded attempt's release leaves the new owner's claim; the
    owner's release forgets it, so a corrected retry is judged afresh."""
    request_id, now = str(uuid.uuid4()), utcnow()
    first = claim(session, request_id, now)
    second = claim(session, request_id, now + timedelta(seconds=LEASE + 1))
    with transaction(session):
        release_request(session, request_id, first)
    assert row(session, request_id) is not None

    with transaction(session):
        release_request(session, request_id, second)
    assert row(session, request_id) is None
    retried = now + timedelta(seconds=LEASE + 2)
    assert claim(session, request_id, retried) == retried


def test_release_never_deletes_a_processed_message(session: Session) -> None:
    request_id, now = str(uuid.uuid4()), utcnow()
    token = claim(session, request_id, now)
    with transaction(session):
        process(session, request_id, token, now)
    with transaction(session):
        release_request(session, request_id, token)
    assert row(session, request_id).state == PROCESSED  # type: ignore[union-attr]


def test_claims_of_other_ids_do_not_interfere(session: Session) -> None:
    now = utcnow()
    ids = [str(uuid.uuid4()) for _ in range(3)]
    assert [claim(session, i, now) for i in ids] == [now] * 3


def race(app: Flask, request_id: str, now: datetime) -> list[int | datetime]:
    """THREADS attempts released together, each on its own connection and transaction:
    the token (datetime) or the refusal's status."""
    barrier = threading.Barrier(THREADS)

    def one(i: int) -> int | datetime:
        with app.app_context():
            session = db.session()
            try:
                barrier.wait(timeout=30)
                return claim(session, request_id, now + timedelta(microseconds=i))
            except Problem as exc:
                return exc.status
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(one, range(THREADS)))


def test_concurrent_claims_exactly_one_wins(app: Flask, session: Session) -> None:
    """Concurrent retries (issue 16 §1): one claim, the others 425, no error, one row."""
    request_id = str(uuid.uuid4())
    outcomes = race(app, request_id, utcnow())
    won = [o for o in outcomes if isinstance(o, datetime)]
    assert len(won) == 1, outcomes
    assert sorted(o for o in outcomes if not isinstance(o, datetime)) == [425] * (THREADS - 1)
    assert row(session, request_id).claimed_at == won[0]  # type: ignore[union-attr]


def test_concurrent_takeovers_of_an_expired_claim_exactly_one_wins(
    app: Flask, session: Session
) -> None:
    """The conditional UPDATE of a take-over: of many retries after the lease, one owns it."""
    request_id, now = str(uuid.uuid4()), utcnow()
    claim(session, request_id, now)
    session.close()
    outcomes = race(app, request_id, now + timedelta(seconds=LEASE + 1))
    won = [o for o in outcomes if isinstance(o, datetime)]
    assert len(won) == 1, outcomes
    assert all(o == 425 for o in outcomes if not isinstance(o, datetime)), outcomes
    assert row(session, request_id).claimed_at == won[0]  # type: ignore[union-attr]
