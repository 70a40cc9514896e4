"""Directory upkeep: search, a service's page, capacity, "details confirmed", and admin edits."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from math import ceil
from typing import Any
from urllib.parse import urlencode

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import Session

from navigator.console.access import can, me, requires
from navigator.console.blueprint import bp
from navigator.console.formatting import label
from navigator.console.forms import (
    api_fields,
    body_from_form,
    first_messages,
    form_values,
    load_or_errors,
    plain_options,
    vocabulary_options,
)
from navigator.core.clock import to_local
from navigator.core.db import transaction, utcnow
from navigator.core.errors import Problem
from navigator.core.extensions import current_session
from navigator.core.reference import VOCABULARY
from navigator.core.vocabulary import PATIENT_SEXES, REFERRAL_METHODS, STATUSES
from navigator.directory.capacity import STATUSES as CAPACITY_STATUSES
from navigator.directory.capacity import update_capacity
from navigator.directory.classify import classifiable, unclassified_count
from navigator.directory.editing import EditRejected, confirm_details, edit_service
from navigator.directory.index import Entry
from navigator.directory.models import Service, ServiceCapacity
from navigator.directory.reference import default_reset_minutes, directory_index, stale_hours
from navigator.directory.schemas import CapacityUpdateSchema, ServiceSearchArgs
from navigator.directory.search import ServiceQuery, search_services, service_detail
from navigator.sms.recipients import set_opt_out

# The API's search filters, so a new one reaches the console's search too (the form needs its
# control: tests/console/test_directory.py checks there is one for each), less these:
SEARCH_NOT_ON_FORM = {
    "age_days": "the form asks for an age in years",
    "page": "the pagination links below the list carry it, with the form's filters",
    "per_page": "the console shows pages of PER_PAGE services",
}
SEARCH_FIELDS = api_fields(ServiceSearchArgs, not_on_form=SEARCH_NOT_ON_FORM)
PER_PAGE = 100
# What an admin may change from the console (dotted paths into the directory record).
EDITABLE = (
    ("name", "Name"),
    ("public_name", "Name shown to the public"),
    ("description", "Description"),
    ("status", "Status"),
    ("contact.public_phone", "Phone for the public"),
    ("contact.professional_phone", "Phone for professionals"),
    ("contact.email", "Email"),
    ("contact.website", "Website"),
    ("referral.method", "How to refer"),
    ("referral.info", "Referral information"),
)


def assurance_old(record: dict[str, Any], now: datetime, days: int) -> bool:
    """Details never confirmed, or last confirmed more than `days` days before `now`."""
    assured = record.get("assured_at")
    return assured is None or datetime.fromisoformat(assured) < now - timedelta(days=days)


def capacity_reported_stale(capacity: dict[str, Any]) -> bool:
    """Capacity was reported, but longer ago than `CAPACITY_STALE_HOURS`. A service that never
    reported capacity is not stale (the page says "Not reported"): on a fresh install no
    service has reported, and a list that is all highlighted highlights nothing."""
    return bool(capacity["stale"] and capacity["updated_at"])


def needs_checking(record: dict[str, Any], capacity: dict[str, Any], now: datetime) -> bool:
    """Details unconfirmed for longer than the assurance period, or capacity reported but not
    updated lately (`capacity` as `search.render_item` gives it)."""
    days = current_app.config["ASSURANCE_STALE_DAYS"]
    return assurance_old(record, now, days) or capacity_reported_stale(capacity)


def stale_capacity_ids(session: Session, now: datetime, hours: int) -> set[str]:
    """Services whose last capacity report is older than `hours` (never-reported ones have no
    row, so are not here)."""
    cutoff = now - timedelta(hours=hours)
    return set(
        session.scalars(
            select(ServiceCapacity.service_id).where(ServiceCapacity.updated_at < cutoff)
        )
    )


def page_number(value: str | None) -> int:
    """The `page` of the query string: a whole number from 1, else page 1 (a link someone
    edited by hand shows the first page rather than an error about a field they cannot see).
    Only ASCII digits, at most six of them: `str.isdigit` is true of "²" and "①", which `int`
    refuses, and `int` refuses text of more than 4,300 digits."""
    text = (value or "").strip()
    if text.isascii() and text.isdecimal() and len(text) <= 6:
        return max(1, min(int(text), 100_000))
    return 1


@dataclass(frozen=True)
class Listing:
    """One page of the directory as the console lists it."""

    items: list[dict[str, Any]]
    total: int
    page: int
    pages: int

    @property
    def first(self) -> int:
        """The position of the first item shown (1-based); 0 when there is none."""
        return (self.page - 1) * PER_PAGE + 1 if self.items else 0

    @property
    def last(self) -> int:
        return self.first + len(self.items) - 1 if self.items else 0


def directory_listing(
    session: Session,
    args: dict[str, Any],
    *,
    page: int,
    checks_only: bool,
    now: datetime,
) -> Listing:
    """The services matching the search form's `args` (as `ServiceSearchArgs` loads them), in
    pages of `PER_PAGE`; `checks_only` keeps the services needing checks, before counting and
    paging, so every page of that view is full. A page past the end shows the last page.
    Each item is `search.render_item`'s plus `assured_at` and `needs_checking`."""
    index, hours = directory_index(), stale_hours()
    keep = None
    if checks_only:
        days = current_app.config["ASSURANCE_STALE_DAYS"]
        stale = stale_capacity_ids(session, now, hours)

        def keep(entry: Entry) -> bool:
            return entry.id in stale or assurance_old(entry.record, now, days)

    query = replace(ServiceQuery.from_args(args, now), page=page, per_page=PER_PAGE)
    result = search_services(session, index, query, now=now, stale_hours=hours, keep=keep)
    if not result.items and result.total:
        last = ceil(result.total / PER_PAGE)
        query = replace(query, page=last)
        result = search_services(session, index, query, now=now, stale_hours=hours, keep=keep)
    for item in result.items:
        record = index.by_id[item["id"]].record
        item["assured_at"] = record["assured_at"]
        item["needs_checking"] = needs_checking(record, item["capacity"], now)
    pages = max(1, ceil(result.total / PER_PAGE))
    # With nothing found there is one (empty) page, whatever page was asked for.
    return Listing(result.items, result.total, min(result.page, pages), pages)


# The query-string keys a page link carries: the search form's fields and the "needs
# checking" view. Nothing else: any other key would reach `url_for` as one of its own
# arguments (`endpoint`, `_method`, `_scheme` …) and break the page.
KEPT_IN_LINKS = (*SEARCH_FIELDS, "checks")


def page_links(values: dict[str, str], listing: Listing) -> dict[str, Any]:
    """The NHS.UK pagination component's parameters: previous and next links that keep the
    search's filters (`KEPT_IN_LINKS`, in that order), each labelled "Page 2 of 3"."""
    kept = [(name, values[name]) for name in KEPT_IN_LINKS if values.get(name)]

    def link(number: int) -> dict[str, str]:
        return {
            "href": f"{url_for('console.directory')}?{urlencode([*kept, ('page', number)])}",
            "labelText": f"Page {number} of {listing.pages}",
        }

    params: dict[str, Any] = {"landmarkLabel": "Pages of services"}
    if listing.page > 1:
        params["previous"] = link(listing.page - 1)
    if listing.page < listing.pages:
        params["next"] = link(listing.page + 1)
    return params


@bp.route("/directory")
@requires("view_directory")
def directory() -> ResponseReturnValue:
    values = {k: v.strip() for k, v in request.args.items()}
    body = body_from_form(values, SEARCH_FIELDS)
    args, errors = load_or_errors(ServiceSearchArgs(), body)
    listing = Listing([], 0, 1, 1)
    if args is not None:
        listing = directory_listing(
            current_session(),
            args,
            page=page_number(values.get("page")),
            checks_only=values.get("checks") == "1",
            now=utcnow(),
        )
    vocab = VOCABULARY.get()
    # Supervisors and admins see how many services wait in the "To classify" queue, counted
    # from the tables as the queue itself is, so the two never disagree while this worker's
    # index catches up with a classification made elsewhere.
    to_classify = unclassified_count(current_session()) if can("classify_services") else None
    return render_template(
        "console/directory.jinja",
        title="Directory" if listing.page == 1 else f"Directory (page {listing.page})",
        listing=listing,
        pagination=page_links(values, listing),
        to_classify=to_classify,
        values=values,
        errors=errors,
        needs=vocabulary_options(vocab, "needs"),
        service_types=vocabulary_options(vocab, "service_types"),
        sectors=vocabulary_options(vocab, "sectors"),
        places=vocabulary_options(vocab, "places"),
        caller_roles=vocabulary_options(vocab, "caller_roles"),
        sexes=plain_options(PATIENT_SEXES),
        vocab=vocab,
    ), (422 if errors else 200)


def _service_page(
    service_id: str, values: dict[str, Any], errors: dict[str, str], status: int = 200
) -> ResponseReturnValue:
    entry = directory_index().by_id.get(service_id)
    if entry is None:
        raise Problem(404, "No such service.")
    now = utcnow()
    detail = service_detail(current_session(), entry, now=now, stale_hours=stale_hours())
    texts = None
    if entry.service_type == "care_home":
        row = current_session().get(Service, service_id)
        if row is not None:
            texts = {
                "number": row.sms_number,
                "consent": row.sms_consent,
                "opted_out_at": row.sms_opted_out_at,
            }
    return (
        render_template(
            "console/service.jinja",
            title=detail["name"],
            service=detail,
            needs_checking=needs_checking(entry.record, detail["capacity"], now),
            texts=texts,
            classifiable=classifiable(entry.record),
            term_labels=[term["name"] or term["code"] for term in entry.record["source_terms"]],
            capacity_statuses=[(code, label("capacity", code)) for code in CAPACITY_STATUSES],
            vocab=VOCABULARY.get(),
            values=values,
            errors=errors,
            weekdays=("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
            to_local=to_local,
            fromiso=datetime.fromisoformat,
        ),
        status,
    )


@bp.route("/directory/<service_id>")
@requires("view_directory")
def service(service_id: str) -> ResponseReturnValue:
    return _service_page(service_id, {}, {})


@bp.route("/directory/<service_id>/capacity", methods=["POST"])
@requires("update_capacity")
def service_capacity(service_id: str) -> ResponseReturnValue:
    if service_id not in directory_index().by_id:
        raise Problem(404, "No such service.")
    values = form_values()
    body, errors = load_or_errors(
        CapacityUpdateSchema(), body_from_form(values, ("status", "note", "reset_after_minutes"))
    )
    if body is None:
        return _service_page(service_id, values, errors, 422)
    with transaction(current_session()):
        update_capacity(
            current_session(),
            service_id,
            body,
            changed_by=me().caller.label,
            now=utcnow(),
            default_reset_minutes=default_reset_minutes(),
        )
    flash(f"Capacity updated: {label('capacity', body['status'])}.", "info")
    return redirect(url_for("console.service", service_id=service_id))


@bp.route("/directory/<service_id>/texts", methods=["POST"])
@requires("care_home_texts")
def service_texts(service_id: str) -> ResponseReturnValue:
    """Switch a care home's follow-up texts off (e.g. asked by phone) or back on."""
    opted_out = form_values().get("texts") == "off"
    with transaction(current_session()):
        set_opt_out(current_session(), service_id, opted_out, by=me().caller.label, now=utcnow())
    flash("Follow-up texts switched off." if opted_out else "Follow-up texts switched on.", "info")
    return redirect(url_for("console.service", service_id=service_id))


@bp.route("/directory/<service_id>/confirm", methods=["POST"])
@requires("confirm_details")
def service_confirm(service_id: str) -> ResponseReturnValue:
    with transaction(current_session()):
        confirm_details(
            current_session(),
            service_id,
            vocab=VOCABULARY.get(),
            confirmed_by=me().caller.label,
            now=utcnow(),
        )
    flash("Details confirmed today.", "info")
    return redirect(url_for("console.service", service_id=service_id))


@bp.route("/directory/<service_id>/edit", methods=["GET", "POST"])
@requires("edit_directory")
def service_edit(service_id: str) -> ResponseReturnValue:
    entry = directory_index().by_id.get(service_id)
    if entry is None:
        raise Problem(404, "No such service.")
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = form_values()
        updates = {path: values.get(path) or None for path, _ in EDITABLE}
        updates["description"] = updates["description"] or ""
        try:
            with transaction(current_session()):
                edit_service(
                    current_session(),
                    service_id,
                    updates,
                    vocab=VOCABULARY.get(),
                    changed_by=me().caller.label,
                )
        except EditRejected as exc:
            errors = first_messages(exc.errors)
        else:
            flash("Service updated.", "info")
            return redirect(url_for("console.service", service_id=service_id))
    else:
        record = entry.record
        values = {}
        for path, _ in EDITABLE:
            value: Any = record
            for key in path.split("."):
                value = value.get(key) if isinstance(value, dict) else None
            values[path] = value or ""
    return render_template(
        "console/service_edit.jinja",
        title=f"Edit {entry.record['name']}",
        service_id=service_id,
        name=entry.record["name"],
        values=values,
        errors=errors,
        editable=EDITABLE,
        statuses=plain_options(STATUSES),
        methods=plain_options(REFERRAL_METHODS),
        can_edit=can("edit_directory"),
    ), (422 if errors else 200)
