"""The fields of a third-party HSDS service (3.0, UK profile 3.0 or HSDS-UK 1.0) as navigator
record fields, keeping what can be kept and warning, per field, about what cannot.

Every function takes a service already `cleaned` (no empty strings) and a `Notes` to warn in.
Optional contact details that navigator's schema would refuse (an email that is not one, a
website without a scheme, a phone number that is not possible in the UK, a postcode that is not
a full UK postcode, a latitude outside Great Britain) are left out with a warning naming the
field, never a reason to reject the service. Shapes: `tests/data/oruk/NOTES.md` §1.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from marshmallow import Schema, ValidationError

from navigator.core.clock import max_age_days_from_years, min_age_days_from_years
from navigator.core.identifiers import normalise_postcode
from navigator.core.schemas import field_messages
from navigator.core.vocabulary import Vocabulary
from navigator.directory.oruk_terms import DETAILS_TERM, TAXONOMIES, taxonomy_id
from navigator.directory.oruk_values import (
    Notes,
    as_list,
    as_object,
    as_text,
    present,
    printable,
    quote,
)
from navigator.directory.records import (
    MAX_AGE_DAYS,
    ContactSchema,
    LocationSchema,
    OrganisationSchema,
)
from navigator.directory.taxonomy_mapping import FeedTerm

MAX_AGE_YEARS = 130
MAX_NAME = 300  # characters of a service's or organisation's name (records.py)
_ANY_TAXONOMY = "unspecified"
PLAIN_REASONS = {
    "email": " is not an email address",
    "website": " is not a web address (http:// or https://)",
    "public_phone": " is not a possible UK phone number",
    "postcode": " is not a full UK postcode",
}


def without_invalid(
    schema: Schema, data: dict[str, Any], paths: dict[str, str], notes: Notes
) -> dict[str, Any]:
    """`data` with each field `schema` refuses set to None and warned about, under the feed
    field named by `paths` (navigator field -> feed field)."""
    data = dict(data)
    for _ in range(len(data) + 1):
        try:
            schema.load(data)
            return data
        except ValidationError as exc:
            bad = {name.split(".")[0]: texts for name, texts in field_messages(exc).items()}
        for name, texts in bad.items():
            if name not in data or data[name] is None:
                continue
            reason = PLAIN_REASONS.get(name) or ": " + " ".join(texts).rstrip(".")
            notes.warn(paths.get(name, name), f"{quote(data[name])}{reason}; left out")
            data[name] = None
    return data


def organisation(service: dict[str, Any], org_id: str, sector: str, notes: Notes) -> dict[str, Any]:
    """The organisation record of the service's HSDS organization (3.0 `website`, HSDS-UK 1.0
    `url`; ODS code and charity number from `organization_identifiers`)."""
    org = as_object(service.get("organization"))
    identifiers = {
        str(i.get("identifier_scheme") or i.get("identifier_type") or "").upper(): i.get(
            "identifier"
        )
        for i in as_list(org.get("organization_identifiers"))
    }
    name = as_text(org.get("name"), "organization.name", notes)
    if name is None:
        notes.warn("organization.name", f"not given; named {org_id!r}")
    data = {
        "id": org_id,
        "name": printable(name or org_id, MAX_NAME),
        "ods_code": as_text(identifiers.get("ODS"), "organization.organization_identifiers", notes),
        "charity_number": as_text(
            identifiers.get("GB-CHC"), "organization.organization_identifiers", notes
        ),
        "sector": sector,
        "website": as_text(present(org, "website", "url"), "organization.website", notes),
    }
    paths = {
        "ods_code": "organization.organization_identifiers",
        "charity_number": "organization.organization_identifiers",
        "website": "organization.website",
    }
    return without_invalid(OrganisationSchema(), data, paths, notes)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _age(value: Any, path: str, notes: Notes) -> float | None:
    number = _number(value)
    if number is None or not 0 <= number <= MAX_AGE_YEARS:
        notes.warn(path, f"{quote(value)} is not an age in years (0 to {MAX_AGE_YEARS}); left out")
        return None
    return number


def age_days(service: dict[str, Any], notes: Notes) -> tuple[int, int | None]:
    """(min_age_days, max_age_days) from 3.0 `minimum_age`/`maximum_age` and HSDS-UK 1.0
    `eligibilitys[]`: decimal years through `navigator.core.clock` (a whole maximum admits to
    the day before the next birthday; a fraction is an exact age). Several ranges: the widest."""
    ranges = []
    holders = [("", service)] + [
        (f"{key}[{i}].", item)
        for key in ("eligibilitys", "eligibilities")
        for i, item in enumerate(as_list(service.get(key)))
    ]
    for prefix, holder in holders:
        if holder.get("minimum_age") is None and holder.get("maximum_age") is None:
            continue
        low = (
            _age(holder["minimum_age"], f"{prefix}minimum_age", notes)
            if (holder.get("minimum_age") is not None)
            else None
        )
        high = (
            _age(holder["maximum_age"], f"{prefix}maximum_age", notes)
            if (holder.get("maximum_age") is not None)
            else None
        )
        if high is not None and max_age_days_from_years(high) > MAX_AGE_DAYS:
            notes.warn(
                f"{prefix}maximum_age",
                f"{quote(holder['maximum_age'])} is above the oldest age navigator holds "
                f"({MAX_AGE_DAYS} days); left out",
            )
            high = None
        if low is not None and high is not None and low > high:
            notes.warn(
                f"{prefix}minimum_age", f"{low:g} is above maximum_age {high:g}; both left out"
            )
            low = high = None
        ranges.append((prefix, low, high))
    if not ranges:
        return 0, None
    if len({(low, high) for _, low, high in ranges}) > 1:
        notes.warn(
            ", ".join(f"{p}minimum_age" for p, _, _ in ranges),
            "several age ranges; the widest is used",
        )
    low_days = min(min_age_days_from_years(low or 0.0) for _, low, _ in ranges)
    highs = [high for _, _, high in ranges if high is not None]
    # one range with no maximum makes the widest range open-ended
    high_days = max(map(max_age_days_from_years, highs)) if len(highs) == len(ranges) else None
    return low_days, high_days


def _phone_candidates(service: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = [(f"phones[{i}]", p) for i, p in enumerate(as_list(service.get("phones")))]
    for i, contact in enumerate(as_list(service.get("contacts"))):
        found += [
            (f"contacts[{i}].phones[{j}]", p) for j, p in enumerate(as_list(contact.get("phones")))
        ]
    return [(path, p) for path, p in found if p.get("number") is not None]


def contact(service: dict[str, Any], notes: Notes) -> dict[str, Any]:
    """`contact`: the first possible UK phone of the service or its contacts, `email`, `url`."""
    schema = ContactSchema()
    phone = None
    for path, candidate in _phone_candidates(service):
        number = as_text(candidate["number"], f"{path}.number", notes)
        if number is None:
            continue
        number = number.strip().strip("\"'").strip()
        kept = without_invalid(
            schema, {"public_phone": number}, {"public_phone": f"{path}.number"}, notes
        )
        if kept["public_phone"] is not None:
            phone = number
            if candidate.get("extension") is not None:
                notes.warn(
                    f"{path}.extension",
                    f"{quote(candidate['extension'])} not kept (navigator has no extension)",
                )
            break
    data = {
        "public_phone": phone,
        "email": as_text(service.get("email"), "email", notes),
        "website": as_text(service.get("url"), "url", notes),
    }
    return without_invalid(schema, data, {"email": "email", "website": "url"}, notes)


def _address(location: dict[str, Any]) -> dict[str, Any]:
    addresses = as_list(location.get("addresses")) or as_list(location.get("physical_addresses"))
    physical = [a for a in addresses if a.get("address_type") in (None, "physical")]
    return (physical or addresses or [{}])[0]


def locations(service: dict[str, Any], notes: Notes) -> list[dict[str, Any]]:
    """Each service_at_location's location with a name, address, postcode or coordinates."""
    out = []
    schema = LocationSchema()
    for i, sal in enumerate(as_list(service.get("service_at_locations"))):
        location = as_object(sal.get("location"))
        address = _address(location)
        text = ", ".join(
            str(address[k]) for k in ("address_1", "address_2", "city") if address.get(k)
        )
        lat, lng = location.get("latitude"), location.get("longitude")
        data = {
            "name": location.get("name"),
            "address": text or None,
            "postcode": address.get("postal_code"),
            "lat": _number(lat) if lat is not None else None,
            "lng": _number(lng) if lng is not None else None,
        }
        where = f"service_at_locations[{i}].location"
        paths = {
            "name": f"{where}.name",
            "address": f"{where}.address",
            "postcode": f"{where}.address.postal_code",
            "lat": f"{where}.latitude",
            "lng": f"{where}.longitude",
        }
        for key, raw in (("lat", lat), ("lng", lng)):
            if raw is not None and data[key] is None:
                notes.warn(paths[key], f"{quote(raw)} is not a number; left out")
        data = without_invalid(schema, data, paths, notes)
        if any(v is not None for v in data.values()):
            out.append(data)
    return out


def coverage(service: dict[str, Any], vocab: Vocabulary, notes: Notes) -> dict[str, Any]:
    """Service areas naming a known place (by code or label) or a postcode district."""
    labels = {t.label.lower(): code for code, t in vocab.terms["places"].items()}
    places: list[str] = []
    districts: list[str] = []
    for i, area in enumerate(as_list(service.get("service_areas"))):
        name = present(area, "name", "service_area")
        if area.get("uri") in vocab.terms["places"]:
            places.append(area["uri"])
        elif str(name).lower() in labels:
            places.append(labels[str(name).lower()])
        elif area.get("extent_type") == "postcode_district" and name is not None:
            district = normalise_postcode(str(name))
            if district is not None and " " not in district:
                districts.append(district)
            else:
                notes.warn(
                    f"service_areas[{i}].name",
                    f"{quote(name)} is not a postcode district; left out",
                )
        elif name is None and area.get("uri") is None:
            notes.warn(f"service_areas[{i}]", "names no place (no name or uri); left out")
        else:
            notes.warn(
                f"service_areas[{i}]",
                f"{quote(name or area.get('uri'))} is not a place navigator knows; left out",
            )
    return {"places": places, "postcode_districts": districts}


def assured_at(service: dict[str, Any], notes: Notes) -> str | None:
    value = service.get("assured_date")
    if value is None:
        return None
    try:
        return f"{date.fromisoformat(str(value)[:10]).isoformat()}T00:00:00Z"
    except ValueError:
        notes.warn("assured_date", f"{quote(value)} is not a date; left out")
        return None


def feed_terms(service: dict[str, Any]) -> tuple[dict[str, list[str]], list[FeedTerm]]:
    """(navigator's own codes by scheme, every other taxonomy term) of a service: 3.0
    `attributes[].taxonomy_term`, HSDS-UK 1.0 `service_taxonomys[].taxonomy`."""
    own: dict[str, list[str]] = {scheme: [] for scheme in TAXONOMIES}
    own_ids = {taxonomy_id(s): s for s in TAXONOMIES} | {n: s for s, (n, _) in TAXONOMIES.items()}
    terms: dict[tuple[str, str], FeedTerm] = {}
    for attribute in as_list(service.get("attributes")):
        term = as_object(attribute.get("taxonomy_term"))
        if term.get("name") == DETAILS_TERM:
            continue
        scheme = own_ids.get(str(term.get("taxonomy"))) or own_ids.get(str(term.get("taxonomy_id")))
        if scheme is not None:
            code = present(term, "code", "name")
            if code is not None:
                own[scheme].append(str(code))
            continue
        detail = as_object(term.get("taxonomy_detail"))
        taxonomy = (
            present(term, "taxonomy")
            or present(detail, "name")
            or present(term, "taxonomy_id")
            or _ANY_TAXONOMY
        )
        ids = [
            str(v)
            for v in (
                term.get("code"),
                term.get("term_uri"),
                term.get("id"),
                attribute.get("taxonomy_term_id"),
            )
            if v is not None
        ]
        if ids:
            name = str(present(term, "name", "term") or "")
            terms.setdefault(
                (str(taxonomy), ids[0]), FeedTerm(str(taxonomy), ids[0], name, tuple(ids[1:]))
            )
    for key in ("service_taxonomys", "service_taxonomies"):
        for link in as_list(service.get(key)):
            taxonomy = as_object(link.get("taxonomy"))
            if taxonomy.get("id") is None:
                continue
            vocabulary = str(present(taxonomy, "vocabulary") or _ANY_TAXONOMY)
            scheme = own_ids.get(vocabulary)
            if scheme is not None:
                own[scheme].append(str(taxonomy.get("name") or taxonomy["id"]))
                continue
            code = str(taxonomy["id"])
            terms.setdefault(
                (vocabulary, code), FeedTerm(vocabulary, code, str(taxonomy.get("name") or ""))
            )
    return own, list(terms.values())
