"""The `Idempotency-Key` request header, read the same way by every endpoint that takes one
(`POST /api/v1/referrals`, `POST /api/v1/navigations`); what a key does is
`navigator.core.idempotency`'s."""

from __future__ import annotations

from flask import request

from navigator.core.errors import Problem

MAX_KEY_LENGTH = 200


def idempotency_key() -> str | None:
    """The request's `Idempotency-Key`, or None when it sent none. Raises Problem 400 naming
    the header when it is empty or longer than `MAX_KEY_LENGTH` characters."""
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 0 < len(key) <= MAX_KEY_LENGTH:
        raise Problem(
            400,
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters.",
            errors={"Idempotency-Key": [f"1 to {MAX_KEY_LENGTH} characters"]},
        )
    return key
