"""`GET /api/v1/metrics/cisp` (JSON, or CSV with `format=csv`)."""

from __future__ import annotations

import re
from typing import Any

from flask import Response, jsonify
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint

from navigator.core.db import transaction
from navigator.core.extensions import current_session
from navigator.metrics.schemas import CispQuerySchema, CispSchema
from navigator.metrics.service import as_csv, compute
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
        filename = re.sub(r"[^0-9-]", "", f"cisp-{args['from_']}-{args['to']}")
        # UTF-8 with a byte-order mark so Excel opens it with the right encoding.
        return Response(
            "\ufeff" + as_csv(data["rows"]),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'},
        )
    return jsonify(data)
