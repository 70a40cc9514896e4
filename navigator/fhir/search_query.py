"""The query string of the FHIR directory search parsed and checked: `parse_service_search`
(`GET /fhir/HealthcareService`) and `parse_organization_search` (`GET /fhir/Organization`),
each against the parameters `navigator.fhir.search_params` declares.

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
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

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
from navigator.fhir.search_params import (
    DEFAULT_COUNT,
    FORMATS,
    HEALTHCARE_SERVICE_PARAMS,
    MAX_AGE_YEARS,
    MAX_COUNT,
    MAX_NEAR_KM,
    MAX_OFFSET,
    ORGANIZATION_PARAMS,
    PAGING_PARAMS,
    REVINCLUDE_ENDPOINTS,
    Near,
    OrganizationSearch,
    Paging,
    SearchParam,
    ServiceSearch,
)

MAX_VALUES = 100
MAX_VALUE_LENGTH = 1000
# Names echoed in an OperationOutcome are cut to this length (a name can be 10,000 characters).
MAX_NAME_ECHO = 80
# At most this many parameters are named in one refusal (500 unknown ones are refused alike).
MAX_REPORTED = 20

_DIGITS = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"-?[0-9]{1,3}(?:\.[0-9]{1,12})?")
_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?"
    r"(?:Z|[+-][0-9]{2}:[0-9]{2})?"
)
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,99}")


class _Bad(ValueError):
    """A value refused: the message names what is wrong, never echoes the value."""


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
