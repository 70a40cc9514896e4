"""`GET /api/v1/metrics/cisp` (JSON, or CSV with `format=csv`)."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint

from navigator.core.db import transaction
from navigator.core.extensions import current_session
from navigator.metrics.schemas import CispQuerySchema, CispSchema
from navigator.metrics.service import compute, csv_download
from navigator.web.auth import require_roles

blp = Blueprint("metrics", __name__, url_prefix="/api/v1/metrics", description="CISP dashboard")


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
    session = current_session()
    with transaction(session):  # refreshes open DTOC episodes' delayed days up to now
        data = compute(session, args["from_"], args["to"], args.get("place"))
    if args["format"] == "csv":
        return csv_download(
            data["rows"], start=args["from_"], end=args["to"], place=args.get("place")
        )
    return jsonify(data)
