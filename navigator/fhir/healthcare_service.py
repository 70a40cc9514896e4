"""A directory service as a FHIR R4 `HealthcareService`, and the search behind
`GET /fhir/HealthcareService`.

The shape follows the DoS Search API (`NHSDigital/ftrs-directory-of-services`,
`docs/specification/dos-search.yaml`, its HealthcareService example): `providedBy` an
Organization reference, `type`, `eligibility`, `telecom` with each phone number's audience in
the core extension `contactpoint-comment` ("Public" or "Clinician Access Only", the DoS's own
words). Where navigator holds more, it says it in core elements where they fit and in two
extensions of its own where they do not:

Element by element, from the directory record:

- `identifier`: `{base}/Id/service` + the service id (services carry no ODS code of their own);
- `providedBy`: `Organization/<organisation id>`, with the ODS code as `identifier` when known;
- `category` / `type` / `characteristic`: sector / service type / needs, each a navigator
  CodeSystem (`navigator.fhir.codesystems`);
- `location`: `#loc-N`, each service location as a `contained` Location (name, address,
  postcode, position): navigator serves no Location endpoint;
- `telecom`: public phone ("Public"), professional phone ("Clinician Access Only", only when
  `professional`), email, website;
- `eligibility`: sex (administrative-gender), age range (usage-context-type `age`, with exact
  days in the extension `eligibility-age-range`), each caller role admitted (caller-roles),
  each place (places) or GP practice a service is restricted to;
- `availableTime`: the weekly sessions (London wall-clock); open all hours is every day
  `allDay`;
- `notAvailable`: temporarily closed or defunct; closed specified dates and closed bank
  holidays, from today for `NOT_AVAILABLE_DAYS` days;
- `availabilityExceptions`: the whole timetable in words (bank holidays and recurring sessions
  included) and the specified dates with their own sessions;
- `referralMethod`: the referral method (service-referral-method where one fits);
- extension `service-capacity`: the live RAG status.

The capacity extension (`{base}/StructureDefinition/service-capacity`) is complex:
`status` valueCode (green | amber | red, 1..1), `stale` valueBoolean (1..1; true when not
updated within `CAPACITY_STALE_HOURS`, or never), `updated` valueInstant (0..1), `resetAt`
valueInstant (0..1; when an amber or red status returns to green), `note` valueString (0..1).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session

from navigator.core.clock import (
    DAY_MINUTES,
    LONDON,
    Period,
    format_minutes,
    is_bank_holiday,
    to_local,
    years_for_max_age_days,
    years_for_min_age_days,
)
from navigator.core.vocabulary import Vocabulary
from navigator.directory.capacity import Capacity, capacities
from navigator.directory.index import DirectoryIndex, Entry
from navigator.directory.opening import Schedule
from navigator.directory.search import ServiceQuery, candidates
from navigator.fhir.codesystems import (
    ODS_SYSTEM,
    coding,
    extension_url,
    service_id_system,
)
from navigator.fhir.search_params import ServiceSearch

CONTACTPOINT_COMMENT = "http://hl7.org/fhir/StructureDefinition/contactpoint-comment"
PUBLIC_NUMBER, CLINICIAN_ONLY = "Public", "Clinician Access Only"  # the DoS's own words
LOCATION_DISTANCE = "http://hl7.org/fhir/StructureDefinition/location-distance"
GENDER_SYSTEM = "http://hl7.org/fhir/administrative-gender"
USAGE_CONTEXT_TYPE = "http://terminology.hl7.org/CodeSystem/usage-context-type"
REFERRAL_METHOD_SYSTEM = "http://terminology.hl7.org/CodeSystem/service-referral-method"
UCUM = "http://unitsofmeasure.org"
CAPACITY_EXTENSION = "service-capacity"
AGE_RANGE_EXTENSION = "eligibility-age-range"
# Caller roles who are not told professional-only numbers (caller_roles.yaml: "professional-
# only phone numbers and referral instructions must never be shown to public callers").
NOT_PROFESSIONAL = frozenset({"public", "relative"})
NOT_AVAILABLE_DAYS = 366
DAY_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# navigator's referral methods that service-referral-method names (the rest are text only).
REFERRAL_CODES = {"phone": ("phone", "Phone"), "bars": ("elec", "Secure Messaging")}
REFERRAL_TEXT = {
    "phone": "Phone",
    "email": "Email",
    "online": "Online",
    "walk_in": "Walk in",
    "bars": "BaRS (Booking and Referral Standard)",
    "ers": "NHS e-Referral Service",
    "self_referral": "Self-referral",
}


def shows_professional(caller_role: str | None) -> bool:
    """Whether professional-only details (the "Clinician Access Only" number) are shown: not
    when the search says the caller is `public` or `relative`. Without a caller role they are,
    as `/api/v1/services` shows them to every API key: the key holder is a professional
    system (an NHS 111 or care navigation service), not a member of the public."""
    return caller_role not in NOT_PROFESSIONAL


# --- the search -------------------------------------------------------------------------


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


# --- the resource -------------------------------------------------------------------------


def healthcare_service(
    entry: Entry,
    capacity: Capacity,
    vocab: Vocabulary,
    *,
    now: datetime,
    professional: bool,
) -> dict[str, Any]:
    """One directory service as a HealthcareService (a JSON-ready dict, not yet validated:
    the caller validates it alone or in its Bundle with fhir.resources). `professional`:
    whether the "Clinician Access Only" number is included (`shows_professional`)."""
    record, org = entry.record, entry.organisation
    provided_by: dict[str, Any] = {"reference": f"Organization/{org['id']}", "display": org["name"]}
    if org["ods_code"]:
        provided_by["identifier"] = {"system": ODS_SYSTEM, "value": org["ods_code"]}
    contained, references = _locations(record["locations"])
    resource: dict[str, Any] = {
        "resourceType": "HealthcareService",
        "id": entry.id,
        "extension": [_capacity_extension(capacity)],
        "identifier": [{"use": "official", "system": service_id_system(), "value": entry.id}],
        "active": entry.active,
        "providedBy": provided_by,
        "category": [{"coding": [coding("sectors", record["sector"], vocab)]}],
        "type": [{"coding": [coding("service-types", entry.service_type, vocab)]}],
        "name": record["name"],
    }
    if contained:
        resource["contained"] = contained
        resource["location"] = references
    if record["public_name"]:
        resource["comment"] = f"Known to the public as {record['public_name']}"
    if record["description"].strip():
        resource["extraDetails"] = record["description"]
    if telecom := _telecom(record["contact"], professional):
        resource["telecom"] = telecom
    resource["eligibility"] = _eligibility(record["eligibility"], vocab)
    if record["needs"]:
        resource["characteristic"] = [
            {"coding": [coding("needs", need, vocab)]} for need in record["needs"]
        ]
    if method := record["referral"]["method"]:
        concept: dict[str, Any] = {"text": REFERRAL_TEXT.get(method, method)}
        if method in REFERRAL_CODES:
            code, display = REFERRAL_CODES[method]
            concept["coding"] = [
                {"system": REFERRAL_METHOD_SYSTEM, "code": code, "display": display}
            ]
        resource["referralMethod"] = [concept]
    if available := available_time(entry.schedule):
        resource["availableTime"] = available
    today = to_local(now).date()
    if not_available := _not_available(entry, record["opening"], today):
        resource["notAvailable"] = not_available
    resource["availabilityExceptions"] = _exceptions(
        entry.opening_summary, record["opening"], today
    )
    return resource


def _capacity_extension(capacity: Capacity) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [
        {"url": "status", "valueCode": capacity.status},
        {"url": "stale", "valueBoolean": capacity.stale},
    ]
    if capacity.updated_at is not None:
        parts.append({"url": "updated", "valueInstant": _instant(capacity.updated_at)})
    if capacity.reset_at is not None:
        parts.append({"url": "resetAt", "valueInstant": _instant(capacity.reset_at)})
    if capacity.note:
        parts.append({"url": "note", "valueString": capacity.note})
    return {"url": extension_url(CAPACITY_EXTENSION), "extension": parts}


def _instant(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _locations(locations: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[Any]]:
    contained, references = [], []
    for number, location in enumerate(locations, start=1):
        resource: dict[str, Any] = {"resourceType": "Location", "id": f"loc-{number}"}
        if location["name"]:
            resource["name"] = location["name"]
        address = {
            key: value
            for key, value in (("text", location["address"]), ("postalCode", location["postcode"]))
            if value
        }
        if address:
            resource["address"] = address | {"country": "GB"}
        if location["lat"] is not None and location["lng"] is not None:
            resource["position"] = {"latitude": location["lat"], "longitude": location["lng"]}
        contained.append(resource)
        references.append({"reference": f"#loc-{number}", "display": location["name"] or None})
    for reference in references:
        if reference["display"] is None:
            del reference["display"]
    return contained, references


def _telecom(contact: dict[str, Any], professional: bool) -> list[dict[str, Any]]:
    def phone(number: str, audience: str) -> dict[str, Any]:
        return {
            "extension": [{"url": CONTACTPOINT_COMMENT, "valueString": audience}],
            "system": "phone",
            "value": number,
            "use": "work",
        }

    telecom = []
    if contact["public_phone"]:
        telecom.append(phone(contact["public_phone"], PUBLIC_NUMBER))
    if professional and contact["professional_phone"]:
        telecom.append(phone(contact["professional_phone"], CLINICIAN_ONLY))
    if contact.get("email"):
        telecom.append({"system": "email", "value": contact["email"], "use": "work"})
    if contact["website"]:
        telecom.append({"system": "url", "value": contact["website"], "use": "work"})
    return telecom


def _eligibility(elig: dict[str, Any], vocab: Vocabulary) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if elig["sex"] != "any":
        out.append(
            {
                "code": {
                    "coding": [
                        {
                            "system": GENDER_SYSTEM,
                            "code": elig["sex"],
                            "display": elig["sex"].title(),
                        }
                    ]
                },
                "comment": f"Only for {elig['sex']} patients",
            }
        )
    low, high = elig["min_age_days"], elig["max_age_days"]
    if low > 0 or high is not None:
        days: dict[str, Any] = {"low": _days(low)}
        if high is not None:
            days["high"] = _days(high)
        if high is None:
            words = f"Aged {years_for_min_age_days(low)} years or over"
        else:
            words = f"Aged {years_for_min_age_days(low)} to {years_for_max_age_days(high)} years"
        out.append(
            {
                "extension": [{"url": extension_url(AGE_RANGE_EXTENSION), "valueRange": days}],
                "code": {
                    "coding": [
                        {"system": USAGE_CONTEXT_TYPE, "code": "age", "display": "Age Range"}
                    ]
                },
                "comment": f"{words} ({low} to {'any' if high is None else high} days of age)",
            }
        )
    for role in elig["caller_roles"]:
        out.append(
            {
                "code": {"coding": [coding("caller-roles", role, vocab)]},
                "comment": f"Takes calls or referrals from: {vocab.label('caller_roles', role)}",
            }
        )
    for place in elig["places"]:
        out.append(
            {
                "code": {"coding": [coding("places", place, vocab)]},
                "comment": f"Only for patients in {vocab.label('places', place)}",
            }
        )
    if elig["gp_practices"]:
        out.append(
            {
                "code": {"text": "Registered with a listed GP practice"},
                "comment": "Only for patients registered with the GP practice (ODS code) "
                + ", ".join(elig["gp_practices"]),
            }
        )
    return out


def _days(value: int) -> dict[str, Any]:
    return {"value": value, "unit": "days", "system": UCUM, "code": "d"}


def _time(minute: int) -> str:
    # FHIR `time` has no 24:00: the end of the day is its last second.
    return "23:59:59" if minute >= DAY_MINUTES else f"{format_minutes(minute)}:00"


def available_time(schedule: Schedule) -> list[dict[str, Any]]:
    """The weekly sessions as `availableTime`, days with the same session grouped. A session
    running past midnight is split at midnight (its tail on the next day), as FHIR times are
    within a day; a whole day is `allDay`. Open all hours is every day `allDay`."""
    if schedule.open_all_hours:
        return [{"daysOfWeek": list(DAY_CODES), "allDay": True}]
    by_window: dict[tuple[int, int], set[int]] = {}
    for day, periods in enumerate(schedule.weekly):
        for window, on in _split(periods, day):
            by_window.setdefault(window, set()).add(on)
    out = []
    for (start, end), days in sorted(by_window.items(), key=lambda i: (min(i[1]), i[0])):
        item: dict[str, Any] = {"daysOfWeek": [DAY_CODES[d] for d in sorted(days)]}
        if (start, end) == (0, DAY_MINUTES):
            item["allDay"] = True
        else:
            item["availableStartTime"] = _time(start)
            item["availableEndTime"] = _time(end)
        out.append(item)
    return out


def _split(periods: tuple[Period, ...], day: int) -> list[tuple[tuple[int, int], int]]:
    """((start, end) within one day, weekday) for each session, split at midnight."""
    out = []
    for start, end in periods:
        out.append(((start, min(end, DAY_MINUTES)), day))
        if end > DAY_MINUTES:
            out.append(((0, end - DAY_MINUTES), (day + 1) % 7))
    return out


@lru_cache(maxsize=8)
def upcoming_bank_holidays(today: date, days: int = NOT_AVAILABLE_DAYS) -> tuple[date, ...]:
    """England's bank holidays from `today` for `days` days."""
    return tuple(
        day for offset in range(days) if is_bank_holiday(day := today + timedelta(days=offset))
    )


def _day_period(day: date) -> dict[str, str]:
    start = datetime.combine(day, datetime.min.time(), LONDON)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), LONDON)
    return {"start": start.isoformat(), "end": end.isoformat()}


def _not_available(entry: Entry, opening: dict[str, Any], today: date) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if entry.record["status"] == "temporarily_closed":
        out.append({"description": "Temporarily closed"})
    elif entry.record["status"] == "defunct":
        out.append({"description": "Closed permanently"})
    schedule = entry.schedule
    closed = {
        date.fromisoformat(d["date"])
        for d in opening["specified_dates"]
        if d["closed"] and date.fromisoformat(d["date"]) >= today
    }
    if not schedule.open_all_hours and any(schedule.weekly):
        for day in upcoming_bank_holidays(today):
            usually_open = bool(schedule.weekly[day.weekday()])
            if usually_open and day not in schedule.dates and not schedule.periods_on(day):
                out.append({"description": "Closed: bank holiday", "during": _day_period(day)})
    for day in sorted(closed):
        out.append({"description": f"Closed on {day.day} {day:%b %Y}", "during": _day_period(day)})
    return out


def _exceptions(summary: str, opening: dict[str, Any], today: date) -> str:
    """The timetable in words, and any specified dates from today with their own hours."""
    special = [
        f"{d.day} {d:%b %Y} " + ", ".join(f"{s[0]}–{s[1]}" for s in entry["sessions"])
        for entry in opening["specified_dates"]
        if not entry["closed"] and (d := date.fromisoformat(entry["date"])) >= today
    ]
    text = f"Opening times (Europe/London): {summary}"
    if special:
        text += "; on given dates: " + "; ".join(special)
    return text


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
