"""Throttling failed authentication per source address (ASVS 2.2.1), in the database.

Each failed authentication (a bad API key, a failed console sign-in) adds an `AuthFailure`
row for its source address. A source with `failures` or more failures of one kind within the
last `window` is refused (429) until enough of them have aged out. The rows live in the
database, not in process memory, so every gunicorn worker and node counts the same failures;
rows older than the window are deleted as new ones arrive.

Counting is per source only: one client's failures never slow another address. The source is
the request's remote address, which `ProxyFix` rewrites from `X-Forwarded-For` only when
`TRUSTED_PROXIES` says how many proxies to trust (none by default, so a client cannot forge
its address with a header). IPv6 sources are counted per /64, the block one host or home is
usually given, so an attacker cannot dodge the limit by walking through its own addresses.

Under concurrent failures from one source, a few more than `failures` may be recorded before
the refusals begin (the count and the insert are not one atomic step); the limit slows
guessing, it is not a quota.

Device cookies (OWASP, *Slow Down Online Guessing Attacks with Device Cookies*): navigators
behind one NHS NAT, or behind a proxy when `TRUSTED_PROXIES` is 0, share one source address,
so an outsider's failures would lock every one of them out of the console. A successful
console sign-in therefore leaves a long-lived device cookie in that browser, signed with
`SECRET_KEY` and naming the account (`issue_device_cookie`). A later sign-in that presents a
valid device cookie *for the account it names* is a known client: the per-source throttle does
not apply to it and its failures are not counted against the source
(`device_vouches_for`). The account's own lockout still applies to it, and its failures
count towards that lockout as any others do. A cookie is worthless once it is older than its
maximum age, once the account's password changes (each entry carries an HMAC over the
account's current password hash) or when `SECRET_KEY` changes; one browser holds entries for
at most `MAX_DEVICE_ENTRIES` accounts (a shared workstation), the newest first.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from werkzeug.middleware.proxy_fix import ProxyFix

from navigator.auth.models import AuthFailure, User

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


def install_proxy_fix(app: Flask) -> None:
    """Trust `X-Forwarded-For` from exactly `TRUSTED_PROXIES` proxies (0: trust none).

    With one reverse proxy in front (nginx, a load balancer), set it to 1: the address the
    proxy saw becomes `request.remote_addr`. Set it higher than the real number of proxies and
    a client can choose its own address, and with it escape the throttle.
    """
    hops = int(app.config.get("TRUSTED_PROXIES", 0))
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops)  # type: ignore[method-assign]


# --- Device cookies (OWASP "Slow Down Online Guessing Attacks with Device Cookies") --------

DEVICE_COOKIE = "navigator_device"
# Accounts one browser vouches for at once: enough for a shared workstation, small enough
# that the cookie stays well under browsers' 4 KB limit (about 120 bytes an entry).
MAX_DEVICE_ENTRIES = 5
# Kept apart from every other use of SECRET_KEY (Flask's session, CSRF tokens).
_SALT = "navigator.auth.device-cookie"


def _secret(secret_key: str | bytes) -> bytes:
    return secret_key.encode() if isinstance(secret_key, str) else secret_key


def _binding(secret_key: str | bytes, user: User, nonce: str) -> str:
    """HMAC-SHA256 over the account id, the entry's nonce and the account's current password
    hash: a new password (argon2 salts afresh, so even the same password) gives a new hash,
    and with it every device cookie issued before is worthless. The hash itself never leaves
    the server."""
    message = f"{_SALT}|{user.id}|{nonce}|{user.password_hash}".encode()
    return hmac.new(_secret(secret_key), message, hashlib.sha256).hexdigest()[:32]


def _entries(cookie: str | None, secret_key: str | bytes) -> list[list[Any]]:
    """The `[user id, nonce, issued (epoch seconds), binding]` entries of a cookie whose
    signature is right; [] for no cookie, a forged or tampered one, or a malformed payload."""
    if not cookie:
        return []
    try:
        payload = URLSafeSerializer(_secret(secret_key), salt=_SALT).loads(cookie)
    except BadSignature:
        return []
    if not isinstance(payload, list):
        return []
    return [
        entry
        for entry in payload[:MAX_DEVICE_ENTRIES]
        if isinstance(entry, list)
        and len(entry) == 4
        and isinstance(entry[0], int)
        and isinstance(entry[2], int)
        and all(isinstance(part, str) for part in (entry[1], entry[3]))
    ]


def issue_device_cookie(
    secret_key: str | bytes, user: User, existing: str | None, now: datetime
) -> str:
    """The device cookie to set after `user` has signed in: a fresh entry for this account
    (new nonce, issued `now`) first, then the browser's other still-signed entries for other
    accounts, at most `MAX_DEVICE_ENTRIES` in all. Signed with `secret_key`; not encrypted (it
    holds ids, nonces and times, nothing secret)."""
    nonce = secrets.token_urlsafe(16)
    fresh = [user.id, nonce, int(now.timestamp()), _binding(secret_key, user, nonce)]
    others = [entry for entry in _entries(existing, secret_key) if entry[0] != user.id]
    payload = [fresh, *others][:MAX_DEVICE_ENTRIES]
    return str(URLSafeSerializer(_secret(secret_key), salt=_SALT).dumps(payload))


def device_vouches_for(
    session: Session,
    cookie: str | None,
    email: str,
    secret_key: str | bytes,
    now: datetime,
    max_age: timedelta,
) -> bool:
    """Whether `cookie` is a valid device cookie for the account signed in as `email`: its
    signature is right, and one of its entries names that account, was issued within
    `max_age` before `now` (timezone-aware), and is bound to the account's current password hash.

    The database is read only for a cookie whose signature is right, which only a browser
    that signed in here can hold: a request without one costs no lookup, so timing tells an
    outsider nothing about which accounts exist.
    """
    entries = [
        entry
        for entry in _entries(cookie, secret_key)
        if now - datetime.fromtimestamp(entry[2], UTC) <= max_age
    ]
    if not entries:
        return False
    wanted = email.strip().lower()
    users = {
        user.id: user
        for user in session.scalars(select(User).where(User.id.in_([e[0] for e in entries])))
    }
    for user_id, nonce, _issued, binding in entries:
        user = users.get(user_id)
        if (
            user is not None
            and user.email == wanted
            and hmac.compare_digest(binding, _binding(secret_key, user, nonce))
        ):
            return True
    return False
