"""Console sessions held on the server, so that signing out (or a new password) ends them.

The browser's cookie carries a random token (256 bits); the database keeps only its SHA-256
(`ConsoleSession.id`), like API keys, so a copy of the table signs nobody in. A session is
usable while it has not been ended and was last seen within the idle limit. Every web worker
and node reads the same table, so an ended session is ended everywhere at once.

`last_seen_at` is written at most once per `touch_every` (a minute by default), not on every
request: the idle limit is then measured to within that much (a session can end up to a
minute before `idle` has passed since its last request), which is far finer than the
30-minute limit needs, and a page that fires several requests costs one write, not several.

The functions only flush; the caller commits.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from navigator.auth.models import ConsoleSession

# Why a session ended (`ConsoleSession.ended_reason`, at most 30 characters).
SIGNED_OUT = "signed_out"
IDLE = "idle"
PASSWORD_CHANGED = "password_changed"  # noqa: S105 (a reason, not a password)
UNLOCKED = "unlocked"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(session: Session, user_id: int, now: datetime) -> str:
    """Record a new session for the user and return its token (for the cookie only)."""
    token = secrets.token_urlsafe(32)
    session.add(
        ConsoleSession(id=_digest(token), user_id=user_id, created_at=now, last_seen_at=now)
    )
    session.flush()
    return token


@dataclass(frozen=True)
class Resumed:
    """What a session token is worth on this request.

    `user_id` is set when the session may be used; otherwise `reason` says why not: one of the
    `ended_reason` values above (`idle` when it has just timed out), or `unknown` for a token
    that was never issued here.
    """

    user_id: int | None
    reason: str | None = None


def resume_session(
    session: Session, token: str, *, now: datetime, idle: timedelta, touch_every: timedelta
) -> Resumed:
    """Check a session token on a request: ended, unknown or idle tokens are refused.

    A session idle for longer than `idle` (by `last_seen_at`) is ended here, with reason
    `idle`, so that a later replay finds it ended whatever the clock says. A live one has its
    `last_seen_at` moved to `now` when it is older than `touch_every`. A refused token never
    moves `last_seen_at`. The caller commits (a write happens only on those two paths).
    """
    row = session.execute(
        select(
            ConsoleSession.user_id, ConsoleSession.last_seen_at, ConsoleSession.ended_reason
        ).where(ConsoleSession.id == _digest(token))
    ).first()
    if row is None:
        return Resumed(None, "unknown")
    if row.ended_reason is not None:
        return Resumed(None, row.ended_reason)
    if now - row.last_seen_at > idle:
        _end(session, ConsoleSession.id == _digest(token), IDLE, now)
        return Resumed(None, IDLE)
    if now - row.last_seen_at >= touch_every:
        session.execute(
            update(ConsoleSession)
            .where(ConsoleSession.id == _digest(token), ConsoleSession.ended_at.is_(None))
            .values(last_seen_at=now)
        )
    return Resumed(row.user_id)


def end_session(session: Session, token: str, reason: str, now: datetime) -> None:
    """End one session (sign-out). Ending an ended or unknown session does nothing."""
    _end(session, ConsoleSession.id == _digest(token), reason, now)


def end_user_sessions(session: Session, user_id: int, reason: str, now: datetime) -> int:
    """End every live session of a user (new password, unlock); returns how many ended."""
    return _end(session, ConsoleSession.user_id == user_id, reason, now)


def _end(session: Session, which: ColumnElement[bool], reason: str, now: datetime) -> int:
    result = session.execute(
        update(ConsoleSession)
        .where(which, ConsoleSession.ended_at.is_(None))
        .values(ended_at=now, ended_reason=reason)
    )
    return int(getattr(result, "rowcount", 0) or 0)
