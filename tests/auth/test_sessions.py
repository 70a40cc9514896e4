"""Server-side console sessions (`navigator.auth.sessions`): a session can be ended, an ended or
idle one is refused and never revived, and its last-seen time is written at most once a
`touch_every`. Issue 12 §3 ("sign-out ends the session"); OWASP ASVS 3.3.1 (logout
invalidates the session on the server) and 3.3.2 (idle timeout)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from navigator.auth.models import ConsoleSession, User
from navigator.auth.passwords import create_user
from navigator.auth.sessions import (
    IDLE,
    PASSWORD_CHANGED,
    SIGNED_OUT,
    Resumed,
    end_session,
    end_user_sessions,
    resume_session,
    start_session,
)
from navigator.core.db import transaction

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
IDLE_LIMIT = timedelta(minutes=30)
TOUCH = timedelta(seconds=60)


def console_user_row(session: Session, email: str = "nav@nhs.example") -> User:
    with transaction(session):
        return create_user(session, email=email, password="a-long-test-password", role="navigator")


def _resume(session: Session, token: str, now: datetime) -> Resumed:
    return resume_session(session, token, now=now, idle=IDLE_LIMIT, touch_every=TOUCH)


def _row(session: Session, token: str) -> ConsoleSession:
    session.expire_all()
    row = session.get(ConsoleSession, hashlib.sha256(token.encode()).hexdigest())
    assert row is not None
    return row


def test_only_a_hash_of_the_token_is_stored(session: Session) -> None:
    user = console_user_row(session)
    token = start_session(session, user.id, T0)
    session.commit()
    stored = _row(session, token)
    assert stored.id != token and token not in stored.id
    assert stored.user_id == user.id and stored.created_at == stored.last_seen_at == T0
    assert len(token) >= 43  # 32 random bytes, url-safe base64


def test_a_live_session_resumes_and_its_last_seen_moves_at_most_once_a_minute(
    session: Session,
) -> None:
    user = console_user_row(session)
    token = start_session(session, user.id, T0)
    session.commit()
    assert _resume(session, token, T0 + timedelta(seconds=30)).user_id == user.id
    session.commit()
    assert _row(session, token).last_seen_at == T0  # within a minute: no write
    assert _resume(session, token, T0 + timedelta(seconds=61)).user_id == user.id
    session.commit()
    assert _row(session, token).last_seen_at == T0 + timedelta(seconds=61)


def test_an_idle_session_is_ended_and_stays_ended(session: Session) -> None:
    user = console_user_row(session)
    token = start_session(session, user.id, T0)
    session.commit()
    late = T0 + IDLE_LIMIT + timedelta(seconds=1)
    assert _resume(session, token, late).reason == IDLE
    session.commit()
    row = _row(session, token)
    assert row.ended_reason == IDLE and row.ended_at == late and row.last_seen_at == T0
    # Even with a clock that says "just after the last request", it stays ended.
    refused = _resume(session, token, T0 + timedelta(seconds=1))
    assert refused.user_id is None and refused.reason == IDLE


def test_a_signed_out_session_is_refused_and_its_timer_not_renewed(session: Session) -> None:
    user = console_user_row(session)
    token = start_session(session, user.id, T0)
    session.commit()
    end_session(session, token, SIGNED_OUT, T0 + timedelta(minutes=1))
    session.commit()
    for minutes in (2, 5, 10):
        refused = _resume(session, token, T0 + timedelta(minutes=minutes))
        assert refused.user_id is None and refused.reason == SIGNED_OUT
        session.commit()
    row = _row(session, token)
    assert row.last_seen_at == T0 and row.ended_at == T0 + timedelta(minutes=1)


def test_ending_a_users_sessions_ends_all_of_them_and_no_one_elses(session: Session) -> None:
    alice = console_user_row(session, email="alice@nhs.example")
    bob = console_user_row(session, email="bob@nhs.example")
    alice_tokens = [start_session(session, alice.id, T0) for _ in range(3)]
    end_session(session, alice_tokens[0], SIGNED_OUT, T0)
    bob_token = start_session(session, bob.id, T0)
    session.commit()
    with transaction(session):
        ended = end_user_sessions(session, alice.id, PASSWORD_CHANGED, T0 + timedelta(minutes=1))
    assert ended == 2  # the one already signed out keeps its reason
    assert _row(session, alice_tokens[0]).ended_reason == SIGNED_OUT
    for token in alice_tokens[1:]:
        assert _resume(session, token, T0 + timedelta(minutes=2)).reason == PASSWORD_CHANGED
    assert _resume(session, bob_token, T0 + timedelta(minutes=2)).user_id == bob.id


def test_an_unknown_token_is_refused(session: Session) -> None:
    refused = _resume(session, "never-issued", T0)
    assert refused.user_id is None and refused.reason == "unknown"
