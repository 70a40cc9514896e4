"""Signed device cookies (`navigator.auth.device_cookies`): a cookie issued at a successful
sign-in vouches for that browser and that account only, while young, until the password
changes, and for at most `MAX_DEVICE_ENTRIES` accounts; forged or tampered ones for nobody.
Issue 12 §3; OWASP "Slow Down Online Guessing Attacks with Device Cookies"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from itsdangerous import URLSafeSerializer
from sqlalchemy.orm import Session

from navigator.auth.device_cookies import (
    MAX_DEVICE_ENTRIES,
    device_vouches_for,
    issue_device_cookie,
)
from navigator.auth.models import User
from navigator.auth.passwords import create_user, set_password

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SECRET = "test-only-secret"
MAX_AGE = timedelta(days=90)


def _user(session: Session, email: str) -> User:
    return create_user(session, email=email, password="a-long-test-password", role="navigator")


def test_a_device_cookie_vouches_only_for_its_account_and_only_while_young(
    session: Session,
) -> None:
    ann, bob = _user(session, "ann@nhs.example"), _user(session, "bob@nhs.example")
    cookie = issue_device_cookie(SECRET, ann, None, T0)
    assert device_vouches_for(session, cookie, " ANN@nhs.example ", SECRET, T0, MAX_AGE)
    assert not device_vouches_for(session, cookie, bob.email, SECRET, T0, MAX_AGE)
    assert not device_vouches_for(session, cookie, "nobody@nhs.example", SECRET, T0, MAX_AGE)
    later = T0 + MAX_AGE
    assert device_vouches_for(session, cookie, ann.email, SECRET, later, MAX_AGE)
    expired = later + timedelta(seconds=1)
    assert not device_vouches_for(session, cookie, ann.email, SECRET, expired, MAX_AGE)


def test_a_forged_or_tampered_device_cookie_vouches_for_nobody(session: Session) -> None:
    ann = _user(session, "ann@nhs.example")
    cookie = issue_device_cookie(SECRET, ann, None, T0)
    other_key = issue_device_cookie("another-secret", ann, None, T0)
    body, signature = cookie.rsplit(".", 1)
    tampered = f"{body}.{signature[::-1]}"
    # Well signed, but not a list of entries (e.g. signed by a future version): refused too.
    odd = URLSafeSerializer(SECRET, salt="navigator.auth.device-cookie").dumps({"u": ann.id})
    for bad in (other_key, tampered, odd, "", None, "x" * 5000):
        assert not device_vouches_for(session, bad, ann.email, SECRET, T0, MAX_AGE), bad


def test_a_new_password_unbinds_every_earlier_device_cookie(session: Session) -> None:
    ann = _user(session, "ann@nhs.example")
    cookie = issue_device_cookie(SECRET, ann, None, T0)
    set_password(ann, "a-long-test-password")  # the same words, a new argon2 hash
    session.flush()
    assert not device_vouches_for(session, cookie, ann.email, SECRET, T0, MAX_AGE)
    fresh = issue_device_cookie(SECRET, ann, cookie, T0)
    assert device_vouches_for(session, fresh, ann.email, SECRET, T0, MAX_AGE)


def test_a_shared_workstation_keeps_the_newest_accounts(session: Session) -> None:
    """One browser used by several navigators vouches for the last MAX_DEVICE_ENTRIES."""
    users = [_user(session, f"n{i}@nhs.example") for i in range(MAX_DEVICE_ENTRIES + 1)]
    cookie: str | None = None
    for minute, user in enumerate(users):
        cookie = issue_device_cookie(SECRET, user, cookie, T0 + timedelta(minutes=minute))
    now = T0 + timedelta(hours=1)
    vouched = [device_vouches_for(session, cookie, u.email, SECRET, now, MAX_AGE) for u in users]
    assert vouched == [False] + [True] * MAX_DEVICE_ENTRIES
    # Signing in again renews that account's entry without duplicating it.
    again = issue_device_cookie(SECRET, users[-1], cookie, now)
    assert all(device_vouches_for(session, again, u.email, SECRET, now, MAX_AGE) for u in users[1:])
