"""The FHIR directory search's parameters: what `GET /fhir/HealthcareService` and
`GET /fhir/Organization` accept, parsed and checked, and the `searchset` Bundle's paging.

Each parameter is declared once (`HEALTHCARE_SERVICE_PARAMS`, `ORGANIZATION_PARAMS`) with its
FHIR type and documentation, and the CapabilityStatement lists exactly these
(`navigator.fhir.capability`), so what is documented is what is parsed.

Rules for every query string (FHIR R4 search, http://hl7.org/fhir/R4/search.html):

- a parameter navigator does not know, or a modifier (`name:exact`, `name:missing`), is a 400
  OperationOutcome naming it (FHIR lets a server ignore them; a 111 system is better told its
  filter did nothing);
- each parameter at most once: FHIR reads a repeated parameter as AND, which no parameter
  here needs; a comma inside one value is OR where the parameter says so;
- a token is `system|code` or `code`; `|code` (explicitly no system) is refused, as none of
  navigator's codes is system-less; the system, when given, must be the one documented;
- at most `MAX_VALUES` comma-separated values, and `MAX_VALUE_LENGTH` characters in a value;
- every bad value is a 400 naming the parameter (`Problem(400, errors={name: [message]})`,
  rendered by `navigator.fhir.outcome`); no query string gives a 500.

Paging (`searchset_bundle`): `_count` entries from `_offset` (0-based); `_count` defaults to
`DEFAULT_COUNT` and is capped at `MAX_COUNT` (a larger one is served as `MAX_COUNT`, and the
links say so); `_count=0` answers the total alone. The Bundle's `self`, `first`, `previous`,
`next` and `last` links repeat the query as understood, so following `next` to the end gives
each match once (the order is total: distance or name, then id).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from werkzeug.datastructures import MultiDict

from navigator.core.clock import LONDON, age_in_days
from navigator.core.errors import Problem
from navigator.core.fields import YEARS_MESSAGE, in_year_range
from navigator.core.identifiers import normalise_ods_code
from navigator.core.places import Gazetteer, Located, Point, parse_postcode
from navigator.core.vocabulary import Vocabulary
from navigator.fhir.codesystems import (
    CODE_SYSTEMS,
    ODS_SYSTEM,
    codesystem_url,
    organisation_id_system,
    service_id_system,
)

DEFAULT_COUNT, MAX_COUNT = 20, 100
MAX_OFFSET = 1_000_000
MAX_VALUES = 100
MAX_VALUE_LENGTH = 1000
MAX_NEAR_KM = 500.0  # as /api/v1's radius_km
MAX_AGE_YEARS = 130
# Names echoed in an OperationOutcome are cut to this length (a name can be 10,000 characters).
MAX_NAME_ECHO = 80
# At most this many parameters are named in one refusal (500 unknown ones are refused alike).
MAX_REPORTED = 20
FORMATS = ("json", "application/json", "application/fhir+json")
REVINCLUDE_ENDPOINTS = "Endpoint:organization"

_DIGITS = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"-?[0-9]{1,3}(?:\.[0-9]{1,12})?")
_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?"
    r"(?:Z|[+-][0-9]{2}:[0-9]{2})?"
)
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,99}")


@dataclass(frozen=True)
class SearchParam:
    """One search parameter as the CapabilityStatement lists it (`rest.resource.searchParam`):
    `type` is a FHIR search parameter type (token, string, number, date, special)."""

    name: str
    type: str
    documentation: str


# The result parameters every search takes (FHIR §3.1.1.5.x).
PAGING_PARAMS = (
    SearchParam(
        "_count",
        "number",
        f"Entries per page: default {DEFAULT_COUNT}, at most {MAX_COUNT} (a larger value is "
        "served as the maximum); 0 answers the total alone.",
    ),
    SearchParam(
        "_offset",
        "number",
        f"The page's first entry, counted from 0 (at most {MAX_OFFSET:,}); the Bundle's "
        "next/previous links carry it.",
    ),
    SearchParam("_format", "token", f"Only JSON: one of {', '.join(FORMATS)}."),
)

HEALTHCARE_SERVICE_PARAMS = (
    SearchParam("_id", "token", "Service ids (navigator's slugs), comma-separated for OR."),
    SearchParam(
        "identifier",
        "token",
        "Service ids: `{base}/Id/service|<id>` or `<id>`, comma-separated for OR. Services "
        "carry no ODS code of their own: search their organisation's with "
        "organization.identifier.",
    ),
    SearchParam(
        "organization.identifier",
        "token",
        f"The providing organisation's ODS code: `{ODS_SYSTEM}|<code>` or `<code>`; or its "
        "navigator id: `{base}/Id/organisation|<id>`. Comma-separated for OR.",
    ),
    SearchParam(
        "service-type",
        "token",
        "Service types from the CodeSystem `{base}/CodeSystem/service-types` "
        "(`system|code` or `code`), comma-separated for OR.",
    ),
    SearchParam(
        "active",
        "token",
        "`true` (the default): services whose status is active; `false`: temporarily closed "
        "or defunct ones. A service reporting red capacity is never returned by a search, as "
        "DoS never returns one to 111 (read it by id); every service carries its live "
        "capacity (extension service-capacity).",
    ),
    SearchParam(
        "location.address-postalcode",
        "string",
        "A service location's postcode: a full postcode (that postcode) or an outward code "
        "(every postcode in that district); any spacing and case.",
    ),
    SearchParam(
        "location.near",
        "special",
        "Distance search, FHIR's `near` syntax: `latitude|longitude|distance|units`, e.g. "
        f"`52.13|-0.47|10|km`; units `km` (the default) or `[mi_i]`; distance above 0, at most "
        f"{MAX_NEAR_KM:g} km; without a distance, no limit. Services with a location within "
        "the distance, nearest first; each entry's search.extension location-distance gives "
        "it.",
    ),
    SearchParam(
        "coverage-postcode",
        "string",
        "navigator's own: services that serve a caller at this postcode (full or outward "
        "code), by place, postcode district or radius, as /api/v1/services?postcode= decides; "
        "nearest first (from the postcode district's centroid) unless location.near orders.",
    ),
    SearchParam(
        "need",
        "token",
        "navigator's own: services that meet this need, from the CodeSystem "
        "`{base}/CodeSystem/needs` (`system|code` or `code`; one value).",
    ),
    SearchParam(
        "caller-role",
        "token",
        "navigator's own: services that take calls or referrals from this caller role "
        "(CodeSystem `{base}/CodeSystem/caller-roles`; one value). It also decides what is "
        "shown: professional-only phone numbers (telecom marked 'Clinician Access Only') are "
        "left out for `public` and `relative`.",
    ),
    SearchParam(
        "age",
        "number",
        f"navigator's own: services that admit a patient of this age in years (0 to "
        f"{MAX_AGE_YEARS}, decimals allowed, e.g. 0.5); a plain value, no prefixes.",
    ),
    SearchParam(
        "open-at",
        "date",
        "navigator's own: services open at this instant, a dateTime with a time "
        "(`2026-12-01T14:30:00Z`; without an offset, Europe/London wall-clock time); no "
        "prefixes. Opening times include bank holidays, specified dates and recurring sessions.",
    ),
)

ORGANIZATION_PARAMS = (
    SearchParam("_id", "token", "Organisation ids (navigator's slugs), comma-separated for OR."),
    SearchParam(
        "identifier",
        "token",
        f"The organisation's ODS code: `{ODS_SYSTEM}|<code>` or `<code>`; or its navigator "
        "id: `{base}/Id/organisation|<id>`. Comma-separated for OR.",
    ),
    SearchParam(
        "_revinclude",
        "special",
        f"Only `{REVINCLUDE_ENDPOINTS}`, accepted as the DoS Search API sends it: navigator "
        "holds no Endpoints, so none are included.",
    ),
)


class _Bad(ValueError):
    """A value refused: the message names what is wrong, never echoes the value."""


@dataclass(frozen=True)
class Paging:
    count: int = DEFAULT_COUNT
    offset: int = 0


@dataclass(frozen=True)
class Near:
    point: Point
    km: float | None


@dataclass(frozen=True)
class ServiceSearch:
    """A `GET /fhir/HealthcareService` query, parsed. None: no such filter."""

    ids: frozenset[str] | None = None
    ods_codes: frozenset[str] | None = None
    organisation_ids: frozenset[str] | None = None
    service_types: frozenset[str] | None = None
    postcode: str | None = None  # location.address-postalcode, normalised
    near: Near | None = None
    coverage: Located | None = None
    active: bool | None = None
    need: str | None = None
    caller_role: str | None = None
    age_days: int | None = None
    open_at: datetime | None = None
    paging: Paging = Paging()
    # The parameters as given (validated), without the paging ones: the links repeat them.
    query: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class OrganizationSearch:
    ids: frozenset[str] | None = None
    ods_codes: frozenset[str] | None = None
    organisation_ids: frozenset[str] | None = None
    paging: Paging = Paging()
    query: tuple[tuple[str, str], ...] = ()


@dataclass
class _Parsed:
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    query: list[tuple[str, str]] = field(default_factory=list)


def _echo(name: str) -> str:
    # The edge has already refused NUL and lone surrogates; long names are cut.
    return name if len(name) <= MAX_NAME_ECHO else name[:MAX_NAME_ECHO] + "…"


def _read(
    args: MultiDict[str, str],
    known: tuple[SearchParam, ...],
    parsers: Mapping[str, Callable[[str], Any]],
) -> _Parsed:
    """Every parameter of `args` through its parser; unknown, repeated, too long or bad ones
    are collected as errors (name → messages)."""
    names = {p.name for p in known} | {p.name for p in PAGING_PARAMS}
    parsed = _Parsed()
    for name in args:
        if len(parsed.errors) >= MAX_REPORTED:
            break
        shown = _echo(name)
        values = args.getlist(name)
        if name not in names:
            base, colon, _ = name.partition(":")
            parsed.errors[shown] = [
                f"Modifier not supported on {base}" if colon and base in names else
                "Unknown search parameter. Supported: " + ", ".join(sorted(names))
            ]  # fmt: skip
            continue
        if len(values) > 1:
            parsed.errors[shown] = ["Give this parameter once (use commas for OR where allowed)"]
            continue
        value = values[0]
        if len(value) > MAX_VALUE_LENGTH:
            parsed.errors[shown] = [f"At most {MAX_VALUE_LENGTH} characters"]
            continue
        try:
            parsed.values[name] = parsers[name](value)
        except _Bad as exc:
            parsed.errors[shown] = [str(exc)]
            continue
        if name not in ("_count", "_offset"):
            parsed.query.append((name, value))
    return parsed


def _raise_if_errors(parsed: _Parsed) -> None:
    if parsed.errors:
        unknown_only = all(m[0].startswith(("Unknown", "Modifier")) for m in parsed.errors.values())
        raise Problem(
            400,
            "Invalid search parameters: " + ", ".join(parsed.errors),
            code="not-supported" if unknown_only else "invalid",
            errors=parsed.errors,
        )


# --- value parsers ------------------------------------------------------------------------


def _list(value: str) -> list[str]:
    items = value.split(",")
    if len(items) > MAX_VALUES:
        raise _Bad(f"At most {MAX_VALUES} comma-separated values")
    if any(not item.strip() for item in items):
        raise _Bad("Empty value")
    return [item.strip() for item in items]


def _token(item: str) -> tuple[str | None, str]:
    system, bar, code = item.partition("|")
    if not bar:
        return None, item
    if not system:
        raise _Bad("Give `system|code` or `code`: navigator has no codes without a system")
    if not code:
        raise _Bad("Give a code after the system")
    return system, code


def _codes(codesystem_id: str, vocab: Vocabulary, *, single: bool) -> Callable[[str], Any]:
    scheme = CODE_SYSTEMS[codesystem_id][0]

    def parse(value: str) -> frozenset[str] | str:
        items = [value] if single else _list(value)
        if single and "," in value:
            raise _Bad("One value only")
        codes = set()
        for item in items:
            system, code = _token(item)
            if system is not None and system != codesystem_url(codesystem_id):
                raise _Bad(f"The system must be {codesystem_url(codesystem_id)}")
            if not vocab.has(scheme, code):
                raise _Bad(
                    f"Not a code of {codesystem_url(codesystem_id)}. Use one of: "
                    + ", ".join(vocab.codes(scheme))
                )
            codes.add(code)
        return next(iter(codes)) if single else frozenset(codes)

    return parse


def _slugs(value: str) -> frozenset[str]:
    # An id that is no slug matches nothing rather than erring: ids are opaque to clients.
    return frozenset(_list(value))


def _service_ids(value: str) -> frozenset[str]:
    ids = set()
    for item in _list(value):
        system, code = _token(item)
        if system is not None and system != service_id_system():
            raise _Bad(f"The system must be {service_id_system()}")
        ids.add(code)
    return frozenset(ids)


def _organisation_identifiers(value: str) -> tuple[frozenset[str], frozenset[str]]:
    """(ODS codes, navigator organisation ids)."""
    ods, slugs = set(), set()
    for item in _list(value):
        system, code = _token(item)
        if system is None or system == ODS_SYSTEM:
            normal = normalise_ods_code(code)
            if normal is None:
                raise _Bad("Not an ODS code (3 to 10 letters and digits)")
            ods.add(normal)
        elif system == organisation_id_system():
            slugs.add(code)
        else:
            raise _Bad(f"The system must be {ODS_SYSTEM} or {organisation_id_system()}")
    return frozenset(ods), frozenset(slugs)


def _count(value: str) -> int:
    if not _DIGITS.fullmatch(value):
        raise _Bad("A whole number, 0 or more")
    return MAX_COUNT if len(value) > 6 else min(int(value), MAX_COUNT)


def _offset(value: str) -> int:
    if not _DIGITS.fullmatch(value):
        raise _Bad("A whole number, 0 or more")
    if len(value) > 7 or int(value) > MAX_OFFSET:
        raise _Bad(f"At most {MAX_OFFSET}")
    return int(value)


def _format(value: str) -> str:
    if value not in FORMATS:
        raise _Bad("Only JSON: " + ", ".join(FORMATS))
    return value


def _boolean(value: str) -> bool:
    if value not in ("true", "false"):
        raise _Bad("true or false")
    return value == "true"


def _decimal(value: str, what: str) -> float:
    if not _DECIMAL.fullmatch(value):
        raise _Bad(f"{what} must be a decimal number")
    return float(value)


def _age(value: str) -> int:
    years = _decimal(value, "The age")
    if not 0 <= years <= MAX_AGE_YEARS:
        raise _Bad(f"Between 0 and {MAX_AGE_YEARS} years")
    return age_in_days(years)


def _instant(value: str) -> datetime:
    if not _DATETIME.fullmatch(value):
        raise _Bad("A dateTime with a time, e.g. 2026-12-01T14:30:00Z (no prefixes)")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _Bad("Not a valid date and time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=LONDON)
    if not in_year_range(parsed):
        raise _Bad(YEARS_MESSAGE)
    return parsed


def _postcode_text(value: str) -> str:
    parsed = parse_postcode(value)
    if parsed is None:
        raise _Bad("Not a valid UK postcode or outward code")
    return parsed.text


def _near(value: str) -> Near:
    parts = value.split("|")
    if not 2 <= len(parts) <= 4:
        raise _Bad("latitude|longitude|distance|units, e.g. 52.13|-0.47|10|km")
    lat = _decimal(parts[0], "The latitude")
    lng = _decimal(parts[1], "The longitude")
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise _Bad("Latitude -90 to 90, longitude -180 to 180")
    km = None
    if len(parts) >= 3 and parts[2]:
        km = _decimal(parts[2], "The distance")
        units = parts[3] if len(parts) == 4 else "km"
        if units == "[mi_i]":
            km *= 1.609344
        elif units not in ("km", ""):
            raise _Bad("Units km or [mi_i]")
        if not 0 < km <= MAX_NEAR_KM:
            raise _Bad(f"The distance is above 0 and at most {MAX_NEAR_KM:g} km")
    elif len(parts) == 4:
        raise _Bad("Units without a distance")
    return Near(Point.of(lat, lng), km)


def parse_service_search(
    args: MultiDict[str, str], vocab: Vocabulary, gazetteer: Gazetteer
) -> ServiceSearch:
    """The query string of `GET /fhir/HealthcareService`. Raises Problem(400) naming every
    unknown, repeated or bad parameter."""

    def coverage(value: str) -> Located:
        parsed = parse_postcode(value)
        if parsed is None:
            raise _Bad("Not a valid UK postcode or outward code")
        return gazetteer.locate(parsed)

    parsers: dict[str, Callable[[str], Any]] = {
        "_count": _count,
        "_offset": _offset,
        "_format": _format,
        "_id": _slugs,
        "identifier": _service_ids,
        "organization.identifier": _organisation_identifiers,
        "service-type": _codes("service-types", vocab, single=False),
        "active": _boolean,
        "location.address-postalcode": _postcode_text,
        "location.near": _near,
        "coverage-postcode": coverage,
        "need": _codes("needs", vocab, single=True),
        "caller-role": _codes("caller-roles", vocab, single=True),
        "age": _age,
        "open-at": _instant,
    }
    parsed = _read(args, HEALTHCARE_SERVICE_PARAMS, parsers)
    _raise_if_errors(parsed)
    v = parsed.values
    ids = _intersect(v.get("_id"), v.get("identifier"))
    ods, slugs = v.get("organization.identifier", (None, None))
    return ServiceSearch(
        ids=ids,
        ods_codes=ods,
        organisation_ids=slugs,
        service_types=v.get("service-type"),
        postcode=v.get("location.address-postalcode"),
        near=v.get("location.near"),
        coverage=v.get("coverage-postcode"),
        active=v.get("active"),
        need=v.get("need"),
        caller_role=v.get("caller-role"),
        age_days=v.get("age"),
        open_at=v.get("open-at"),
        paging=Paging(v.get("_count", DEFAULT_COUNT), v.get("_offset", 0)),
        query=tuple(parsed.query),
    )


def parse_organization_search(args: MultiDict[str, str]) -> OrganizationSearch:
    """The query string of `GET /fhir/Organization`. Raises Problem(400) as above."""

    def revinclude(value: str) -> str:
        if value != REVINCLUDE_ENDPOINTS:
            raise _Bad(f"Only {REVINCLUDE_ENDPOINTS}")
        return value

    parsers: dict[str, Callable[[str], Any]] = {
        "_count": _count,
        "_offset": _offset,
        "_format": _format,
        "_id": _slugs,
        "identifier": _organisation_identifiers,
        "_revinclude": revinclude,
    }
    parsed = _read(args, ORGANIZATION_PARAMS, parsers)
    _raise_if_errors(parsed)
    v = parsed.values
    ods, slugs = v.get("identifier", (None, None))
    return OrganizationSearch(
        ids=v.get("_id"),
        ods_codes=ods,
        organisation_ids=slugs,
        paging=Paging(v.get("_count", DEFAULT_COUNT), v.get("_offset", 0)),
        query=tuple(parsed.query),
    )


def _intersect(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    if a is None:
        return b
    return a if b is None else a & b


# --- the searchset Bundle -----------------------------------------------------------------


def page_link(url: str, query: tuple[tuple[str, str], ...], count: int, offset: int) -> str:
    """`url` with the query as understood and this page's `_count` and `_offset`."""
    return url + "?" + urlencode([*query, ("_count", str(count)), ("_offset", str(offset))])


def searchset_bundle(
    *,
    url: str,
    query: tuple[tuple[str, str], ...],
    paging: Paging,
    total: int,
    entries: list[dict[str, Any]],
    bundle_id: str,
    timestamp: str,
) -> dict[str, Any]:
    """A `searchset` Bundle (as a dict; the caller validates it): `total`, the `self`,
    `first`, `last` and, where they exist, `previous` and `next` links, and the page's
    `entries` (each already with `fullUrl`, `resource` and `search`)."""
    count, offset = paging.count, paging.offset
    links = [{"relation": "self", "url": page_link(url, query, count, offset)}]
    if count > 0:
        last = max(0, (total - 1) // count * count)
        links.append({"relation": "first", "url": page_link(url, query, count, 0)})
        if offset > 0:
            previous = max(0, min(offset - count, last))
            links.append({"relation": "previous", "url": page_link(url, query, count, previous)})
        if offset + count < total:
            links.append({"relation": "next", "url": page_link(url, query, count, offset + count)})
        links.append({"relation": "last", "url": page_link(url, query, count, last)})
    return {
        "resourceType": "Bundle",
        "id": bundle_id,
        "type": "searchset",
        "timestamp": timestamp,
        "total": total,
        "link": links,
        **({"entry": entries} if entries else {}),
    }
