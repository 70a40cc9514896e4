"""Open Referral UK (HSDS 3.0) export: a service's canonical record as an HSDS service.

Export maps each service onto HSDS 3.0 objects (organization, schedules, service_areas,
service_at_locations, taxonomy-term attributes) so any ORUK consumer can use it. What HSDS
cannot carry without loss (eligibility in days and caller roles, coverage, bank-holiday and
overnight sessions, referral details) travels in one attribute, `navigator-details`, whose
`value` is JSON: navigator's own import (`oruk_import`) reads it back, so export-then-import
round-trips.

What the UK profile 3.0 schemas require (tests/data/oruk/NOTES.md §4) shapes every object:
no value is ever `null` (an absent one is left out), and every `id`/`*_id` is a UUID
(`oruk_terms.hsds_id` for services and organisations, `stable_id` for the rest).
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from navigator.core.clock import WEEKDAYS, years_for_max_age_days, years_for_min_age_days
from navigator.core.reference import VOCABULARY
from navigator.core.vocabulary import Vocabulary
from navigator.directory.oruk_terms import (
    BANK_HOLIDAY_TEXT,
    DAYS,
    DETAILS_TERM,
    DETAILS_TERM_OBJECT,
    STATUS_TO_HSDS,
    hsds_id,
    stable_id,
    term_object,
)
from navigator.directory.records import Record
from navigator.directory.store import read_organisations, read_services

PROFESSIONAL_ONLY = (("contact", "professional_phone"), ("referral", "info"))
# The characters RFC 3986 allows in a URI (anything else fails the profile's `format: uri`).
_URI_CHARS = re.compile(r"^[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+$")


def public_record(record: Record) -> Record:
    """The record without professional-only fields (the open feed never shows them)."""
    copy = json.loads(json.dumps(record))
    for block, key in PROFESSIONAL_ONLY:
        copy[block][key] = None
    copy["sms"] = None  # a care home's follow-up number is never open data
    if str(copy.get("classified_by") or "").startswith("person:"):
        # Who classified it is a staff member's sign-in (an email address): not open data.
        copy["classified_by"] = "person:withheld"
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
        add(opens_at=opens, closes_at=closes, description=BANK_HOLIDAY_TEXT)
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
    for entry in opening.get("recurring", []):
        # One HSDS schedule per session with the entry's rule; absent values are left out
        # (the profile's schemas allow no null), and interval only when it is not 1.
        keys = ("freq", "byday", "bymonthday", "dtstart", "until", "count", "valid_from")
        rule = {key: entry[key] for key in (*keys, "valid_to") if entry[key] is not None}
        if entry["interval"] > 1:
            rule["interval"] = entry["interval"]
        for opens, closes in entry["sessions"]:
            add(**rule, opens_at=opens, closes_at=closes)
    return out


def _present(**fields: Any) -> dict[str, Any]:
    """The fields that have a value: the UK profile's schemas allow no `null`, so an absent
    value is left out rather than written as null (README, "Open Referral UK")."""
    return {key: value for key, value in fields.items() if value is not None}


def one_to_one(obj: dict[str, Any]) -> dict[str, Any]:
    """An HSDS object with its one-to-one fields only (no arrays), as the `*_list.json`
    schemas and HSDS's list endpoints have them; a nested object is shortened the same way."""
    return {
        key: one_to_one(value) if isinstance(value, dict) else value
        for key, value in obj.items()
        if not isinstance(value, list)
    }


def _is_web_uri(text: str) -> bool:
    """An absolute http(s) URI with only RFC 3986 characters (so it passes `format: uri`)."""
    parts = urlsplit(text)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and bool(_URI_CHARS.match(text))


def source_term_id(taxonomy: str, code: str) -> str:
    """The HSDS id of a term from a source feed's own taxonomy (stable: from taxonomy and code)."""
    return stable_id("source-term", taxonomy, code)


def source_taxonomy_id(taxonomy: str) -> str:
    """The HSDS id of a source feed's own taxonomy (e.g. `esdServiceTypes`)."""
    return stable_id("source-taxonomy", taxonomy)


def source_term_object(term: Record) -> dict[str, Any]:
    """The HSDS `taxonomy_term` of a `source_terms` entry (`{taxonomy, code, name}`): its
    `term_uri` is the code when the code is a web URI (ESD's `http://id.esd.org.uk/service/242`),
    so a service re-published from a council feed keeps the council's classification."""
    taxonomy, code = term["taxonomy"], term["code"]
    name = term["name"] or code
    return _present(
        id=source_term_id(taxonomy, code),
        code=code,
        name=name,
        term=name,
        description=f"Term {code} of the {taxonomy} taxonomy, as the feed this service was "
        "loaded from classified it",
        taxonomy=taxonomy,
        taxonomy_id=source_taxonomy_id(taxonomy),
        term_uri=code if _is_web_uri(code) else None,
    )


def organisation_description(organisation: Record, vocab: Vocabulary) -> str:
    """The organisation's HSDS `description` (required by the UK profile; navigator keeps no
    description of an organisation, so it says what navigator knows: its sector)."""
    sector = vocab.label("sectors", organisation["sector"]).lower()
    return f"{organisation['name']}: {sector} organisation in navigator's directory of services"


def organisation_to_oruk(organisation: Record, vocab: Vocabulary) -> dict[str, Any]:
    """The HSDS `organization` of an organisation record (`organization.json` shape, without
    its services; `one_to_one` of it is the `organization_list.json` shape)."""
    oid = hsds_id("organisation", organisation["id"])
    identifiers = [
        {
            "id": stable_id(organisation["id"], scheme),
            "organization_id": oid,
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
    return _present(
        id=oid,
        name=organisation["name"],
        description=organisation_description(organisation, vocab),
        website=organisation["website"],
        organization_identifiers=identifiers,
    )


def _address(service_id: str, index: int, location: Record) -> dict[str, Any]:
    # The profile requires every address line below; navigator keeps one address text and a
    # postcode, so a missing part is "" (a string, as the schema wants), never null.
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


def _location(service_id: str, index: int, location: Record) -> dict[str, Any]:
    return _present(
        id=stable_id(service_id, "location", str(index)),
        location_type="physical",
        name=location["name"],
        latitude=location["lat"],
        longitude=location["lng"],
        addresses=[_address(service_id, index, location)]
        if location["address"] or location["postcode"]
        else [],
    )


def service_at_location_id(service_id: str, index: int) -> str:
    """The HSDS id of a service's `index`th location (its navigator slug, place in the list)."""
    return stable_id(service_id, "sal", str(index))


def _attribute(sid: str, link_id: str, key: tuple[str, ...], term: dict[str, Any]) -> Record:
    return {
        "id": stable_id(sid, "attr", *key),
        "link_id": link_id,
        "link_type": "service",
        "taxonomy_term_id": term["id"],
        "taxonomy_term": term,
    }


def service_to_oruk(
    record: Record, organisation: Record, vocab: Vocabulary, *, include_professional: bool
) -> dict[str, Any]:
    """The HSDS 3.0 service object (UK profile `service.json` shape) of a canonical service
    record and its organisation's (professional-only details left out unless
    `include_professional`).

    `id` and every `*_id` are UUIDs (`hsds_id`); child objects' ids derive from the service's
    navigator slug and place in their list. Absent values are left out, never null. Ages are
    decimal years that read back to the same days (`years_for_min_age_days`). The
    `navigator-details` attribute's `value` is the JSON of every record field HSDS cannot carry,
    including the navigator slugs `id` and `organisation`, for `oruk_import` to read back.
    """
    if not include_professional:
        record = public_record(record)
    sid = record["id"]
    hsds = hsds_id("service", sid)
    elig = record["eligibility"]
    attributes = [
        _attribute(sid, hsds, (scheme, code), term_object(vocab, scheme, code))
        for scheme, codes in (
            ("service_types", [record["service_type"]]),
            ("sectors", [record["sector"]]),
            ("needs", record["needs"]),
        )
        for code in codes
        if vocab.has(scheme, code)
    ]
    attributes += [
        _attribute(sid, hsds, ("source", term["taxonomy"], term["code"]), source_term_object(term))
        for term in record["source_terms"]
    ]
    details = {k: v for k, v in record.items() if k not in ("name", "description", "status")}
    details["organisation_sector"] = organisation["sector"]
    attributes.append(
        _attribute(
            sid,
            hsds,
            (DETAILS_TERM,),
            DETAILS_TERM_OBJECT,
        )
        | {"value": json.dumps(details, sort_keys=True)}
    )
    max_days = elig["max_age_days"]
    phone = record["contact"]["public_phone"]
    return _present(
        id=hsds,
        organization_id=hsds_id("organisation", organisation["id"]),
        name=record["name"],
        alternate_name=record["public_name"],
        description=record["description"],
        url=record["contact"]["website"],
        email=record["contact"]["email"],
        status=STATUS_TO_HSDS[record["status"]],
        minimum_age=years_for_min_age_days(elig["min_age_days"]),
        maximum_age=years_for_max_age_days(max_days) if max_days is not None else None,
        eligibility_description=_eligibility_text(record),
        assured_date=(record["assured_at"] or "")[:10] or None,
        phones=[
            {
                "id": stable_id(sid, "phone", "public"),
                "service_id": hsds,
                "number": phone,
                "type": "voice",
                "description": "Public",
            }
        ]
        if phone
        else [],
        organization=organisation_to_oruk(organisation, vocab),
        # The service's HSDS id names it in each schedule (`service_id` must be a UUID).
        schedules=_schedules(hsds, record["opening"]),
        service_areas=[
            {
                "id": stable_id(sid, "area", code),
                "service_id": hsds,
                "name": vocab.label("places", code),
                "extent_type": "place",
                "uri": code,
            }
            for code in record["coverage"]["places"]
        ]
        + [
            {
                "id": stable_id(sid, "area", district),
                "service_id": hsds,
                "name": district,
                "extent_type": "postcode_district",
                "uri": district,
            }
            for district in record["coverage"]["postcode_districts"]
        ],
        service_at_locations=[
            {
                "id": service_at_location_id(sid, i),
                "service_id": hsds,
                "location_id": stable_id(sid, "location", str(i)),
                "location": _location(sid, i, loc),
            }
            for i, loc in enumerate(record["locations"])
        ],
        attributes=attributes,
    )


def services_at_locations(service: dict[str, Any], *, full: bool) -> list[dict[str, Any]]:
    """The HSDS `service_at_location` objects of an exported service (`service_to_oruk`), one
    per location, each naming its service: in full (`service_at_location.json`: the location
    with its addresses, the service without its own `service_at_locations`) or as one-to-one
    fields (`service_at_location_list.json`)."""
    if full:
        named = {k: v for k, v in service.items() if k != "service_at_locations"}
        return [sal | {"service": named} for sal in service["service_at_locations"]]
    summary = one_to_one(service)
    return [one_to_one(sal) | {"service": summary} for sal in service["service_at_locations"]]


def _eligibility_text(record: Record) -> str:
    elig = record["eligibility"]
    parts = [f"From age {years_for_min_age_days(elig['min_age_days'])}"]
    if elig["max_age_days"] is not None:
        parts.append(f"up to age {years_for_max_age_days(elig['max_age_days'])}")
    if elig["sex"] != "any":
        parts.append(f"{elig['sex']} only")
    parts.append("referrals from: " + ", ".join(elig["caller_roles"]))
    return "; ".join(parts)


def export_oruk(
    session: Session, vocab: Vocabulary | None = None, *, include_professional: bool
) -> list[dict[str, Any]]:
    """Every service as an HSDS service object (`service_to_oruk`), in order of navigator id
    (the app's vocabulary unless given). The same directory always exports the same JSON."""
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
