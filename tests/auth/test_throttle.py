"""Failed-authentication counters per source address (`navigator.auth.throttle`): the limit,
the wait it answers, strictly per source and kind, old rows pruned, and how the source address
is found (IPv6 per /64; which proxies' `X-Forwarded-For` is believed is
tests/web/test_proxy.py, and the device cookies that exempt a known browser are
tests/auth/test_device_cookies.py). Issue 12 §3; OWASP ASVS 2.2.1 (anti-automation against
brute force and credential stuffing)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from navigator.auth.models import AuthFailure
from navigator.auth.throttle import (
    API_KEY,
    CONSOLE,
    Limit,
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
