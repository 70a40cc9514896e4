"""The calls list (`/calls`): today's calls, or those found by NHS number, case reference or
the date they were taken (`Navigation.created_at`, the London day: a call recorded for
another time is found on the day it was taken, and says what time it was for)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from navigator.console.access import me, requires
from navigator.console.blueprint import bp
from navigator.console.calls.call_page import FOR_ANOTHER_TIME
from navigator.console.formatting import when
from navigator.console.forms import parse_date
from navigator.core.clock import to_local, to_utc
from navigator.core.db import transaction, utcnow
from navigator.core.extensions import current_session
from navigator.core.identifiers import normalise_nhs_number
from navigator.core.reference import VOCABULARY
from navigator.navigation.models import Navigation
from navigator.patients.audit import audit_record


@bp.route("/calls", methods=["GET", "POST"])
@requires("take_calls")
def calls() -> ResponseReturnValue:
    """Today's calls; search (POSTed, so NHS numbers stay out of URLs and access logs)."""
    errors: dict[str, str] = {}
    args = {k: v.strip() for k, v in request.form.items() if k != "csrf_token"}
    query = select(Navigation).order_by(Navigation.created_at.desc()).limit(200)
    searched_nhs = False
    if args.get("nhs_number"):
        nhs_number = normalise_nhs_number(args["nhs_number"])
        if nhs_number is None:
            errors["nhs_number"] = "Enter a valid 10-digit NHS number"
        else:
            query = query.where(Navigation.nhs_number == nhs_number)
            searched_nhs = True
    if args.get("case_ref"):
        query = query.where(Navigation.case_ref == args["case_ref"])
    day_text = args.get("date") or ("" if searched_nhs or args.get("case_ref") else "today")
    if day_text:
        day = to_local(utcnow()).date() if day_text == "today" else parse_date(day_text)
        if day is None:
            errors["date"] = "Enter a real date, for example 23/11/2026"
        else:
            start = to_utc(datetime.combine(day, time()))
            end = to_utc(datetime.combine(day + timedelta(days=1), time()))
            query = query.where(Navigation.created_at >= start, Navigation.created_at < end)
            args["date"] = day.strftime("%d/%m/%Y")
    session = current_session()
    rows: list[Navigation] = []
    with transaction(session):
        if not errors:
            rows = list(session.scalars(query))
            if searched_nhs:  # a search by NHS number reads patient-identifiable records
                for navigation in rows:
                    audit_record(
                        session,
                        navigation,
                        actor=me().caller.label,
                        action="read",
                        entity="navigation",
                    )
    return render_template(
        "console/calls.jinja",
        title="Calls",
        rows=rows,
        values=args,
        errors=errors,
        vocab=VOCABULARY.get(),
        taken=list_time,
    ), (422 if errors else 200)


def list_time(navigation: Navigation) -> tuple[str, str]:
    """The list's time of a call: (when it was taken, NHS style on the London clock; "" or
    "for <when it is for>" when it was recorded for another time)."""
    other = abs(navigation.called_at - navigation.created_at) > FOR_ANOTHER_TIME
    return when(navigation.created_at), f"for {when(navigation.called_at)}" if other else ""
