"""Directory search (`GET /api/v1/services`) on the in-memory index plus live capacity, and one
service in detail (`GET /api/v1/services/{id}`, the console's service page)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from navigator.core.clock import age_in_days
from navigator.core.places import Located
from navigator.directory.capacity import Capacity, capacities, red_service_ids
from navigator.directory.index import DirectoryIndex, Entry, narrow
from navigator.directory.models import ServiceChange
from navigator.directory.synonyms import SEARCH_SYNONYMS, Term


@dataclass(frozen=True)
class ServiceQuery:
    q: str | None = None
    need: str | None = None
    service_type: str | None = None
    sector: str | None = None
    place: str | None = None
    located: Located | None = None
    radius_km: float | None = None
    age_days: int | None = None
    sex: str | None = None
    caller_role: str | None = None
    open_at: datetime | None = None
    include_unavailable: bool = False
    page: int = 1
    per_page: int = 20

    @classmethod
    def from_args(cls, args: Mapping[str, Any], now: datetime) -> ServiceQuery:
        """From `ServiceSearchArgs` as loaded (the API's query string or the console's form)."""
        age_days = args.get("age_days")
        if "age" in args:
            age_days = age_in_days(args["age"])
        return cls(
            q=args.get("q"),
            need=args.get("need"),
            service_type=args.get("service_type"),
            sector=args.get("sector"),
            place=args.get("place"),
            located=args.get("postcode"),
            radius_km=args.get("radius_km"),
            age_days=age_days,
            sex=args.get("sex"),
            caller_role=args.get("caller_role"),
            open_at=now if args.get("open_now") else args.get("open_at"),
            include_unavailable=args.get("include_unavailable", False),
            page=args.get("page", 1),
            per_page=args.get("per_page", 20),
        )


@dataclass
class SearchResult:
    items: list[dict[str, Any]]
    total: int
    page: int
    per_page: int


@dataclass(frozen=True, slots=True)
class Match:
    entry: Entry
    distance_km: float | None


def _static_match(
    entry: Entry,
    query: ServiceQuery,
    terms: list[Term],
    open_at: datetime | None,
    open_by_schedule: dict[int, bool],
) -> Match | None:
    """Every filter that does not need the database, cheapest first; None if it fails one."""
    if not query.include_unavailable and not entry.active:
        return None
    if query.caller_role and query.caller_role not in entry.caller_roles:
        return None
    if query.age_days is not None and not entry.age_ok(query.age_days):
        return None
    if query.sex and not entry.sex_ok(query.sex):
        return None
    if terms and not all(term.matches(entry.text, entry.service_type) for term in terms):
        return None
    if open_at is not None:
        # Services share a few opening patterns (and Schedule objects): decide each once.
        key = id(entry.schedule)
        is_open = open_by_schedule.get(key)
        if is_open is None:
            is_open = open_by_schedule[key] = entry.schedule.is_open(open_at)
        if not is_open:
            return None
    distance = None
    if query.located is not None:
        distance = entry.distance_to(query.located)
        if not entry.covers(query.located, distance):
            return None
        if query.radius_km is not None and (distance is None or distance > query.radius_km):
            return None
    return Match(entry, distance)


def candidates(index: DirectoryIndex, query: ServiceQuery) -> list[Match]:
    positions: set[int] | None = None
    if query.service_type:
        positions = narrow(positions, index.by_type.get(query.service_type, set()))
    if query.need and query.located is None:
        positions = narrow(positions, index.by_need.get(query.need, set()))
    if query.sector:
        positions = narrow(positions, index.by_sector.get(query.sector, set()))
    if query.place:
        positions = narrow(positions, index.by_place.get(query.place, set()))
    if query.located is not None:
        positions = narrow(positions, index.covering(query.located, query.need))
    # The text's words, with the names people use read as any of their synonyms (A&E, UCR).
    terms = SEARCH_SYNONYMS.get().terms(query.q) if query.q else []
    pool = index.entries if positions is None else (index.entries[p] for p in positions)
    memo: dict[int, bool] = {}
    return [
        m
        for entry in pool
        if (m := _static_match(entry, query, terms, query.open_at, memo)) is not None
    ]


def render_item(
    entry: Entry,
    capacity: Capacity,
    *,
    now: datetime,
    located: Located | None,
    professional: bool,
) -> dict[str, Any]:
    """The directory item integrators see; professional-only fields only for professionals."""
    record, org = entry.record, entry.organisation
    location = record["locations"][0] if record["locations"] else None
    open_now = entry.active and entry.schedule.is_open(now)
    next_open = None if open_now or not entry.active else entry.schedule.next_open(now)
    distance = entry.distance_to(located) if located is not None else None
    elig, contact = record["eligibility"], record["contact"]
    return {
        "id": entry.id,
        "name": record["name"],
        "public_name": record["public_name"],
        "description": record["description"],
        "organisation": {"name": org["name"], "ods_code": org["ods_code"]},
        "sector": record["sector"],
        "service_type": entry.service_type,
        "status": record["status"],
        "needs": record["needs"],
        "places": record["coverage"]["places"],
        "location": {
            "address": location["address"],
            "postcode": location["postcode"],
            "lat": location["lat"],
            "lng": location["lng"],
        }
        if location
        else None,
        "distance_km": round(distance, 2) if distance is not None else None,
        "capacity": {
            "status": capacity.status,
            "note": capacity.note,
            "updated_at": capacity.updated_at.isoformat() if capacity.updated_at else None,
            "stale": capacity.stale,
        },
        "open_now": open_now,
        "next_open": next_open.isoformat() if next_open else None,
        "opening_summary": entry.opening_summary,
        "eligibility": {
            "min_age_days": elig["min_age_days"],
            "max_age_days": elig["max_age_days"],
            "sex": elig["sex"],
            "caller_roles": elig["caller_roles"],
        },
        "contact": {
            "public_phone": contact["public_phone"],
            "website": contact["website"],
            "professional_phone": contact["professional_phone"] if professional else None,
        },
        "referral_method": record["referral"]["method"],
        "referral_info": record["referral"]["info"] if professional else None,
    }


def search_services(
    session: Session,
    index: DirectoryIndex,
    query: ServiceQuery,
    *,
    now: datetime,
    stale_hours: int,
    keep: Callable[[Entry], bool] | None = None,
) -> SearchResult:
    """One page of the services that match `query` (by distance with a postcode, else by
    name), with live capacity. `keep`, if given, narrows the matches before they are counted
    and paged (the console's "only services needing checks")."""
    matches = candidates(index, query)
    if keep is not None:
        matches = [m for m in matches if keep(m.entry)]
    if not query.include_unavailable:
        red = red_service_ids(session, now)
        if red:
            matches = [m for m in matches if m.entry.id not in red]
    if query.located is not None:
        matches.sort(key=lambda m: (_or_inf(m.distance_km), m.entry.record["name"], m.entry.id))
    else:
        matches.sort(key=lambda m: (m.entry.record["name"], m.entry.id))
    start = (query.page - 1) * query.per_page
    page = matches[start : start + query.per_page]
    caps = capacities(session, [m.entry.id for m in page], now, stale_hours)
    items = [
        render_item(m.entry, caps[m.entry.id], now=now, located=query.located, professional=True)
        for m in page
    ]
    return SearchResult(items, len(matches), query.page, query.per_page)


def service_detail(
    session: Session, entry: Entry, *, now: datetime, stale_hours: int
) -> dict[str, Any]:
    """One service as `GET /api/v1/services/{id}` and the console's service page show it
    (`ServiceDetailSchema`): the search item (professional fields included) plus locations,
    coverage, restrictions, full opening times, assurance, who classified it and the source
    feed's own taxonomy terms (issue 15), and the latest 200 changes, newest first."""
    capacity = capacities(session, [entry.id], now, stale_hours)[entry.id]
    record = entry.record
    changes = session.scalars(
        select(ServiceChange)
        .where(ServiceChange.service_id == entry.id)
        .order_by(ServiceChange.changed_at.desc(), ServiceChange.id.desc())
        .limit(200)
    )
    return render_item(entry, capacity, now=now, located=None, professional=True) | {
        "locations": record["locations"],
        "coverage": record["coverage"],
        "restrictions": {
            "gp_practices": record["eligibility"]["gp_practices"],
            "places": record["eligibility"]["places"],
        },
        "opening": record["opening"],
        "assured_at": record["assured_at"],
        "assured_by": record["assured_by"],
        "classified_by": record["classified_by"],
        "source_terms": record["source_terms"],
        "changes": [
            {
                "changed_at": change.changed_at.isoformat(),
                "changed_by": change.changed_by,
                "field": change.field,
                "old": change.old_value,
                "new": change.new_value,
            }
            for change in changes
        ],
    }


def _or_inf(distance: float | None) -> float:
    return float("inf") if distance is None else distance
