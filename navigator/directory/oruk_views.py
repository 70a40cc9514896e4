"""`/oruk/`: the open Open Referral UK (HSDS 3.0) read API.

No authentication and `Access-Control-Allow-Origin: *`, as the UK profile requires; it
carries no patient data and never shows professional-only contact or referral details.
"""

from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from navigator.core.clock import DAY_MINUTES, WEEKDAYS, age_in_days, parse_hhmm
from navigator.core.errors import Problem
from navigator.core.fields import PostcodeField
from navigator.core.reference import VOCABULARY
from navigator.core.schemas import field_messages
from navigator.directory.index import Entry
from navigator.directory.opening import weekly_window
from navigator.directory.oruk_export import service_to_oruk
from navigator.directory.oruk_terms import (
    DAYS,
    TAXONOMIES,
    taxonomy_id,
    taxonomy_object,
    term_id,
    term_object,
)
from navigator.directory.reference import directory_index
from navigator.web.access import public
from navigator.web.edge import answers_bad_fields_with

blp = Blueprint("oruk", __name__, url_prefix="/oruk")
# Every bad query is 400 here (as `_args` answers), the edge's NUL/surrogate check included.
answers_bad_fields_with(blp, 400)

PROFILE_URL = "https://github.com/OpenReferralUK/uk-profile/blob/main/docs/index.md"
SPEC_URL = "https://openreferraluk.org/specifications/3.0/openapi.json"
# Why every view here is open (navigator.web.access): the route-access test reports it.
OPEN_DATA = (
    "Open Referral UK open data: the UK profile requires no authentication; public directory "
    "fields only, no patient data and no professional-only details"
)


@blp.after_request
def _open_cors(response: Response) -> Response:
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _hhmm(value: str) -> None:
    try:
        parse_hhmm(value[:5])
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc


def _start_hhmm(value: str) -> None:
    _hhmm(value)
    if parse_hhmm(value[:5]) == DAY_MINUTES:
        raise ValidationError("24:00 can only end a window; start at 00:00 instead")


class OrukServiceArgs(Schema):
    class Meta:
        unknown = EXCLUDE  # ORUK clients send profile parameters we do not filter on (format, full)

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
    proximity = fields.Integer(
        validate=validate.Range(min=0, max=500_000), metadata={"description": "metres"}
    )
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))

    @validates_schema
    def _pairs(self, data: dict[str, Any], **_: Any) -> None:
        if "proximity" in data and "postcode" not in data:
            raise ValidationError("proximity needs a postcode", "proximity")


def _args() -> dict[str, Any]:
    try:
        return dict(OrukServiceArgs().load(request.args.to_dict()))
    except ValidationError as exc:
        raise Problem(400, "Invalid query parameters", errors=field_messages(exc)) from exc


def _terms_of(entry: Entry) -> set[str]:
    record = entry.record
    ids = {term_id("service_types", record["service_type"]), term_id("sectors", record["sector"])}
    ids |= {term_id("needs", n) for n in record["needs"]}
    return ids | {record["service_type"], record["sector"], *record["needs"]}


def _open_in_window(entry: Entry, day: str | None, start: int | None, end: int | None) -> bool:
    """The `day`/`start_time`/`end_time` filter: open by the regular weekly timetable for the
    whole window from `start` (default 00:00) to `end` (default 24:00) on `day` (any weekday if
    none). An end at or before the start runs past midnight into the next day, as sessions do;
    sessions that began the day before and run past midnight count (README, "Open Referral UK").
    """
    lo, hi = weekly_window(start, end)
    return entry.schedule.open_throughout_weekly(WEEKDAYS.index(day) if day else None, lo, hi)


def _matches(entry: Entry, args: dict[str, Any]) -> bool:
    record = entry.record
    words = (args.get("search") or args.get("text") or "").lower().split()
    if words and not all(w in entry.text for w in words):
        return False
    if "taxonomy_term_id" in args and args["taxonomy_term_id"] not in _terms_of(entry):
        return False
    if "taxonomy_id" in args:
        # Every service has a service type and a sector term; only "needs" can be missing.
        scheme = next((s for s in TAXONOMIES if taxonomy_id(s) == args["taxonomy_id"]), None)
        if scheme is None or (scheme == "needs" and not record["needs"]):
            return False
    if "organization_id" in args and entry.organisation["id"] != args["organization_id"]:
        return False
    elig = record["eligibility"]
    # Ages filter by overlap: the service admits someone within [minimum_age, maximum_age].
    maximum = elig["max_age_days"]
    if "minimum_age" in args and maximum is not None and maximum < age_in_days(args["minimum_age"]):
        return False
    if "maximum_age" in args and elig["min_age_days"] > age_in_days(args["maximum_age"] + 1) - 1:
        return False
    if any(k in args for k in ("day", "start_time", "end_time")):
        day = args.get("day")
        if day:
            day = next(d for d in WEEKDAYS if d == day.lower() or DAYS[WEEKDAYS.index(d)] == day)
        start = parse_hhmm(args["start_time"][:5]) if "start_time" in args else None
        end = parse_hhmm(args["end_time"][:5]) if "end_time" in args else None
        if not _open_in_window(entry, day, start, end):
            return False
    if "postcode" in args:
        located = args["postcode"]
        if "proximity" in args:
            distance = entry.distance_to(located)
            return distance is not None and distance * 1000 <= args["proximity"]
        return entry.covers(located)
    return True


def _page(items: list[Any], page: int, per_page: int) -> dict[str, Any]:
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


@blp.route("/")
@public(OPEN_DATA)
def root() -> ResponseReturnValue:
    return jsonify(
        {
            "version": "3.0",
            "profile": PROFILE_URL,
            "openapi_url": SPEC_URL,
            "description": "BLMK directory of services (navigator)",
            "services_url": url_for("oruk.services", _external=True),
        }
    )


@blp.route("/services")
@public(OPEN_DATA)
def services() -> ResponseReturnValue:
    args = _args()
    index = directory_index()
    vocab = VOCABULARY.get()
    matched = [entry for entry in index.entries if _matches(entry, args)]
    if "postcode" in args:
        located = args["postcode"]
        matched.sort(key=lambda e: (e.distance_to(located) or float("inf"), e.record["name"]))
    else:
        matched.sort(key=lambda e: (e.record["name"], e.id))
    page = _page(matched, args["page"], args["per_page"])
    page["contents"] = [
        service_to_oruk(e.record, e.organisation, vocab, include_professional=False)
        for e in page["contents"]
    ]
    return jsonify(page)


@blp.route("/services/<string:service_id>")
@public(OPEN_DATA)
def service(service_id: str) -> ResponseReturnValue:
    entry = directory_index().by_id.get(service_id)
    if entry is None:
        raise Problem(404, f"No service with id {service_id!r}.")
    return jsonify(
        service_to_oruk(
            entry.record, entry.organisation, VOCABULARY.get(), include_professional=False
        )
    )


@blp.route("/taxonomies")
@public(OPEN_DATA)
def taxonomies() -> ResponseReturnValue:
    items = [taxonomy_object(scheme) for scheme in TAXONOMIES]
    return jsonify(_page(items, 1, max(len(items), 1)))


@blp.route("/taxonomies/<string:ident>")
@public(OPEN_DATA)
def taxonomy(ident: str) -> ResponseReturnValue:
    for scheme in TAXONOMIES:
        if ident in (taxonomy_id(scheme), TAXONOMIES[scheme][0]):
            return jsonify(taxonomy_object(scheme))
    raise Problem(404, f"No taxonomy with id {ident!r}.")


def _all_terms() -> list[dict[str, Any]]:
    vocab = VOCABULARY.get()
    return [
        term_object(vocab, scheme, code) for scheme in TAXONOMIES for code in vocab.codes(scheme)
    ]


@blp.route("/taxonomy_terms")
@public(OPEN_DATA)
def taxonomy_terms() -> ResponseReturnValue:
    page = request.args.get("page", "1")
    per_page = request.args.get("per_page", "100")
    if not (
        page.isdigit() and per_page.isdigit() and int(page) >= 1 and 1 <= int(per_page) <= 1000
    ):
        raise Problem(
            400, "page and per_page must be positive whole numbers (per_page at most 1000)"
        )
    terms = _all_terms()
    if wanted := request.args.get("taxonomy_id"):
        terms = [t for t in terms if t["taxonomy_id"] == wanted or t["taxonomy"] == wanted]
    return jsonify(_page(terms, int(page), int(per_page)))


@blp.route("/taxonomy_terms/<string:ident>")
@public(OPEN_DATA)
def taxonomy_term(ident: str) -> ResponseReturnValue:
    for term in _all_terms():
        if ident == term["id"]:
            return jsonify(term)
    raise Problem(404, f"No taxonomy term with id {ident!r}.")
