"""Console sign-in (`navigator.auth.login`): every branch costs exactly one argon2 verification,
so response time does not tell an unknown email from a known, locked or unlocked account (issue
12 §3: a locked account answered in ~6 ms, an unknown email in ~160 ms; OWASP ASVS 2.2.1 and
the WSTG account-enumeration test). Counted by wrapping the real hasher, not by timing, so the
test is deterministic. Also: an admin's unlock ends the user's sessions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from navigator.auth import passwords
from navigator.auth.login import LOCKOUT, MAX_FAILED_LOGINS, check_login, unlock
from navigator.auth.models import User
from navigator.auth.passwords import create_user
from navigator.auth.sessions import UNLOCKED, resume_session, start_session
from navigator.core.db import transaction
from navigator.core.extensions import db
from tests.console.conftest import post_form

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
EMAIL, PASSWORD = "known@nhs.example", "the-right-password"


class CountingHasher:
    """The real argon2 hasher, counting how many passwords it verifies."""

    def __init__(self, real: PasswordHasher) -> None:
        self.real = real
        self.verifications = 0

    def verify(self, hash: str, password: str) -> bool:
        self.verifications += 1
        return self.real.verify(hash, password)

    def hash(self, password: str) -> str:
        return self.real.hash(password)


@pytest.fixture
def hasher(monkeypatch: pytest.MonkeyPatch) -> CountingHasher:
    counting = CountingHasher(passwords._hasher)
    monkeypatch.setattr(passwords, "_hasher", counting)
    return counting


@pytest.fixture
def known(session: Session) -> User:
    with transaction(session):
        return create_user(session, email=EMAIL, password=PASSWORD, role="navigator")


def _costs(hasher: CountingHasher, session: Session, email: str, password: str) -> int:
    before = hasher.verifications
    check_login(session, email, password, T0)
    session.commit()
    return hasher.verifications - before


def test_every_branch_verifies_exactly_one_password(
    session: Session, known: User, hasher: CountingHasher
) -> None:
    assert _costs(hasher, session, "nobody@nhs.example", "a-guess-at-it") == 1  # unknown
    assert _costs(hasher, session, EMAIL, PASSWORD) == 1  # right
    for _ in range(MAX_FAILED_LOGINS):  # wrong, and the failure that locks
        assert _costs(hasher, session, EMAIL, "a-wrong-guess") == 1
    assert known.locked_until == T0 + LOCKOUT
    assert _costs(hasher, session, EMAIL, "a-wrong-guess") == 1  # locked, wrong password
    assert _costs(hasher, session, EMAIL, PASSWORD) == 1  # locked, right password
    assert _costs(hasher, session, "nobody@nhs.example", "a-guess-at-it") == 1  # still the same


def test_a_locked_account_refuses_the_right_password(session: Session, known: User) -> None:
    known.locked_until = T0 + timedelta(minutes=1)
    session.commit()
    assert check_login(session, EMAIL, PASSWORD, T0) is None
    assert check_login(session, EMAIL, PASSWORD, T0 + timedelta(minutes=2)) is known


def test_the_sign_in_page_spends_the_same_hash_for_unknown_and_locked_accounts(
    app: Flask, client: FlaskClient, hasher: CountingHasher
) -> None:
    """The whole request, not just the function: the view adds no branch of its own."""
    with app.app_context(), transaction(db.session):
        user = create_user(db.session, email=EMAIL, password=PASSWORD, role="navigator")
        user.locked_until = datetime.now(UTC) + LOCKOUT
    for email in ("nobody@nhs.example", EMAIL):
        for password in ("a-wrong-guess", PASSWORD):
            before = hasher.verifications
            response = post_form(client, "/login", {"email": email, "password": password})
            assert response.status_code == 401
            assert hasher.verifications - before == 1, (email, password)


def test_unlocking_ends_every_session_of_the_user(session: Session, known: User) -> None:
    tokens = [start_session(session, known.id, T0) for _ in range(2)]
    known.locked_until = T0 + LOCKOUT
    session.commit()
    unlock(session, known, T0 + timedelta(minutes=1))
    session.commit()
    assert known.locked_until is None and known.failed_logins == 0
    for token in tokens:
        resumed = resume_session(
            session,
            token,
            now=T0 + timedelta(minutes=2),
            idle=timedelta(minutes=30),
            touch_every=timedelta(minutes=1),
        )
        assert resumed.user_id is None and resumed.reason == UNLOCKED
