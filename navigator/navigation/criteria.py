"""The national DoS criteria, checked for one service against one call.

Every criterion is checked in the national DoS order: active → caller role → age and sex →
GP-practice / place restriction → coverage → open (or opening within the urgency window, and
not closing within 30 minutes) → capacity not red. A service that passes them all is a match
for routing (`navigation.routing`) to rank; one that fails exactly one is a *gap*, a near miss
for commissioners (also used to explain a navigator's choice, `navigation.decisions`).

**Times.** Every criterion reads the call's time `facts.at`, not the server's clock: "open now"
means open at the time of the call.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from navigator.core.places import Located
from navigator.core.vocabulary import UNCLASSIFIED
from navigator.directory.capacity import Capacity
from navigator.directory.index import Entry
from navigator.rules.ruleset import Facts

CLOSING_SOON = timedelta(minutes=30)

# Each criterion's code (a gap's `criterion`) and what failing it means.
CRITERIA: dict[str, str] = {
    "active": "is temporarily closed or decommissioned",
    "caller_role": "does not take calls or referrals from this caller",
    "age": "does not see patients of this age",
    "sex": "does not see patients of this sex",
    "restriction": "only sees patients of particular GP practices or places",
    "coverage": "does not cover this postcode",
    "open": "is not open (or closes within 30 minutes) and does not open within the urgency window",
    "capacity": "has reported that it is full (red capacity)",
}


@dataclass(frozen=True)
class Call:
    """A call as routing needs it: the rule facts plus where the patient is."""

    facts: Facts
    located: Located
    gp_practice_ods: str | None = None


@dataclass(slots=True)
class Assessment:
    entry: Entry
    failures: tuple[str, ...]  # empty for a match, one criterion for a gap
    distance_km: float | None
    opens_at: datetime | None = None  # set when closed now but opening within the window
    closes_at: datetime | None = None
    capacity: Capacity | None = None


# (ok, opens_at, closes_at), as `_open_check` returns it.
OpenResult = tuple[bool, datetime | None, datetime | None]


@dataclass
class Memo:
    """Per-navigation answers shared by services with the same eligibility or schedule."""

    eligibility: dict[int, tuple[str, ...]] = field(default_factory=dict)
    opening: dict[int, OpenResult] = field(default_factory=dict)


def _open_check(entry: Entry, at: datetime, window: timedelta) -> OpenResult:
    """(ok, opens_at, closes_at): open now and not closing within 30 minutes, or opening within
    the window (measured in real time, so clock changes do not stretch or shrink it)."""
    schedule = entry.schedule
    if schedule.is_open(at):
        closes_at = schedule.closes_at(at)
        if closes_at is None or closes_at - at >= CLOSING_SOON:
            return True, None, closes_at
    if window > timedelta(0):
        horizon = math.ceil(window / timedelta(days=1)) + 1
        opens_at = schedule.next_open(at, horizon_days=horizon)
        if opens_at is not None and opens_at - at <= window:
            return True, opens_at, None
    return False, None, None


def _eligibility_failures(entry: Entry, call: Call) -> tuple[str, ...]:
    facts = call.facts
    failures = []
    if facts.caller_role not in entry.caller_roles:
        failures.append("caller_role")
    if facts.age_days is not None and not entry.age_ok(facts.age_days):
        failures.append("age")
    if not entry.sex_ok(facts.sex or "unknown"):
        failures.append("sex")
    if not entry.restriction_ok(call.gp_practice_ods, facts.place):
        failures.append("restriction")
    return tuple(failures)


def assess(
    entry: Entry, call: Call, window: timedelta, red: set[str], memo: Memo
) -> Assessment | None:
    """Check every criterion in DoS order. Returns the assessment of a match (no failure) or
    a gap (exactly one failure); None once a second criterion fails.

    `window` is the urgency window a closed service may open within; `red` the ids of services
    reporting red capacity now. This runs for every service of the wanted types near the
    postcode (hundreds in a city), so failures are tuples and the shared eligibility and
    opening answers come from `memo` (one per navigation).

    An unclassified service (kept from another directory, type not yet set by a person) is
    never a match nor a gap, whatever routing asks for (hazard H30).
    """
    if entry.service_type == UNCLASSIFIED:
        return None
    eligibility = memo.eligibility.get(id(entry.eligibility_key))
    if eligibility is None:
        eligibility = _eligibility_failures(entry, call)
        memo.eligibility[id(entry.eligibility_key)] = eligibility
    failures = eligibility if entry.active else ("active", *eligibility)
    if entry.id in red:
        failures = (*failures, "capacity")
    if len(failures) > 1:
        return None
    located = call.located
    distance = entry.distance_to(located)
    if not entry.covers(located, distance):
        if failures:
            return None
        failures = ("coverage",)
    opening = memo.opening.get(id(entry.schedule))
    if opening is None:
        opening = memo.opening[id(entry.schedule)] = _open_check(entry, call.facts.at, window)
    ok, opens_at, closes_at = opening
    if not ok:
        if failures:
            return None
        failures = ("open",)
    return Assessment(entry, failures, distance, opens_at, closes_at)
