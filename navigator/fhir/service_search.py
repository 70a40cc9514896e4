"""The search behind `GET /fhir/HealthcareService`: `find_services` (the directory services
matching a parsed `ServiceSearch`, in a total order), their live capacity one page at a time
(`page_capacities`), and a match's distance as FHIR core `location-distance`
(`distance_extension`). Each match is shown as `healthcare_service.healthcare_service`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from navigator.core.vocabulary import Vocabulary
from navigator.directory.capacity import Capacity, capacities, red_service_ids
from navigator.directory.index import DirectoryIndex, Entry
from navigator.directory.search import ServiceQuery, candidates
from navigator.fhir.healthcare_service import UCUM, healthcare_service, shows_professional
from navigator.fhir.search_params import ServiceSearch
from navigator.fhir.searchset import searchset_bundle

LOCATION_DISTANCE = "http://hl7.org/fhir/StructureDefinition/location-distance"


@dataclass(frozen=True, slots=True)
class Found:
    entry: Entry
    distance_km: float | None  # from location.near, else from coverage-postcode, else None


def find_services(
    index: DirectoryIndex, search: ServiceSearch, *, red: Collection[str] = frozenset()
) -> list[Found]:
    """Every service matching `search`, in a total order: nearest first when a distance is
    asked for (`location.near`, else `coverage-postcode`), else by name; then by id.

    The filters `/api/v1/services` has are its own (`directory.search.candidates`: service
    type, need, coverage, caller role, age, open at); the FHIR-only ones (ids, organisation,
    several types, active, location postcode, near) narrow its answer.

    Like DoS and `/api/v1/services`, a search answers with services that can take a patient:
    active ones unless `active=false` asks for the others, and never one in `red` (the ids
    reporting red capacity now: DoS's CheckCapacitySummary search returns green and amber
    services only, per its public API documentation, nhsd-a2si/docs-dos-api), so a
    client that shows the first result cannot offer a closed or full service (hazard H35).
    A read by id returns any service, with its status and capacity."""
    types = search.service_types
    query = ServiceQuery(
        need=search.need,
        service_type=next(iter(types)) if types is not None and len(types) == 1 else None,
        located=search.coverage,
        age_days=search.age_days,
        caller_role=search.caller_role,
        open_at=search.open_at,
        include_unavailable=True,
    )
    matches = candidates(index, query)
    found: list[Found] = []
    for match in matches:
        entry = match.entry
        if search.ids is not None and entry.id not in search.ids:
            continue
        if types is not None and entry.service_type not in types:
            continue
        if not _organisation_ok(entry, search):
            continue
        if entry.active != (True if search.active is None else search.active):
            continue
        if entry.id in red:
            continue
        if search.postcode is not None and not _at_postcode(entry, search.postcode):
            continue
        distance = match.distance_km
        if search.near is not None:
            here = search.near.point
            distance = min((p.km_to(here) for p in entry.points), default=None)
            if search.near.km is not None and (distance is None or distance > search.near.km):
                continue
        found.append(Found(entry, distance))
    if search.near is not None or search.coverage is not None:
        found.sort(key=lambda f: (_or_inf(f.distance_km), f.entry.record["name"], f.entry.id))
    else:
        found.sort(key=lambda f: (f.entry.record["name"], f.entry.id))
    return found


def _organisation_ok(entry: Entry, search: ServiceSearch) -> bool:
    if search.ods_codes is None and search.organisation_ids is None:
        return True
    org = entry.organisation
    return bool(
        (search.ods_codes and (org["ods_code"] or "").upper() in search.ods_codes)
        or (search.organisation_ids and org["id"] in search.organisation_ids)
    )


def _at_postcode(entry: Entry, postcode: str) -> bool:
    """A location at this full postcode, or in this district for an outward code."""
    for location in entry.record["locations"]:
        text = location["postcode"] or ""
        if text == postcode or (" " not in postcode and text.partition(" ")[0] == postcode):
            return True
    return False


def _or_inf(distance: float | None) -> float:
    return float("inf") if distance is None else distance


def page_capacities(
    session: Session, found: Iterable[Found], now: datetime, stale_hours: int
) -> dict[str, Capacity]:
    """Live capacity of the services on one page (one query)."""
    return capacities(session, [f.entry.id for f in found], now, stale_hours)


def distance_extension(distance_km: float) -> dict[str, Any]:
    """`Bundle.entry.search.extension` for a distance search (FHIR core `location-distance`)."""
    return {
        "url": LOCATION_DISTANCE,
        "valueDistance": {
            "value": round(distance_km, 3),
            "unit": "km",
            "system": UCUM,
            "code": "km",
        },
    }


def healthcare_service_searchset(
    session: Session,
    index: DirectoryIndex,
    search: ServiceSearch,
    *,
    vocab: Vocabulary,
    base: str,
    now: datetime,
    stale_hours: int,
) -> dict[str, Any]:
    """The answer to `GET /fhir/HealthcareService`: one page of `find_services` (red-capacity
    services left out as of `now`) as a searchset Bundle of HealthcareService resources under
    navigator's FHIR `base` URL, each with `search.mode = match` and, when a distance was asked
    for, its `location-distance`; professional-only numbers as `search.caller_role` may see."""
    found = find_services(index, search, red=red_service_ids(session, now))
    paging = search.paging
    page = found[paging.offset : paging.offset + paging.count]
    caps = page_capacities(session, page, now, stale_hours)
    professional = shows_professional(search.caller_role)
    entries = []
    for item in page:
        entry_search: dict[str, Any] = {"mode": "match"}
        if item.distance_km is not None and (search.near or search.coverage):
            entry_search["extension"] = [distance_extension(item.distance_km)]
        resource = healthcare_service(
            item.entry, caps[item.entry.id], vocab, now=now, professional=professional
        )
        entries.append(
            {
                "fullUrl": f"{base}/HealthcareService/{item.entry.id}",
                "resource": resource,
                "search": entry_search,
            }
        )
    return searchset_bundle(
        url=f"{base}/HealthcareService",
        query=search.query,
        paging=paging,
        total=len(found),
        entries=entries,
        now=now,
    )
