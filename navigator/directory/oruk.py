"""Open Referral UK (HSDS 3.0) export and import.

Export maps each service onto HSDS 3.0 objects (organization, schedules, service_areas,
service_at_locations, taxonomy-term attributes) so any ORUK consumer can use it. What HSDS
cannot carry without loss (eligibility in days and caller roles, coverage, bank-holiday and
overnight sessions, referral details) travels in one attribute, `navigator-details`, whose
`value` is JSON: navigator's own import reads it back, so export-then-import round-trips.
Third-party ORUK data without it is mapped from the HSDS fields alone.
"""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from navigator.core.clock import WEEKDAYS, age_in_days
from navigator.core.vocabulary import Vocabulary
from navigator.directory.records import Record, read_organisations, read_services

NAMESPACE = uuid.UUID("6f1d3c52-9a55-4c1e-9d0e-2b7c1f0a4b11")
TAXONOMIES = {
    "service_types": ("navigator-service-types", "Service types used by navigator for routing"),
    "needs": ("navigator-needs", "Needs a service meets, as navigator routes them"),
    "sectors": ("navigator-sectors", "Sectors of care"),
}
DETAILS_TERM = "navigator-details"
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
STATUS_TO_HSDS = {
    "active": "active",
    "temporarily_closed": "temporarily closed",
    "defunct": "defunct",
}
STATUS_FROM_HSDS = {v: k for k, v in STATUS_TO_HSDS.items()} | {"inactive": "defunct"}
ALL_CALLER_ROLES = ["care_home", "nhs111", "professional", "public", "relative"]
PROFESSIONAL_ONLY = (("contact", "professional_phone"), ("referral", "info"))


def stable_id(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, ":".join(parts)))


def taxonomy_id(scheme: str) -> str:
    return stable_id("taxonomy", scheme)


def term_id(scheme: str, code: str) -> str:
    return stable_id("term", scheme, code)


def taxonomy_object(scheme: str) -> dict[str, Any]:
    name, description = TAXONOMIES[scheme]
    return {"id": taxonomy_id(scheme), "name": name, "description": description, "version": "1"}


def term_object(vocab: Vocabulary, scheme: str, code: str) -> dict[str, Any]:
    term = vocab.terms[scheme][code]
    return {
        "id": term_id(scheme, code),
        "code": code,
        "name": term.label,
        "term": term.label,
        "description": term.description,
        "taxonomy": TAXONOMIES[scheme][0],
        "taxonomy_id": taxonomy_id(scheme),
        "parent_id": None,
    }


def public_record(record: Record) -> Record:
    """The record without professional-only fields (the open feed never shows them)."""
    copy = json.loads(json.dumps(record))
    for block, key in PROFESSIONAL_ONLY:
        copy[block][key] = None
    copy["sms"] = None  # a care home's follow-up number is never open data
    return copy


def _schedules(service_id: str, opening: Record) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []

    def add(**fields: Any) -> None:
        out.append(
            {"id": stable_id(service_id, "schedule", str(len(out))), "service_id": service_id}
            | fields
        )

    if opening["open_all_hours"]:
        add(
            freq="WEEKLY",
            byday=",".join(DAYS),
            opens_at="00:00",
            closes_at="23:59",
            description="Open 24 hours",
        )
    for day, periods in opening["weekly"].items():
        for opens, closes in periods:
            add(freq="WEEKLY", byday=DAYS[WEEKDAYS.index(day)], opens_at=opens, closes_at=closes)
    for opens, closes in opening["bank_holidays"]:
        add(opens_at=opens, closes_at=closes, description="Bank holidays (England and Wales)")
    for entry in opening["specified_dates"]:
        if entry["closed"]:
            add(valid_from=entry["date"], valid_to=entry["date"], description="Closed")
        for opens, closes in entry["sessions"]:
            add(
                valid_from=entry["date"],
                valid_to=entry["date"],
                opens_at=opens,
                closes_at=closes,
                description="Special opening",
            )
    return out


def _address(service_id: str, index: int, location: Record) -> dict[str, Any]:
    address = location["address"] or ""
    first, _, city = address.rpartition(",")
    return {
        "id": stable_id(service_id, "address", str(index)),
        "location_id": stable_id(service_id, "location", str(index)),
        "address_1": (first or address).strip(),
        "city": city.strip() if first else "",
        "state_province": "England",
        "postal_code": location["postcode"] or "",
        "country": "GB",
        "address_type": "physical",
    }


def service_to_oruk(
    record: Record, organisation: Record, vocab: Vocabulary, *, include_professional: bool
) -> dict[str, Any]:
    if not include_professional:
        record = public_record(record)
    sid = record["id"]
    elig = record["eligibility"]
    identifiers = [
        {
            "id": stable_id(organisation["id"], scheme),
            "organization_id": organisation["id"],
            "identifier_scheme": scheme,
            "identifier_type": label,
            "identifier": value,
        }
        for scheme, label, value in (
            ("ODS", "ODS code", organisation["ods_code"]),
            ("GB-CHC", "Charity number", organisation["charity_number"]),
        )
        if value
    ]
    attributes = [
        {
            "id": stable_id(sid, "attr", scheme, code),
            "link_id": sid,
            "link_type": "service",
            "taxonomy_term_id": term_id(scheme, code),
            "taxonomy_term": term_object(vocab, scheme, code),
        }
        for scheme, codes in (
            ("service_types", [record["service_type"]]),
            ("sectors", [record["sector"]]),
            ("needs", record["needs"]),
        )
        for code in codes
        if vocab.has(scheme, code)
    ]
    details = {
        k: v
        for k, v in record.items()
        if k not in ("id", "organisation", "name", "description", "status")
    }
    details["organisation_sector"] = organisation["sector"]
    attributes.append(
        {
            "id": stable_id(sid, "attr", DETAILS_TERM),
            "link_id": sid,
            "link_type": "service",
            "taxonomy_term_id": stable_id("term", DETAILS_TERM),
            "taxonomy_term": {
                "id": stable_id("term", DETAILS_TERM),
                "name": DETAILS_TERM,
                "term": DETAILS_TERM,
                "description": "navigator fields HSDS cannot carry (JSON in value)",
            },
            "value": json.dumps(details, sort_keys=True),
        }
    )
    max_days = elig["max_age_days"]
    return {
        "id": sid,
        "organization_id": organisation["id"],
        "name": record["name"],
        "alternate_name": record["public_name"],
        "description": record["description"],
        "url": record["contact"]["website"],
        "email": record["contact"]["email"],
        "status": STATUS_TO_HSDS[record["status"]],
        "minimum_age": math.floor(elig["min_age_days"] / 365.25),
        "maximum_age": math.floor(max_days / 365.25) if max_days is not None else None,
        "eligibility_description": _eligibility_text(record),
        "assured_date": (record["assured_at"] or "")[:10] or None,
        "phones": [
            {
                "id": stable_id(sid, "phone", "public"),
                "service_id": sid,
                "number": record["contact"]["public_phone"],
                "type": "voice",
                "description": "Public",
            }
        ]
        if record["contact"]["public_phone"]
        else [],
        "organization": {
            "id": organisation["id"],
            "name": organisation["name"],
            "description": organisation["name"],
            "website": organisation["website"],
            "organization_identifiers": identifiers,
        },
        "schedules": _schedules(sid, record["opening"]),
        "service_areas": [
            {
                "id": stable_id(sid, "area", code),
                "service_id": sid,
                "name": vocab.label("places", code),
                "extent_type": "place",
                "uri": code,
            }
            for code in record["coverage"]["places"]
        ]
        + [
            {
                "id": stable_id(sid, "area", district),
                "service_id": sid,
                "name": district,
                "extent_type": "postcode_district",
                "uri": district,
            }
            for district in record["coverage"]["postcode_districts"]
        ],
        "service_at_locations": [
            {
                "id": stable_id(sid, "sal", str(i)),
                "service_id": sid,
                "location_id": stable_id(sid, "location", str(i)),
                "location": {
                    "id": stable_id(sid, "location", str(i)),
                    "location_type": "physical",
                    "name": loc["name"],
                    "latitude": loc["lat"],
                    "longitude": loc["lng"],
                    "addresses": [_address(sid, i, loc)]
                    if loc["address"] or loc["postcode"]
                    else [],
                },
            }
            for i, loc in enumerate(record["locations"])
        ],
        "attributes": attributes,
    }


def _eligibility_text(record: Record) -> str:
    elig = record["eligibility"]
    parts = [f"From age {math.floor(elig['min_age_days'] / 365.25)}"]
    if elig["max_age_days"] is not None:
        parts.append(f"up to age {math.floor(elig['max_age_days'] / 365.25)}")
    if elig["sex"] != "any":
        parts.append(f"{elig['sex']} only")
    parts.append("referrals from: " + ", ".join(elig["caller_roles"]))
    return "; ".join(parts)


def export_oruk(
    session: Session, vocab: Vocabulary | None = None, *, include_professional: bool
) -> list[dict[str, Any]]:
    from navigator.core.reference import VOCABULARY

    vocab = vocab or VOCABULARY.get()
    organisations = read_organisations(session)
    services = read_services(session)
    return [
        service_to_oruk(
            services[sid],
            organisations[services[sid]["organisation"]],
            vocab,
            include_professional=include_professional,
        )
        for sid in sorted(services)
    ]


# --- import ---------------------------------------------------------------------------------


@dataclass
class OrukImport:
    organisations: list[dict[str, Any]] = field(default_factory=list)
    services: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)


def looks_like_oruk(data: Any) -> bool:
    if isinstance(data, dict) and "format" not in data:
        data = data.get("contents", data.get("services"))
    return isinstance(data, list) and all(
        isinstance(s, dict) and "id" in s and "name" in s for s in data
    )


def _service_list(data: Any) -> list[dict[str, Any]]:
    if isinstance(data, dict):
        data = data.get("contents", data.get("services"))
    return list(data)


def _organisation_from(org: dict[str, Any], sector: str) -> dict[str, Any]:
    """An organisation record from an HSDS organization (sector from navigator-details)."""
    identifiers = {
        i.get("identifier_scheme"): i.get("identifier")
        for i in org.get("organization_identifiers") or []
    }
    return {
        "id": str(org["id"]).lower(),
        "name": org.get("name") or str(org["id"]),
        "ods_code": identifiers.get("ODS"),
        "charity_number": identifiers.get("GB-CHC"),
        "sector": sector,
        "website": org.get("website") or None,
    }


def _terms(service: dict[str, Any], scheme: str) -> list[str]:
    tax_name, tax_id = TAXONOMIES[scheme][0], taxonomy_id(scheme)
    codes = []
    for attribute in service.get("attributes") or []:
        term = attribute.get("taxonomy_term") or {}
        if term.get("taxonomy") == tax_name or term.get("taxonomy_id") == tax_id:
            code = term.get("code") or term.get("name")
            if code:
                codes.append(str(code))
    return codes


def _details(service: dict[str, Any]) -> dict[str, Any] | None:
    for attribute in service.get("attributes") or []:
        if (attribute.get("taxonomy_term") or {}).get("name") == DETAILS_TERM:
            value = json.loads(attribute.get("value") or "{}")
            return value if isinstance(value, dict) else None
    return None


def _opening_from_schedules(schedules: list[dict[str, Any]]) -> dict[str, Any]:
    weekly: dict[str, list[list[str]]] = {}
    specified: dict[str, dict[str, Any]] = {}
    for s in schedules:
        opens, closes = (s.get("opens_at") or "")[:5], (s.get("closes_at") or "")[:5]
        if s.get("valid_from") and s.get("valid_from") == s.get("valid_to"):
            entry = specified.setdefault(s["valid_from"], {"date": s["valid_from"], "sessions": []})
            if opens and closes:
                entry["sessions"].append([opens, closes])
            else:
                entry["closed"] = True
        elif s.get("freq") == "WEEKLY" and s.get("byday") and opens and closes:
            for code in str(s["byday"]).split(","):
                if code.strip() in DAYS:
                    weekly.setdefault(WEEKDAYS[DAYS.index(code.strip())], []).append(
                        [opens, closes]
                    )
    return {"weekly": weekly, "specified_dates": list(specified.values())}


def _service_from_hsds(service: dict[str, Any], vocab: Vocabulary) -> dict[str, Any]:
    types = _terms(service, "service_types")
    if not types:
        raise ValueError("no navigator service type (a taxonomy term from navigator-service-types)")
    service_type = types[0]
    term = vocab.terms["service_types"].get(service_type)
    sectors = _terms(service, "sectors")
    sector = (
        sectors[0] if sectors else (term.extra.get("sector", "community") if term else "community")
    )
    min_age, max_age = service.get("minimum_age"), service.get("maximum_age")
    places = {t.label.lower(): code for code, t in vocab.terms["places"].items()}
    coverage_places, districts = [], []
    for area in service.get("service_areas") or []:
        if area.get("uri") in vocab.terms["places"]:
            coverage_places.append(area["uri"])
        elif str(area.get("name", "")).lower() in places:
            coverage_places.append(places[str(area["name"]).lower()])
        elif area.get("extent_type") == "postcode_district" and area.get("name"):
            districts.append(area["name"])
    locations = []
    for sal in service.get("service_at_locations") or []:
        location = sal.get("location") or {}
        address = (location.get("addresses") or [{}])[0]
        text = ", ".join(p for p in (address.get("address_1"), address.get("city")) if p)
        locations.append(
            {
                "name": location.get("name"),
                "address": text or None,
                "postcode": address.get("postal_code") or None,
                "lat": location.get("latitude"),
                "lng": location.get("longitude"),
            }
        )
    phones = service.get("phones") or []
    return {
        "public_name": service.get("alternate_name"),
        "service_type": service_type,
        "sector": sector,
        "needs": _terms(service, "needs"),
        "eligibility": {
            "min_age_days": age_in_days(float(min_age)) if min_age is not None else 0,
            "max_age_days": age_in_days(float(max_age) + 1) - 1 if max_age is not None else None,
            "caller_roles": ALL_CALLER_ROLES,
        },
        "coverage": {"places": coverage_places, "postcode_districts": districts},
        "locations": locations,
        "contact": {
            "public_phone": phones[0].get("number") if phones else None,
            "email": service.get("email"),
            "website": service.get("url"),
        },
        "opening": _opening_from_schedules(service.get("schedules") or []),
        "assured_at": f"{service['assured_date']}T00:00:00Z"
        if service.get("assured_date")
        else None,
    }


def records_from_oruk(data: Any, vocab: Vocabulary | None = None) -> OrukImport:
    """Raw navigator-format organisation and service dicts, for the loader to validate."""
    from navigator.core.reference import VOCABULARY

    vocab = vocab or VOCABULARY.get()
    result = OrukImport()
    seen_orgs: set[str] = set()
    for service in _service_list(data):
        ident = str(service.get("id"))
        try:
            details = _details(service)
            base = details if details is not None else _service_from_hsds(service, vocab)
            org_sector = base.pop("organisation_sector", None) or base["sector"]
            org = service.get("organization") or {
                "id": service.get("organization_id"),
                "name": service.get("organization_id"),
            }
            if not org.get("id"):
                raise ValueError("no organization")
            record = dict(base) | {
                "id": ident,
                "organisation": str(org["id"]).lower(),
                "name": service.get("name"),
                "description": service.get("description") or "",
                "status": STATUS_FROM_HSDS.get(str(service.get("status")), "active"),
            }
        except (ValueError, KeyError, TypeError) as exc:
            result.rejected.append((ident, str(exc)))
            continue
        if record["organisation"] not in seen_orgs:
            seen_orgs.add(record["organisation"])
            result.organisations.append(_organisation_from(org, org_sector))
        result.services.append(record)
    return result
