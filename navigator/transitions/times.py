"""Bounds on the event times a client reports for transitions and DTOC episodes.

An event time is when something already happened (a patient became ready for transfer, left
the bed, was admitted), so it cannot be in the future; and a delay counted from an absurdly
old ready time costs a row per day (a ready date near 1900 wrote 35,000 `dtoc_days` rows and
took 0.85 s per request) and swamps the CISP months. Issue 13 §7 (review): refused with 422
naming the field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from navigator.core.errors import field_error

# A client's clock may run a little ahead of ours; more than this is a wrong time, not skew.
CLOCK_SKEW = timedelta(minutes=5)
# Nothing navigator records about transitions or delays happened before this; it also caps a
# delay's day rows at about 9,500 today.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


def check_event_times(body: Mapping[str, Any], fields: Iterable[str], now: datetime) -> None:
    """Each of `fields` present (and not None) in `body` must be an aware datetime from
    `EARLIEST` (1 January 2000, 00:00 UTC) to `now + CLOCK_SKEW` (5 minutes), both inclusive.

    Raises `Problem` 422 naming the first field out of bounds (no patient data in the words).
    """
    latest = now + CLOCK_SKEW
    for name in fields:
        value = body.get(name)
        if value is None:
            continue
        if value > latest:
            raise field_error(name, "Cannot be in the future: give when it happened")
        if value < EARLIEST:
            raise field_error(name, "Cannot be before 1 January 2000")
