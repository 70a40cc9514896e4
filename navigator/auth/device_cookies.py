"""Signed device cookies: a browser that signed in to a console account is a known client for
that account, exempt from the per-source sign-in throttle (`auth/throttle.py`).

OWASP, *Slow Down Online Guessing Attacks with Device Cookies*: navigators behind one NHS NAT,
or behind a proxy when `TRUSTED_PROXIES` is 0, share one source address, so an outsider's
failures would lock every one of them out of the console. A successful console sign-in
therefore leaves a long-lived device cookie in that browser, signed with `SECRET_KEY` and
naming the account (`issue_device_cookie`). A later sign-in that presents a valid device
cookie *for the account it names* is a known client: the per-source throttle does not apply
to it and its failures are not counted against the source (`device_vouches_for`). The
account's own lockout still applies to it, and its failures count towards that lockout as any
others do. A cookie is worthless once it is older than its maximum age, once the account's
password changes (each entry carries an HMAC over the account's current password hash) or
when `SECRET_KEY` changes; one browser holds entries for at most `MAX_DEVICE_ENTRIES`
accounts (a shared workstation), the newest first.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from navigator.auth.models import User

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
