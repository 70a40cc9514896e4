from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint
from marshmallow import fields, validate
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from navigator.core.extensions import db
from navigator.web.access import public
from navigator.web.openapi import ResponseSchema

blp = Blueprint("health", __name__, url_prefix="/api/v1", description="Service health")


class HealthSchema(ResponseSchema):
    status = fields.String(validate=validate.OneOf(("ok", "unavailable")))
    database = fields.String(validate=validate.OneOf(("ok", "unreachable")))


@blp.route("/health")
@public("liveness for load balancers and monitors: says only ok or unavailable, no data")
@blp.response(200, HealthSchema)
@blp.alt_response(503, schema=HealthSchema, description="The database is unreachable")
def health() -> ResponseReturnValue:
    """Liveness and database status (no authentication)."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify({"status": "unavailable", "database": "unreachable"}), 503
    return jsonify({"status": "ok", "database": "ok"})
