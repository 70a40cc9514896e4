"""`GET /api/v1/metrics/cisp` (JSON, or CSV with `format=csv`)."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from flask import Response, current_app, jsonify
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from navigator.core.db import transaction, utcnow
from navigator.core.extensions import current_session
from navigator.metrics.cisp import ROW_PLACES, cisp, flatten
from navigator.metrics.population import load_population
from navigator.web.auth import require_roles
from navigator.web.fields import EARLIEST, LATEST, YEARS_MESSAGE
from navigator.web.openapi import ResponseSchema

blp = Blueprint("metrics", __name__, url_prefix="/api/v1/metrics", description="CISP dashboard")

MONTH = validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", error="Use YYYY-MM")
MAX_MONTHS = 120  # ten years


def _month_index(month: str) -> int:
    year, number = map(int, month.split("-"))
    return year * 12 + number - 1


def _month_years(month: str) -> None:
    # Runs beside MONTH (marshmallow runs every validator), so it must not trust the shape.
    if month[:4].isdigit() and not EARLIEST <= int(month[:4]) <= LATEST:
        raise ValidationError(YEARS_MESSAGE)


class CispQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    from_ = fields.String(required=True, data_key="from", validate=[MONTH, _month_years])
    to = fields.String(required=True, validate=[MONTH, _month_years])
    place = fields.String(validate=validate.OneOf(ROW_PLACES))
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv")))

    @validates_schema
    def _range(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("to", "") < data.get("from_", ""):
            raise ValidationError("must not be before from", "to")
        # Counted, not listed: the span is refused before any month is built.
        if _month_index(data["to"]) - _month_index(data["from_"]) + 1 > MAX_MONTHS:
            raise ValidationError(f"at most {MAX_MONTHS} months", "to")


class CispSchema(ResponseSchema):
    from_ = fields.String(data_key="from")
    to = fields.String()
    population_source = fields.String()
    rows = fields.List(fields.Dict())
    summary = fields.List(fields.Dict())


def compute(start: str, end: str, place: str | None) -> dict[str, Any]:
    session = current_session()
    population = load_population(current_app.config["NAVIGATOR_POPULATION"])
    with transaction(session):  # refreshes open DTOC episodes' delayed days up to now
        return cisp(session, start=start, end=end, place=place, population=population, now=utcnow())


def as_csv(rows: list[dict[str, Any]]) -> str:
    flat = [flatten(r) for r in rows]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(flat[0]) if flat else ["place", "month"])
    writer.writeheader()
    writer.writerows({k: "" if v is None else v for k, v in r.items()} for r in flat)
    return out.getvalue()


@blp.route("/cisp")
@require_roles()
@blp.arguments(CispQuerySchema(), location="query")
@blp.response(200, CispSchema)
@blp.alt_response(
    200,
    schema={"type": "string"},
    content_type="text/csv",
    description="JSON, or with `format=csv` one row per place and month (UTF-8 with a BOM)",
    success=True,
)
def cisp_metrics(args: dict[str, Any]) -> ResponseReturnValue:
    """CISP measures per place and month, with a summary per place; `format=csv` for Excel."""
    data = compute(args["from_"], args["to"], args.get("place"))
    if args["format"] == "csv":
        filename = re.sub(r"[^0-9-]", "", f"cisp-{args['from_']}-{args['to']}")
        # UTF-8 with a byte-order mark so Excel opens it with the right encoding.
        return Response(
            "\ufeff" + as_csv(data["rows"]),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'},
        )
    return jsonify(data)
