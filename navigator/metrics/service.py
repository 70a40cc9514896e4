"""Dashboard queries for the API, the console and the CLI: the CISP report, its CSV form and
download, and the navigators' overrides of the rules (where the rules may need a clinical
review)."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from flask import Response, current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from navigator.core.db import utcnow
from navigator.metrics.cisp import OUT_OF_AREA, cisp, flatten
from navigator.metrics.population import load_population
from navigator.navigation.models import Navigation


def compute(session: Session, start: str, end: str, place: str | None) -> dict[str, Any]:
    """The CISP report for months `start`..`end` ("YYYY-MM", London months), one place or all:
    `{"from", "to", "population_source", "rows", "summary"}` (see `cisp.cisp`), with this app's
    population file and the time now. Refreshes open DTOC episodes' delayed days up to now, so
    the caller opens the unit of work (`db.transaction`) around it."""
    population = load_population(current_app.config["NAVIGATOR_POPULATION"])
    return cisp(session, start=start, end=end, place=place, population=population, now=utcnow())


def as_csv(rows: list[dict[str, Any]]) -> str:
    """Rows as CSV text, one line per place and month, nested measures flattened."""
    flat = [flatten(r) for r in rows]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(flat[0]) if flat else ["place", "month"])
    writer.writeheader()
    writer.writerows({k: "" if v is None else v for k, v in r.items()} for r in flat)
    return out.getvalue()


def csv_download(
    rows: list[dict[str, Any]], *, start: str, end: str, place: str | None
) -> Response:
    """The CISP rows (`compute(...)["rows"]`) as a CSV file to download, the one form the API
    (`format=csv`) and the console's "Download as CSV" both send: `as_csv` in UTF-8 with a
    byte-order mark, so Excel opens it as UTF-8 rather than the Windows code page, named
    `cisp-<place or "all">-<start>-<end>.csv` with anything but letters, digits, `-` and `_`
    taken out (the parts are validated already; this keeps the header safe regardless)."""
    filename = re.sub(r"[^A-Za-z0-9_-]", "", f"cisp-{place or 'all'}-{start}-{end}")
    return Response(
        "\ufeff" + as_csv(rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'},
    )


def override_counts(session: Session, months: tuple[str, str]) -> dict[tuple[str, str], int]:
    """Overrides per (place, month), for the dashboard."""
    rows = session.execute(
        select(Navigation.place, Navigation.local_month, func.count())
        .where(
            Navigation.decision == "overridden",
            Navigation.local_month.between(*months),
        )
        .group_by(Navigation.place, Navigation.local_month)
    )
    return {(place or OUT_OF_AREA, month): count for place, month, count in rows}


def recent_overrides(session: Session, *, limit: int = 50) -> list[Navigation]:
    return list(
        session.scalars(
            select(Navigation)
            .where(Navigation.decision == "overridden")
            .order_by(Navigation.decided_at.desc())
            .limit(limit)
        )
    )
