"""Idempotent writes: a retry of the same request returns the record it made the first time.

A client names its request with a key it chooses (the `Idempotency-Key` header of a referral,
the `event_id` of a transition) and the record stores a fingerprint of the body it was made
from. When the same key arrives again the domain finds the stored record by the key and asks
`replay_or_conflict`: the same body is a retry, answered with the stored record (the view
answers 200 instead of 201); a different body is a client bug, answered 409 with the domain's
own message and code, and nothing is written.

The unique constraint on (client, key) is what makes this safe under concurrency: the loser of
a race rolls back and, run again by `core.db.retry_on_conflict`, finds the winner's record.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from navigator.core.errors import Problem


class Fingerprinted(Protocol):
    """A stored record that keeps the `request_hash` of the body that made it."""

    @property
    def request_hash(self) -> str: ...


R = TypeVar("R", bound=Fingerprinted)


def request_hash(body: Mapping[str, Any]) -> str:
    """A fingerprint of what was asked (64 hex digits, SHA-256 of the body as canonical JSON:
    keys sorted, dates and other values by `str`), to tell a retry from a different request.
    Stored with the record, so it must not change between releases."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class KeyReused:
    """How a domain answers a key used again for a different body: 409 with this `detail`
    and machine-readable `code` (e.g. `idempotency_key_reused`)."""

    detail: str
    code: str


def replay_or_conflict(existing: R, fingerprint: str, reused: KeyReused) -> R:
    """`existing` (the record stored under the key) when it was made from the body whose
    `request_hash` is `fingerprint`: a replay. Raises Problem 409 `reused.code` with
    `reused.detail` when it was made from a different body."""
    if existing.request_hash != fingerprint:
        raise Problem(409, reused.detail, code=reused.code)
    return existing
