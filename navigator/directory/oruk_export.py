"""Open Referral UK (HSDS 3.0) export: a service's canonical record as an HSDS service.

Export maps each service onto HSDS 3.0 objects (organization, schedules, service_areas,
service_at_locations, taxonomy-term attributes) so any ORUK consumer can use it. What HSDS
cannot carry without loss (eligibility in days and caller roles, coverage, bank-holiday and
overnight sessions, referral details) travels in one attribute, `navigator-details`, whose
`value` is JSON: navigator's own import (`oruk_import`) reads it back, so export-then-import
round-trips.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from navigator.core.clock import WEEKDAYS, years_from_days
from navigator.core.reference import VOCABULARY
from navigator.core.vocabulary import Vocabulary
from navigator.directory.oruk_terms import (
    DAYS,
    DETAILS_TERM,
    STATUS_TO_HSDS,
    stable_id,
    term_id,
    term_object,
)
from navigator.directory.records import Record
from navigator.directory.store import read_organisations, read_services

PROFESSIONAL_ONLY = (("contact", "professional_phone"), ("referral", "info"))


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
    """The HSDS 3.0 service object of a canonical service record and its organisation's
    (professional-only details left out unless `include_professional`)."""
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
        # Whole years, as HSDS has them: `oruk_import` reads them back to the same range of
        # days when it was whole years, and never to a narrower one (`years_from_days`).
        "minimum_age": years_from_days(elig["min_age_days"]),
        "maximum_age": years_from_days(max_days) if max_days is not None else None,
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
    parts = [f"From age {years_from_days(elig['min_age_days'])}"]
    if elig["max_age_days"] is not None:
        parts.append(f"up to age {years_from_days(elig['max_age_days'])}")
    if elig["sex"] != "any":
        parts.append(f"{elig['sex']} only")
    parts.append("referrals from: " + ", ".join(elig["caller_roles"]))
    return "; ".join(parts)


def export_oruk(
    session: Session, vocab: Vocabulary | None = None, *, include_professional: bool
) -> list[dict[str, Any]]:
    """Every service as an HSDS service object, by id (the app's vocabulary unless given)."""
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
