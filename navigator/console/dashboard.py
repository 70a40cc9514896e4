"""The CISP dashboard: measures per place and month as tables and charts, CSV download, and
the navigators' overrides of the rules (where the rules may need a clinical review)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, render_template, request
from flask.typing import ResponseReturnValue

from navigator.console.access import requires
from navigator.console.blueprint import bp
from navigator.console.charts import bar_chart
from navigator.console.formatting import place as place_name
from navigator.console.forms import body_from_form, load_or_errors
from navigator.core.clock import local_month, to_local
from navigator.core.db import transaction, utcnow
from navigator.core.extensions import current_session
from navigator.directory.reference import service_names
from navigator.metrics.cisp import ROW_PLACES, months_between
from navigator.metrics.schemas import CispQuerySchema
from navigator.metrics.service import compute, csv_download, override_counts, recent_overrides

MEASURES = (
    ("ae_attendances", "A&E attendances"),
    ("ae_rate_per_1000", "A&E attendances per 1,000 residents"),
    ("nel_admissions", "Non-elective admissions"),
    ("nel_rate_per_1000", "Non-elective admissions per 1,000"),
    ("readmission_pct", "Readmitted within 30 days (%)"),
    ("dtoc_delayed_days", "DTOC delayed days"),
    ("dtoc_beds", "DTOC beds (average occupied)"),
    ("dtoc_rate_per_100k_18plus", "DTOC days per 100,000 aged 18+"),
    ("care_home_call_outs", "Care-home call-outs"),
    ("care_home_conveyances", "Care-home conveyances"),
    ("conveyance_rate", "Conveyance rate"),
    ("navigations", "Calls navigated"),
    ("pct_away_from_ed", "Navigated away from ED (%)"),
    ("referrals_sent", "Referrals sent"),
    ("referrals_overdue", "Referrals overdue"),
    ("median_minutes_to_accept", "Median minutes to accept"),
)
CHARTED = (
    "ae_rate_per_1000",
    "nel_rate_per_1000",
    "dtoc_delayed_days",
    "care_home_conveyances",
    "pct_away_from_ed",
)


def month_label(month: str, *, short: bool = False) -> str:
    """A `YYYY-MM` month as people write it: "January 2026", or "Jan 2026" where a table's
    column or a chart's bar has little room (the NHS style allows short months in tables).
    Text that is no month is returned unchanged."""
    try:
        first = date.fromisoformat(f"{month}-01")
    except ValueError:
        return month
    return f"{first:%b %Y}" if short else f"{first:%B %Y}"


def _default_range() -> tuple[str, str]:
    now = to_local(utcnow())
    year, month = now.year, now.month - 5
    if month < 1:
        year, month = year - 1, month + 12
    return f"{year:04d}-{month:02d}", local_month(utcnow())


def _query() -> tuple[dict[str, Any] | None, dict[str, str], dict[str, str]]:
    start, end = _default_range()
    values = {"from": start, "to": end, "place": "blmk"} | {
        k: v.strip() for k, v in request.args.items() if v.strip()
    }
    args, errors = load_or_errors(
        CispQuerySchema(), body_from_form(values, ("from", "to", "place"))
    )
    return args, errors, values


@bp.route("/dashboard")
@requires("view_dashboard")
def dashboard() -> ResponseReturnValue:
    args, errors, values = _query()
    rows: list[dict[str, Any]] = []
    charts = []
    overrides: dict[tuple[str, str], int] = {}
    months: list[str] = []
    if args is not None:
        with transaction(current_session()):  # refreshes open DTOC episodes' delayed days
            data = compute(current_session(), args["from_"], args["to"], args.get("place"))
        rows = data["rows"]
        months = months_between(args["from_"], args["to"])
        labels = dict(MEASURES)
        charts = [
            bar_chart(
                labels[name],
                [(month_label(row["month"], short=True), row[name]) for row in rows],
            )
            for name in CHARTED
        ]
        overrides = override_counts(current_session(), (args["from_"], args["to"]))
    return render_template(
        "console/dashboard.jinja",
        title="Dashboard",
        rows=rows,
        charts=charts,
        measures=MEASURES,
        months=months,
        place=place_name(values.get("place")),
        overrides=overrides,
        recent=recent_overrides(current_session(), limit=20),
        names=service_names(),
        places=[(code, place_name(code)) for code in ROW_PLACES],
        month_label=month_label,
        values=values,
        errors=errors,
    ), (422 if errors else 200)


@bp.route("/dashboard.csv")
@requires("view_dashboard")
def dashboard_csv() -> ResponseReturnValue:
    args, errors, _ = _query()
    if args is None:
        # Plain text, never HTML: nothing here goes through a template's escaping.
        return Response(
            "; ".join(f"{k}: {v}" for k, v in errors.items()), 422, mimetype="text/plain"
        )
    with transaction(current_session()):
        data = compute(current_session(), args["from_"], args["to"], args.get("place"))
    # The API's download (`format=csv`): the same bytes, BOM for Excel included, and name.
    return csv_download(data["rows"], start=args["from_"], end=args["to"], place=args.get("place"))
