"""`/oruk/` queries: the list endpoints' query parameters and which services they match.

`PageArgs`, `OrukServiceArgs` and `TermArgs` are the query strings the UK profile's list
endpoints take (`page`/`per_page`, and for `/services` and `/service_at_locations` the search,
taxonomy, organisation, age, day/time and postcode/proximity filters); `matches_service` and
`matches` apply them to a directory entry, `paged` wraps one page in the profile's `Page`
envelope. The views themselves, one Blueprint, are `navigator.directory.oruk_views`.
"""

from __future__ import annotations

import math
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from navigator.core.clock import (
    DAY_MINUTES,
    WEEKDAYS,
    max_age_days_from_years,
    min_age_days_from_years,
    parse_hhmm,
)
from navigator.core.fields import PostcodeField
from navigator.core.places import Located, Point
from navigator.directory.index import Entry
from navigator.directory.opening import weekly_window
from navigator.directory.oruk_export import source_taxonomy_id, source_term_id
from navigator.directory.oruk_terms import DAYS, TAXONOMIES, hsds_id, taxonomy_id, term_id


def _hhmm(value: str) -> None:
    try:
        parse_hhmm(value[:5])
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc


def _start_hhmm(value: str) -> None:
    _hhmm(value)
    if parse_hhmm(value[:5]) == DAY_MINUTES:
        raise ValidationError("24:00 can only end a window; start at 00:00 instead")


class PageArgs(Schema):
    """`page` and `per_page`, as every ORUK list takes them (1-based pages)."""

    class Meta:
        unknown = EXCLUDE  # ORUK clients send profile parameters we do not filter on (format, full)

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class OrukServiceArgs(PageArgs):
    search = fields.String(validate=validate.Length(max=200))
    text = fields.String(validate=validate.Length(max=200))
    # Ids are at most 100 characters (the directory's id columns); longer matches nothing.
    taxonomy_term_id = fields.String(validate=validate.Length(max=100))
    taxonomy_id = fields.String(validate=validate.Length(max=100))
    organization_id = fields.String(validate=validate.Length(max=100))
    minimum_age = fields.Float(validate=validate.Range(0, 130))
    maximum_age = fields.Float(validate=validate.Range(0, 130))
    day = fields.String(validate=validate.OneOf([*WEEKDAYS, *DAYS, *(d.title() for d in WEEKDAYS)]))
    start_time = fields.String(validate=[validate.Length(max=20), _start_hhmm])  # HH:MM[:SS…]
    end_time = fields.String(validate=[validate.Length(max=20), _hhmm])
    postcode = PostcodeField()
    # Metres from the postcode's centroid; the profile types it a string, so "1500.5" is fine.
    proximity = fields.Float(
        validate=validate.Range(min=0, max=500_000), metadata={"description": "metres"}
    )

    @validates_schema
    def _pairs(self, data: dict[str, Any], **_: Any) -> None:
        if "proximity" in data and "postcode" not in data:
            raise ValidationError("proximity needs a postcode", "proximity")


class TermArgs(PageArgs):
    per_page = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    taxonomy_id = fields.String(validate=validate.Length(max=200))


def _terms_of(entry: Entry) -> set[str]:
    record = entry.record
    ids = {term_id("service_types", record["service_type"]), term_id("sectors", record["sector"])}
    ids |= {term_id("needs", n) for n in record["needs"]}
    ids |= {source_term_id(t["taxonomy"], t["code"]) for t in record["source_terms"]}
    return ids | {record["service_type"], record["sector"], *record["needs"]}


def _in_taxonomy(entry: Entry, wanted: str) -> bool:
    record = entry.record
    if any(source_taxonomy_id(t["taxonomy"]) == wanted for t in record["source_terms"]):
        return True
    # Every service has a service type and a sector term; only "needs" can be missing.
    scheme = next((s for s in TAXONOMIES if taxonomy_id(s) == wanted), None)
    return scheme is not None and (scheme != "needs" or bool(record["needs"]))


def _open_in_window(entry: Entry, day: str | None, start: int | None, end: int | None) -> bool:
    """The `day`/`start_time`/`end_time` filter: open by the regular weekly timetable for the
    whole window from `start` (default 00:00) to `end` (default 24:00) on `day` (any weekday if
    none). An end at or before the start runs past midnight into the next day, as sessions do;
    sessions that began the day before and run past midnight count (README, "Open Referral UK").
    """
    lo, hi = weekly_window(start, end)
    return entry.schedule.open_throughout_weekly(WEEKDAYS.index(day) if day else None, lo, hi)


def matches_service(entry: Entry, args: dict[str, Any]) -> bool:
    """Every filter but `postcode`/`proximity` (which `services` and `service_at_locations`
    apply each their own way)."""
    record = entry.record
    words = (args.get("search") or args.get("text") or "").lower().split()
    if words and not all(w in entry.text for w in words):
        return False
    if "taxonomy_term_id" in args and args["taxonomy_term_id"] not in _terms_of(entry):
        return False
    if "taxonomy_id" in args and not _in_taxonomy(entry, args["taxonomy_id"]):
        return False
    org = entry.organisation["id"]
    if "organization_id" in args and args["organization_id"] not in (
        org,
        hsds_id("organisation", org),
    ):
        return False
    elig = record["eligibility"]
    # Ages filter by overlap: the service admits someone within [minimum_age, maximum_age].
    maximum = elig["max_age_days"]
    if (
        "minimum_age" in args
        and maximum is not None
        and maximum < min_age_days_from_years(args["minimum_age"])
    ):
        return False
    if "maximum_age" in args and elig["min_age_days"] > max_age_days_from_years(
        args["maximum_age"]
    ):
        return False
    if any(k in args for k in ("day", "start_time", "end_time")):
        day = args.get("day")
        if day:
            day = next(d for d in WEEKDAYS if d == day.lower() or DAYS[WEEKDAYS.index(d)] == day)
        start = parse_hhmm(args["start_time"][:5]) if "start_time" in args else None
        end = parse_hhmm(args["end_time"][:5]) if "end_time" in args else None
        if not _open_in_window(entry, day, start, end):
            return False
    return True


def near(distance_km: float | None, args: dict[str, Any]) -> bool:
    """Whether a distance (km; None: unknown) is within the query's `proximity` (metres)."""
    return distance_km is not None and distance_km * 1000 <= args["proximity"]


def matches(entry: Entry, args: dict[str, Any]) -> bool:
    """`/services`: every filter; `postcode` alone means the service covers it, with
    `proximity` one of its locations lies within that many metres of the postcode's centroid."""
    if not matches_service(entry, args):
        return False
    if "postcode" in args:
        located = args["postcode"]
        if "proximity" in args:
            return near(entry.distance_to(located), args)
        return entry.covers(located)
    return True


def location_distance(entry: Entry, index: int, located: Located) -> float | None:
    """Kilometres from the entry's location number `index` to the postcode's centroid; None
    when either has no coordinates."""
    location = entry.record["locations"][index]
    if located.point is None or location["lat"] is None or location["lng"] is None:
        return None
    return Point.of(location["lat"], location["lng"]).km_to(located.point)


def paged(items: list[Any], page: int, per_page: int) -> dict[str, Any]:
    """The profile's `Page` envelope (all its keys) around one page of `items`."""
    total_pages = max(1, math.ceil(len(items) / per_page))
    contents = items[(page - 1) * per_page : page * per_page]
    return {
        "total_items": len(items),
        "total_pages": total_pages,
        "page_number": page,
        "size": len(contents),
        "first_page": page == 1,
        "last_page": page >= total_pages,
        "empty": not contents,
        "contents": contents,
    }
