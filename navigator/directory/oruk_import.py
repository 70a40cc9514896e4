"""Open Referral UK import: HSDS services (HSDS 3.0, the UK profile 3.0, HSDS-UK 1.0) to raw
navigator-format records, without loss where navigator can hold the data and with a warning,
per service and field, where it cannot (issue 15 §1; rules in
`directory_of_services/FORMAT.md`, "Open Referral UK import").

Shapes (`tests/data/oruk/NOTES.md` §1, §3): a bare list of services; a page (`contents` in
3.0, `content` in HSDS-UK 1.0, or `services`); an organization holding `services`; or one
service object (the `/services/{id}` answer). A service exported by navigator carries the
`navigator-details` attribute (`oruk_export`) and navigator's own taxonomy terms; only when
the load trusts the source's classification (`trust_classification`: the feed is navigator's
own export or another navigator's, hazard H30) is such a service read back from that attribute
exactly and classified by those terms. Any other service, and any service of an untrusted
feed, is mapped from its HSDS fields (`oruk_fields`, `oruk_schedules`) and classified by the
taxonomy mappings (`taxonomy_mapping`), else kept as `unclassified`; navigator's own
classification in an untrusted feed is ignored with a warning, so a feed can never make a
service routable by claiming navigator's codes. Only a service with no usable id or name, or
an item that is not a service object, is rejected. The records are not validated here: the
loader validates them like any file.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from navigator.core.clock import to_local
from navigator.core.db import utcnow
from navigator.core.reference import VOCABULARY
from navigator.core.vocabulary import Vocabulary
from navigator.directory import oruk_fields
from navigator.directory.oruk_classification import classification, trusted_details
from navigator.directory.oruk_fields import MAX_NAME
from navigator.directory.oruk_schedules import opening_from_service
from navigator.directory.oruk_terms import STATUS_FROM_HSDS
from navigator.directory.oruk_values import (
    Notes,
    Unreadable,
    as_object,
    as_text,
    cleaned,
    kind,
    listed,
    present,
    printable,
    quote,
)
from navigator.directory.records import SLUG
from navigator.directory.taxonomy_mapping import TAXONOMY_MAPPINGS, Mapping

# A key only a service object has (not an organization, location, taxonomy or term), so a
# single object or a list is recognised as services and other ORUK documents are refused.
SERVICE_KEYS = frozenset(
    {
        "status",
        "organization",
        "organization_id",
        "service_at_locations",
        "regular_schedules",
        "holiday_schedules",
        "service_taxonomys",
        "service_taxonomies",
        "eligibilitys",
        "eligibilities",
        "minimum_age",
        "maximum_age",
        "service_areas",
    }
)
ENVELOPE_KEYS = ("contents", "content", "services")
PLACEHOLDER_ORGANISATION = {
    "id": "organisation-not-given",
    "name": "Organisation not given by the feed",
    "ods_code": None,
    "charity_number": None,
    "sector": "voluntary",
    "website": None,
}


@dataclass
class OrukImport:
    """Raw organisation and service dicts; the (feed id, reason) of each service rejected; and,
    by navigator service id, each kept service's warnings (`"field: message"`) and, for an
    unclassified one, why."""

    organisations: list[dict[str, Any]] = field(default_factory=list)
    services: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    warnings: dict[str, list[str]] = field(default_factory=dict)
    unclassified: dict[str, str] = field(default_factory=dict)


def _is_service(item: Any) -> bool:
    return (
        isinstance(item, dict)
        and ("id" in item or "name" in item)
        and bool(SERVICE_KEYS & set(item))
    )


def oruk_services(data: Any) -> list[Any] | None:
    """The items of a parsed ORUK document, or None when it is not one (a navigator-format
    document, with `format`, is not). An organization's own fields become the `organization`
    of its nested services that name none. An item that is not an object (`null`, a number)
    stays in the list, for `records_from_oruk` to reject alone; a list with no service object
    at all is not ORUK services."""
    if isinstance(data, dict):
        if "format" in data:
            return None
        key = next((k for k in ENVELOPE_KEYS if isinstance(data.get(k), list)), None)
        if key is None:
            return [data] if _is_service(data) else None
        items = data[key]
        if key == "services" and "id" in data and "name" in data:
            org = {k: v for k, v in data.items() if k != "services"}
            items = [
                item | {"organization": org}
                if isinstance(item, dict)
                and not (item.get("organization") or item.get("organization_id"))
                else item
                for item in items
            ]
    elif isinstance(data, list):
        items = data
    else:
        return None
    if items and not any(_is_service(item) for item in items):
        return None
    return items


def looks_like_oruk(data: Any) -> bool:
    """Whether a parsed document is ORUK services in one of the accepted shapes."""
    return oruk_services(data) is not None


def navigator_id(value: Any, path: str, notes: Notes) -> str:
    """A feed id as a navigator id (`records.SLUG`): lowercased (UUIDs), else a stable slug of
    it, other characters as `-`, plus 8 hex digits of its SHA-1 so two ids never meet (warned)."""
    text = str(value).strip()
    lower = text.lower()
    if SLUG.match(lower):
        return lower
    slug = re.sub(r"[^a-z0-9]+", "-", lower).strip("-")[:80]
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]  # noqa: S324 (not security)
    ident = f"{slug}-{digest}" if slug else digest
    notes.warn(path, f"{quote(text)} is not a navigator id; stored as {ident!r}")
    return ident


@dataclass(frozen=True)
class KeptElsewhere:
    """Ids of the services and organisations navigator keeps from another source than an
    untrusted feed (a navigator-format file, a trusted feed), which an untrusted feed must not
    update (`loader.kept_elsewhere`; review of issue 15, H1)."""

    services: frozenset[str] = frozenset()
    organisations: frozenset[str] = frozenset()


def feed_id(ident: str, original: str) -> str:
    """The id an untrusted feed's record gets when `ident` (navigator's reading of the feed's
    `original` id) is a record navigator keeps from another source: `<ident>-feed-<8 hex digits
    of the original id's SHA-1>`, cut to fit `records.SLUG`. Stable, so loading the feed again
    updates the same record."""
    digest = hashlib.sha1(original.encode("utf-8")).hexdigest()[:8]  # noqa: S324 (not security)
    return f"{ident[:86].rstrip('-')}-feed-{digest}"


def _not_kept(ident: str, original: Any, kept: frozenset[str], path: str, notes: Notes) -> str:
    """`ident`, or its `feed_id` (warned at `path`, which says whether it is the service's or
    its organisation's id) when it is in `kept`."""
    if ident not in kept:
        return ident
    text = str(original).strip()
    derived = feed_id(ident, text)
    what = "a service" if path == "id" else "an organisation"
    notes.warn(
        path,
        f"{quote(text)} is the id of {what} navigator keeps from another source; "
        f"loaded as {derived!r}",
    )
    return derived


def _organisation_id(
    service: dict[str, Any], kept: KeptElsewhere, notes: Notes
) -> tuple[str, bool]:
    """navigator's id of the service's organization, and whether it is the placeholder (the
    service names none: warned); a `feed_id` when navigator keeps that id from another
    source."""
    org = as_object(service.get("organization"))
    raw = present(org, "id") or service.get("organization_id")
    if raw is None:
        notes.warn(
            "organization",
            f"not given; the service is filed under {PLACEHOLDER_ORGANISATION['id']!r}",
        )
        ident = str(PLACEHOLDER_ORGANISATION["id"])
        return _not_kept(ident, ident, kept.organisations, "organization", notes), True
    ident = navigator_id(raw, "organization.id", notes)
    return _not_kept(ident, raw, kept.organisations, "organization.id", notes), False


def _status(service: dict[str, Any], notes: Notes) -> str:
    value = str(service.get("status") or "active").lower()
    if value not in STATUS_FROM_HSDS:
        notes.warn("status", f"{quote(service['status'])} is not an HSDS status; read as active")
    return STATUS_FROM_HSDS.get(value, "active")


# Arrays of a service that the import reads; one that is not a list is warned about by name.
ARRAY_FIELDS = (
    "phones",
    "contacts",
    "service_at_locations",
    "service_areas",
    "eligibilitys",
    "eligibilities",
    "attributes",
    "service_taxonomys",
    "service_taxonomies",
)


def _third_party(
    service: dict[str, Any],
    vocab: Vocabulary,
    mappings: tuple[Mapping, ...],
    notes: Notes,
    *,
    trusted: bool,
    today: date,
) -> tuple[dict[str, Any], str | None]:
    for key in ARRAY_FIELDS:
        listed(service, key, key, notes)
    classified, reason = classification(service, vocab, mappings, notes, trusted=trusted)
    caller_roles = classified.pop("caller_roles")
    min_days, max_days = oruk_fields.age_days(service, notes)
    name = str(service["name"])
    if len(name) > MAX_NAME:
        notes.warn("name", f"longer than {MAX_NAME} characters; cut")
    public_name = as_text(service.get("alternate_name"), "alternate_name", notes)
    if public_name is not None and len(public_name) > MAX_NAME:
        notes.warn("alternate_name", f"{quote(public_name)}: longer than {MAX_NAME}; left out")
        public_name = None
    opening, closed = opening_from_service(service, notes, today)
    status = _status(service, notes)
    return classified | {
        "name": name[:MAX_NAME],
        "public_name": public_name,
        "description": as_text(service.get("description"), "description", notes) or "",
        "status": "temporarily_closed" if closed and status == "active" else status,
        "eligibility": {
            "min_age_days": min_days,
            "max_age_days": max_days,
            "caller_roles": caller_roles,
        },
        "coverage": oruk_fields.coverage(service, vocab, notes),
        "locations": oruk_fields.locations(service, notes),
        "contact": oruk_fields.contact(service, notes),
        "opening": opening,
        "assured_at": oruk_fields.assured_at(service, notes),
    }, reason


def _unusable(service: dict[str, Any], index: int) -> tuple[str, str] | None:
    """(label, reason) when a service has no usable id or name (absent, or a list or object
    rather than text or a number), else None."""
    for key in ("id", "name"):
        value = service.get(key)
        if value is None or isinstance(value, dict | list | bool):
            label = next(
                (
                    str(service[k])
                    for k in ("id", "name")
                    if isinstance(service.get(k), str | int | float)
                ),
                f"item {index + 1}",
            )
            reason = f"no {key}" if value is None else f"no usable {key} ({kind(value)}, not text)"
            return printable(label, 100), reason
    return None


def records_from_oruk(
    data: Any,
    vocab: Vocabulary | None = None,
    mappings: tuple[Mapping, ...] | None = None,
    *,
    trust_classification: bool = False,
    kept: KeptElsewhere | None = None,
    today: date | None = None,
) -> OrukImport:
    """Raw navigator-format organisation and service dicts, for the loader to validate
    (the app's vocabulary and taxonomy mappings unless given). `trust_classification`: the
    feed is navigator's own export or another navigator's, so its `navigator-details` and
    navigator taxonomy terms classify its services (else they are ignored, warned). `kept`:
    ids navigator keeps from other sources, which the feed's services and organisations do
    not take (they are loaded under a `feed_id`, warned; the loader gives them for an
    untrusted load). `today`: the load date (London) that long closures are judged against;
    default now. ValueError if `data` is not ORUK services (`looks_like_oruk`)."""
    items = oruk_services(data)
    if items is None:
        raise ValueError("not Open Referral UK services")
    vocab = vocab or VOCABULARY.get()
    mappings = TAXONOMY_MAPPINGS.get() if mappings is None else mappings
    today = today or to_local(utcnow()).date()
    kept = kept or KeptElsewhere()
    result = OrukImport()
    seen_orgs: set[str] = set()
    for index, raw in enumerate(items):
        if not isinstance(raw, dict):
            why = raw.reason if isinstance(raw, Unreadable) else "not a service object"
            result.rejected.append((f"item {index + 1}", why))
            continue
        service = cleaned(raw)
        notes = Notes()
        unusable = _unusable(service, index)
        if unusable is not None:
            result.rejected.append(unusable)
            continue
        name = str(service["name"])
        details = (
            trusted_details(
                service,
                {
                    # navigator's own export: read back exactly (name, description and status
                    # as written, not trimmed)
                    "name": raw["name"] if isinstance(raw.get("name"), str) else name,
                    "description": raw.get("description") or "",
                    "status": _status(service, Notes()),
                },
                vocab,
                notes,
            )
            if trust_classification
            else None
        )
        if details is not None:
            record = {
                k: v
                for k, v in details.items()
                if k not in ("organisation_sector", "organisation", "id")
            }
            ident = str(details.get("id") or navigator_id(service["id"], "id", notes))
            org_id = details.get("organisation")
            org_sector = details.get("organisation_sector") or record.get("sector") or "voluntary"
            reason = None
            record |= {
                "name": raw["name"] if isinstance(raw.get("name"), str) else name,
                "description": raw.get("description") or "",
                "status": _status(service, notes),
            }
        else:
            ident = _not_kept(
                navigator_id(service["id"], "id", notes), service["id"], kept.services, "id", notes
            )
            org_id = None
            record, reason = _third_party(
                service, vocab, mappings, notes, trusted=trust_classification, today=today
            )
            org_sector = record["sector"]
        placeholder = False
        if org_id:
            org_id = str(org_id)
        else:
            org_id, placeholder = _organisation_id(service, kept, notes)
        if org_id not in seen_orgs:  # the first service to name it describes it
            result.organisations.append(
                PLACEHOLDER_ORGANISATION | {"id": org_id}
                if placeholder
                else oruk_fields.organisation(service, org_id, org_sector, notes)
            )
        seen_orgs.add(org_id)
        record = {"id": ident, "organisation": org_id} | record
        result.services.append(record)
        if notes.lines:
            result.warnings.setdefault(ident, []).extend(notes.lines)
        if reason is not None:
            result.unclassified[ident] = reason
    return result
