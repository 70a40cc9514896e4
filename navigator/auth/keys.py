"""API keys: `nav_<prefix>_<secret>`; the prefix finds the row, a SHA-256 of the key checks it.

Keys carry 256 bits of randomness, so a fast hash is safe here (unlike passwords) and keeps
authentication off the hot path of the 20 ms search budget.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from navigator.auth.models import API_ROLES, ApiClient

LABEL_MAX = 200
"""The length of every column a caller's label is written to (audit `actor`, `created_by`,
`decided_by`, `changed_by` …: all String(200))."""


@dataclass(frozen=True)
class Caller:
    """Who is making a request (an API client or a console user), as the services see it."""

    client_id: int
    name: str
    role: str
    organisation_ods: str | None
    kind: str = "api"  # api | user: API clients and console users are numbered separately

    @property
    def label(self) -> str:
        """`kind:id:name`, at most LABEL_MAX characters: a long name (an email may have 254)
        is cut short, so the label always fits the columns it is written to. The kind and id
        are never cut, and they alone identify the caller; the name is for people to read."""
        return f"{self.kind}:{self.client_id}:{self.name}"[:LABEL_MAX]

    @property
    def client_ref(self) -> str:
        """Scopes idempotency keys and event ids to one caller, whichever kind."""
        return str(self.client_id) if self.kind == "api" else f"{self.kind}:{self.client_id}"


# Built once: on the hot path, building a SELECT costs more than SQLite takes to run it.
_KEY_LOOKUP = select(
    ApiClient.id,
    ApiClient.name,
    ApiClient.role,
    ApiClient.organisation_ods,
    ApiClient.key_hash,
    ApiClient.revoked_at,
).where(ApiClient.key_prefix == bindparam("prefix"))


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_client(
    session: Session, *, name: str, role: str, organisation_ods: str | None = None
) -> tuple[ApiClient, str]:
    """Create a client and return it with its key; the key is not kept anywhere."""
    if role not in API_ROLES:
        raise ValueError(f"role must be one of {', '.join(API_ROLES)}")
    if role == "provider" and not organisation_ods:
        raise ValueError("a provider client needs --organisation (the ODS code it may update)")
    prefix = secrets.token_hex(6)
    key = f"nav_{prefix}_{secrets.token_urlsafe(32)}"
    client = ApiClient(
        name=name,
        role=role,
        organisation_ods=organisation_ods.upper() if organisation_ods else None,
        key_prefix=prefix,
        key_hash=_digest(key),
    )
    session.add(client)
    session.flush()
    return client, key


def authenticate(session: Session, key: str) -> Caller | None:
    parts = key.split("_")
    if len(parts) < 3 or parts[0] != "nav":
        return None
    # A plain row on the session's connection, not an ORM object: this runs on every request.
    row = session.connection().execute(_KEY_LOOKUP, {"prefix": parts[1]}).first()
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.key_hash, _digest(key)):
        return None
    return Caller(row.id, row.name, row.role, row.organisation_ods)
