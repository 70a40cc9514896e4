"""Failed-authentication counters per source address (`navigator.auth.throttle`): the limit,
the wait it answers, strictly per source and kind, old rows pruned, and how the source address
is found (IPv6 per /64; `X-Forwarded-For` only from `TRUSTED_PROXIES` proxies), and the device
cookies that exempt a known browser from it. Issue 12 §3; OWASP ASVS 2.2.1 (anti-automation
against brute force and credential stuffing); OWASP "Slow Down Online Guessing Attacks with
Device Cookies"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask, request
from itsdangerous import URLSafeSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from navigator.auth.models import AuthFailure, User
from navigator.auth.passwords import create_user, set_password
from navigator.auth.throttle import (
    API_KEY,
    CONSOLE,
    MAX_DEVICE_ENTRIES,
    Limit,
    device_vouches_for,
    install_proxy_fix,
    issue_device_cookie,
    limit_from_config,
    record_failure,
    retry_after,
    source_address,
)

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
LIMIT = Limit(failures=3, window=timedelta(minutes=5))
HERE, THERE = "203.0.113.7", "198.51.100.9"


def _fail(session: Session, at: datetime, source: str = HERE, kind: str = API_KEY) -> None:
    record_failure(session, source, kind, LIMIT, at)
    session.commit()


def test_a_source_is_refused_at_the_limit_until_the_oldest_failure_ages_out(
    session: Session,
) -> None:
    _fail(session, T0)
    _fail(session, T0 + timedelta(seconds=10))
    assert retry_after(session, HERE, API_KEY, LIMIT, T0 + timedelta(seconds=20)) is None
    _fail(session, T0 + timedelta(seconds=20))
    # Three in the window: refused until the first (T0) leaves it at T0 + 5 min.
    wait = retry_after(session, HERE, API_KEY, LIMIT, T0 + timedelta(seconds=30))
    assert wait == 270
    assert retry_after(session, HERE, API_KEY, LIMIT, T0 + timedelta(seconds=299.5)) == 1
    assert retry_after(session, HERE, API_KEY, LIMIT, T0 + timedelta(minutes=5)) is None


def test_more_failures_than_the_limit_wait_for_enough_of_them_to_age_out(
    session: Session,
) -> None:
    """Several workers may record past the limit at once; the wait still frees just one slot."""
    for second in (0, 60, 120, 180):
        _fail(session, T0 + timedelta(seconds=second))
    # Four recorded, limit three: allowed again when two have aged out, i.e. at 60 s + 5 min.
    assert retry_after(session, HERE, API_KEY, LIMIT, T0 + timedelta(seconds=200)) == 160


def test_counting_is_strictly_per_source_and_per_kind(session: Session) -> None:
    for second in range(3):
        _fail(session, T0 + timedelta(seconds=second))
    now = T0 + timedelta(seconds=5)
    assert retry_after(session, HERE, API_KEY, LIMIT, now) is not None
    assert retry_after(session, THERE, API_KEY, LIMIT, now) is None
    assert retry_after(session, HERE, CONSOLE, LIMIT, now) is None


def test_rows_older_than_the_window_are_pruned_as_new_ones_land(session: Session) -> None:
    for second in range(3):
        _fail(session, T0 + timedelta(seconds=second), source=THERE)
    _fail(session, T0, kind=CONSOLE)
    _fail(session, T0 + timedelta(minutes=10))
    count = session.scalar(select(func.count()).select_from(AuthFailure))
    assert count == 2  # this kind's old rows went; the console row is pruned by its own kind
    kinds = set(session.scalars(select(AuthFailure.kind)))
    assert kinds == {API_KEY, CONSOLE}


def test_limits_come_from_the_settings(app: Flask) -> None:
    assert limit_from_config(app.config, API_KEY) == Limit(20, timedelta(minutes=5))
    assert limit_from_config(app.config, CONSOLE) == Limit(20, timedelta(minutes=5))
    custom = {"AUTH_THROTTLE": {API_KEY: (5, 60), CONSOLE: (10, 600)}}
    assert limit_from_config(custom, CONSOLE) == Limit(10, timedelta(minutes=10))


def test_source_addresses_ipv4_as_is_ipv6_per_64() -> None:
    assert source_address("203.0.113.7") == "203.0.113.7"
    # One host is usually given a whole /64: walking its addresses must not reset the count.
    assert source_address("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert source_address("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert source_address("2001:db8:1:3::1") == "2001:db8:1:3::/64"
    assert source_address("::ffff:203.0.113.7") == "203.0.113.7"
    assert source_address(None) == "unknown"
    assert len(source_address("x" * 200)) == 64


def test_forwarded_for_is_believed_only_from_trusted_proxies() -> None:
    """Without a trusted proxy a client could pick its own address by sending the header."""

    def seen(trusted: int) -> str:
        app = Flask(__name__)
        app.config["TRUSTED_PROXIES"] = trusted

        @app.route("/")
        def where() -> str:
            return str(request.remote_addr)

        install_proxy_fix(app)
        response = app.test_client().get(
            "/",
            headers={"X-Forwarded-For": "192.0.2.1, 203.0.113.50"},
            environ_base={"REMOTE_ADDR": "10.0.0.2"},
        )
        return response.text

    assert seen(0) == "10.0.0.2"  # the default: the connection's own address
    assert seen(1) == "203.0.113.50"  # what the one proxy saw, not what the client claimed
    assert seen(2) == "192.0.2.1"


# Device cookies: OWASP, "Slow Down Online Guessing Attacks with Device Cookies". A cookie
# issued at a successful sign-in vouches for that browser and that account only.
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
