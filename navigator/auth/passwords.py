"""Console users' passwords, hashed with argon2: the one rule for a password (at least
`MIN_PASSWORD_LENGTH` characters), creating a user with a first password, checking one, and
setting a new one. API clients have keys, not passwords (`auth/keys.py`)."""

from __future__ import annotations

import contextlib

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from navigator.auth.models import USER_ROLES, User
from navigator.auth.sessions import PASSWORD_CHANGED, end_user_sessions
from navigator.core.db import utcnow

_hasher = PasswordHasher()

MIN_PASSWORD_LENGTH = 10


def create_user(session: Session, *, email: str, password: str, role: str) -> User:
    """A console user with this role and first password, its email lower-cased; flushes, the
    caller commits. ValueError for an unknown role, a password that is too short, or an email
    another user already has."""
    if role not in USER_ROLES:
        raise ValueError(f"role must be one of {', '.join(USER_ROLES)}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    email = email.strip().lower()
    if session.scalar(select(User).where(User.email == email)):
        raise ValueError(f"a user with email {email} already exists")
    user = User(email=email, password_hash=_hasher.hash(password), role=role)
    session.add(user)
    session.flush()
    return user


def password_matches(user: User, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


_DUMMY_HASH = _hasher.hash("not a real password")


def spend_a_hash(password: str) -> None:
    """Verify against a throwaway hash: an unknown user costs as much time as a known one."""
    with contextlib.suppress(VerificationError):
        _hasher.verify(_DUMMY_HASH, password)


def set_password(user: User, password: str) -> None:
    """Give a user a new password (ValueError if too short), unlock the account and end every
    console session the user has, wherever it was opened: whoever held the old password, or a
    cookie from it, is signed out. The user must be in a session (to end those sessions); the
    caller commits.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    session = object_session(user)
    if session is None:
        raise ValueError("set_password needs a user loaded in a database session")
    user.password_hash = _hasher.hash(password)
    user.failed_logins = 0
    user.locked_until = None
    if user.id is not None:  # a user not yet flushed has no sessions
        end_user_sessions(session, user.id, PASSWORD_CHANGED, utcnow())
