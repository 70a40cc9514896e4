"""How long an outbox waits before trying a message again (the SMS and BaRS outboxes)."""

from __future__ import annotations

from datetime import timedelta


def doubling_backoff(attempts: int, base: float, cap: float) -> timedelta:
    """The wait after `attempts` attempts: `base` seconds, doubling with each attempt made
    after the first, never more than `cap` seconds."""
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))
