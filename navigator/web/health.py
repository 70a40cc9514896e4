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
    database = fields.String(validate=validate.OneOf(("ok", "unreachable", "read_only")))


@blp.route("/health")
@public("liveness for load balancers and monitors: says only ok or unavailable, no data")
@blp.response(200, HealthSchema)
@blp.alt_response(
    503,
    schema=HealthSchema,
    description="The database is unreachable, or read-only (a standby, not the primary)",
)
def health() -> ResponseReturnValue:
    """Liveness and database status (no authentication). The load balancer's health check:
    a node that cannot write to its database is taken out of rotation.

    `read_only` means the node's connection reached a PostgreSQL standby (or a database set
    read-only). navigator reads capacity, idempotency keys and referral states to decide what
    to write, so it must never work from a replica that may lag the primary (hazard H41,
    docs/deployment.md); such a node reports itself unavailable rather than serve."""
    try:
        if db.session.get_bind().dialect.name == "postgresql":
            read_only = db.session.execute(text("SHOW transaction_read_only")).scalar() == "on"
        else:
            db.session.execute(text("SELECT 1"))
            read_only = False
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify({"status": "unavailable", "database": "unreachable"}), 503
    finally:
        db.session.rollback()  # nothing to keep: end the read transaction at once
    if read_only:
        return jsonify({"status": "unavailable", "database": "read_only"}), 503
    return jsonify({"status": "ok", "database": "ok"})
