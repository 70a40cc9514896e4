"""Open Referral UK (HSDS 3.0) import: ORUK JSON to raw navigator-format records.

Accepts a list of HSDS services or an envelope holding one (`contents`, as the feed's pages,
or `services`). A service exported by
navigator carries the `navigator-details` attribute (see `oruk_export`) and is read back from
it exactly. Third-party data without it is mapped from the HSDS fields alone: the service type,
needs and sector from terms of navigator's own taxonomies, ages in years, weekly schedules and
single-date schedules, service areas naming a known place or postcode district; every caller
role is admitted. The records are not validated here: the loader validates them like any file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from navigator.core.clock import WEEKDAYS, age_in_days
from navigator.core.reference import VOCABULARY
from navigator.core.vocabulary import Vocabulary
from navigator.directory.oruk_terms import (
    DAYS,
    DETAILS_TERM,
    STATUS_FROM_HSDS,
    TAXONOMIES,
    taxonomy_id,
)

ALL_CALLER_ROLES = ["care_home", "nhs111", "professional", "public", "relative"]


@dataclass
class OrukImport:
    """Raw organisation and service dicts, and the (service id, reason) of each service that
    could not be mapped."""

    organisations: list[dict[str, Any]] = field(default_factory=list)
    services: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)


def looks_like_oruk(data: Any) -> bool:
    """Whether a parsed document is ORUK JSON: a list of objects with `id` and `name`, bare or in
    an envelope, and not a navigator-format document (which has `format`)."""
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
