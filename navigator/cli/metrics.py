"""`navigator metrics cisp`: the dashboard measures, as the API gives them."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext
from marshmallow import ValidationError

from navigator.core.db import transaction
from navigator.core.extensions import current_session
from navigator.metrics.cisp import ROW_PLACES
from navigator.metrics.schemas import CispQuerySchema
from navigator.metrics.service import as_csv, compute


@click.group("metrics")
def metrics_group() -> None:
    """Dashboard measures."""


@metrics_group.command("cisp")
@click.option("--from", "start", required=True, help="YYYY-MM")
@click.option("--to", "end", required=True, help="YYYY-MM")
@click.option("--place", type=click.Choice(ROW_PLACES))
@click.option("--csv", "as_csv_output", is_flag=True, help="CSV rows instead of JSON")
@with_appcontext
def metrics_cisp(start: str, end: str, place: str | None, as_csv_output: bool) -> None:
    """The CISP measures per place and month (the same as GET /api/v1/metrics/cisp)."""
    try:
        args = CispQuerySchema().load(
            {"from": start, "to": end, **({"place": place} if place else {})}
        )
    except ValidationError as exc:
        raise click.UsageError(str(exc.messages)) from exc
    with transaction(current_session()):
        data = compute(current_session(), args["from_"], args["to"], args.get("place"))
    click.echo(as_csv(data["rows"]) if as_csv_output else json.dumps(data, indent=2))
