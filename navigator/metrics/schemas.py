"""The CISP query (API, console form and CLI share it) and the CISP response shape."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from navigator.core.fields import EARLIEST, LATEST, YEARS_MESSAGE
from navigator.core.schemas import StrictSchema
from navigator.metrics.cisp import ROW_PLACES
from navigator.web.openapi import ResponseSchema

MONTH = validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", error="Use YYYY-MM")
MAX_MONTHS = 120  # ten years


def _month_index(month: str) -> int:
    year, number = map(int, month.split("-"))
    return year * 12 + number - 1


def _month_years(month: str) -> None:
    # Runs beside MONTH (marshmallow runs every validator), so it must not trust the shape.
    if month[:4].isdigit() and not EARLIEST <= int(month[:4]) <= LATEST:
        raise ValidationError(YEARS_MESSAGE)


class CispQuerySchema(StrictSchema):
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
