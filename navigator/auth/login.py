"""Console sign-in: argon2 password check with lockout after repeated failures."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from navigator.auth.models import User
from navigator.auth.passwords import password_matches, spend_a_hash
from navigator.auth.sessions import UNLOCKED, end_user_sessions

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)


def check_login(session: Session, email: str, password: str, now: datetime) -> User | None:
    """The user when the password is right and the account not locked; else None.

    Five failures in a row lock the account for 15 minutes, whatever is tried meanwhile, so
    guessing is slow. Every branch (unknown email, locked account, wrong or right password)
    costs exactly one argon2 verification, so response times do not reveal which accounts
    exist or which are locked: a locked account spends a hash it does not need. The caller
    commits (failures must be counted).

    The lockout holds for every browser, a known one (with a device cookie for this account,
    `navigator.auth.device_cookies.device_vouches_for`) included: the device cookie lifts only the
    per-source throttle, and a known browser's failures count here like any others.
    """
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        spend_a_hash(password)
        return None
    if user.locked_until is not None and user.locked_until > now:
        spend_a_hash(password)  # the same cost as checking, without revealing the password
        return None
    if not password_matches(user, password):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until, user.failed_logins = now + LOCKOUT, 0
        return None
    user.failed_logins, user.locked_until = 0, None
    return user


def unlock(session: Session, user: User, now: datetime) -> None:
    """An admin's unlock: clear the failure count and lock, and end every console session the
    user has (an account locked by someone guessing may have been reached; the user signs in
    afresh). The caller commits.
    """
    user.failed_logins, user.locked_until = 0, None
    end_user_sessions(session, user.id, UNLOCKED, now)
