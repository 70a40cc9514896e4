"""Throttling failed authentication per source address (ASVS 2.2.1), in the database.

Each failed authentication (a bad API key, a failed console sign-in) adds an `AuthFailure`
row for its source address. A source with `failures` or more failures of one kind within the
last `window` is refused (429) until enough of them have aged out. The rows live in the
database, not in process memory, so every gunicorn worker and node counts the same failures;
rows older than the window are deleted as new ones arrive.

Counting is per source only: one client's failures never slow another address. The source is
the request's remote address, which `ProxyFix` (`navigator/web/proxy.py`) rewrites from
`X-Forwarded-For` only when `TRUSTED_PROXIES` says how many proxies to trust (none by default,
so a client cannot forge its address with a header). IPv6 sources are counted per /64, the
block one host or home is usually given, so an attacker cannot dodge the limit by walking
through its own addresses.

Under concurrent failures from one source, a few more than `failures` may be recorded before
the refusals begin (the count and the insert are not one atomic step); the limit slows
guessing, it is not a quota.

A browser a console user has signed in from is exempt from the per-source console throttle
for that account (`auth/device_cookies.py`), so an outsider's failures cannot lock out
navigators who share one address.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from navigator.auth.models import AuthFailure

API_KEY = "api_key"
CONSOLE = "console"
KINDS = (API_KEY, CONSOLE)


@dataclass(frozen=True)
class Limit:
    """At most `failures` failed authentications per source within `window`."""

    failures: int
    window: timedelta


def limit_from_config(config: Mapping[str, Any], kind: str) -> Limit:
    """The limit for `api_key` or `console` from the app settings (`AUTH_THROTTLE_*`)."""
    failures, seconds = config["AUTH_THROTTLE"][kind]
    return Limit(int(failures), timedelta(seconds=int(seconds)))


def source_address(remote_addr: str | None) -> str:
    """The key failures are counted under: an IPv4 address as it is, an IPv6 address as its
    /64 network (`2001:db8:1:2::/64`), anything unparseable as itself (cut to 64 characters),
    and `unknown` when the server gives no address (e.g. a Unix socket).
    """
    if not remote_addr:
        return "unknown"
    try:
        address = ipaddress.ip_address(remote_addr)
    except ValueError:
        return remote_addr[:64]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def retry_after(
    session: Session, source: str, kind: str, limit: Limit, now: datetime
) -> int | None:
    """Seconds (at least 1) until `source` may try `kind` again, or None if it may now.

    Refused while `limit.failures` or more failures lie within the window; allowed again when
    the failure that brings the count down to `failures - 1` ages out.
    """
    recent = list(
        session.scalars(
            select(AuthFailure.at)
            .where(
                AuthFailure.source == source,
                AuthFailure.kind == kind,
                AuthFailure.at > now - limit.window,
            )
            .order_by(AuthFailure.at.desc())
            .limit(limit.failures)
        )
    )
    if len(recent) < limit.failures:
        return None
    # The oldest of the newest `failures` rows: once it leaves the window, one slot is free.
    free_at = recent[-1] + limit.window
    return max(1, math.ceil((free_at - now).total_seconds()))


def record_failure(session: Session, source: str, kind: str, limit: Limit, now: datetime) -> None:
    """Count one failed authentication from `source`, and delete this kind's rows that have
    left the window (the table holds at most one window of failures). The caller commits.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    session.execute(
        delete(AuthFailure).where(AuthFailure.kind == kind, AuthFailure.at <= now - limit.window)
    )
    session.add(AuthFailure(source=source, kind=kind, at=now))
    session.flush()
