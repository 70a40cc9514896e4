"""`/api/v1/referrals`."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint
from sqlalchemy import func, select

from navigator.core.db import retry_on_conflict, transaction, utcnow
from navigator.core.extensions import current_session
from navigator.core.reference import GAZETTEER
from navigator.directory.reference import directory_index
from navigator.patients.audit import audit_record
from navigator.referrals.models import Referral
from navigator.referrals.need_to_know import may_read, may_update, referral_filter
from navigator.referrals.schemas import (
    ReferralInSchema,
    ReferralListSchema,
    ReferralQuerySchema,
    ReferralSchema,
    ReferralUpdateSchema,
)
from navigator.referrals.service import (
    change_status,
    create_referral,
    load_referral,
    overdue_clause,
    referral_dict,
)
from navigator.web.auth import current_caller, require_roles
from navigator.web.idempotency import idempotency_key
from navigator.web.openapi import problems

blp = Blueprint("referrals", __name__, url_prefix="/api/v1", description="Referrals (handoffs)")


@blp.route("/referrals", methods=["POST"])
@require_roles("integrator", "navigator", "admin")
@blp.arguments(ReferralInSchema())
@blp.response(201, ReferralSchema)
@blp.alt_response(
    200, schema=ReferralSchema, description="A retry with the same Idempotency-Key and body"
)
@problems(409)
def post_referral(body: dict[str, Any]) -> ResponseReturnValue:
    """Refer a patient to a service. Send an `Idempotency-Key` header so retries are safe.

    409 `idempotency_key_reused`: the key was used for a different body. 409
    `open_referral_exists`: the navigation already has an open referral (sent, accepted, on
    hold) to this service, whatever the key; `existing_referral_id` names it.
    """
    key = idempotency_key()
    session, caller, now = current_session(), current_caller(), utcnow()

    def once() -> tuple[dict[str, Any], bool]:
        referral, created = create_referral(
            session,
            body,
            caller=caller,
            idempotency_key=key,
            index=directory_index(),
            gazetteer=GAZETTEER.get(),
            ack_minutes=current_app.config["REFERRAL_ACK_MINUTES"],
            now=now,
        )
        if not created:  # a replay shows the stored referral: a read
            audit_record(session, referral, actor=caller.label, action="read", entity="referral")
        return referral_dict(session, referral, now, history=True), created

    # A concurrent request with the same key can win the unique constraint: rerun, replay it.
    data, created = retry_on_conflict(session, once)
    response = jsonify(data)
    response.status_code = 201 if created else 200
    response.headers["Location"] = f"/api/v1/referrals/{data['id']}"
    return response


def _readable(referral_id: str, *, for_update: bool = False) -> Referral:
    """The referral if this caller may read it (or, `for_update`, change it: locked), else
    404 like an unknown id (need-to-know)."""
    caller, index = current_caller(), directory_index()
    allowed = may_update if for_update else may_read
    return load_referral(
        current_session(),
        referral_id,
        for_update=for_update,
        visible=lambda referral: allowed(caller, referral, index),
    )


@blp.route("/referrals/<string:referral_id>")
@require_roles("integrator", "navigator", "admin", "provider")
@blp.response(200, ReferralSchema)
def get_referral(referral_id: str) -> ResponseReturnValue:
    """A referral with its full history."""
    session = current_session()
    with transaction(session):
        referral = _readable(referral_id)
        audit_record(
            session, referral, actor=current_caller().label, action="read", entity="referral"
        )
        data = referral_dict(session, referral, utcnow(), history=True)
    return jsonify(data)


@blp.route("/referrals/<string:referral_id>", methods=["PATCH"])
@require_roles("navigator", "admin", "provider")
@blp.arguments(ReferralUpdateSchema())
@blp.response(200, ReferralSchema)
@problems(409)
def patch_referral(body: dict[str, Any], referral_id: str) -> ResponseReturnValue:
    """Accept, reject (with reason), hold, complete (with outcome) or cancel a referral."""
    session = current_session()
    now = utcnow()
    with transaction(session):
        referral = change_status(
            session,
            _readable(referral_id, for_update=True),
            body,
            actor=current_caller().label,
            now=now,
        )
        data = referral_dict(session, referral, now, history=True)
    return jsonify(data)


@blp.route("/referrals")
@require_roles("navigator", "admin", "provider")
@blp.arguments(ReferralQuerySchema(), location="query")
@blp.response(200, ReferralListSchema)
def list_referrals(args: dict[str, Any]) -> ResponseReturnValue:
    """Referrals, newest first; `overdue=true` for those not acknowledged in time."""
    session = current_session()
    now = utcnow()
    query = select(Referral)
    if args["overdue"]:
        query = query.where(overdue_clause(now))
    if "status" in args:
        query = query.where(Referral.status == args["status"])
    if "service_id" in args:
        query = query.where(Referral.service_id == args["service_id"])
    caller = current_caller()
    query = query.where(referral_filter(caller, directory_index()))
    with transaction(session):
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        rows = session.scalars(
            query.order_by(Referral.created_at.desc(), Referral.id)
            .offset((args["page"] - 1) * args["per_page"])
            .limit(args["per_page"])
        ).all()
        for row in rows:  # a list read is audited like a read of each referral it returns
            audit_record(session, row, actor=caller.label, action="read", entity="referral")
        items = [referral_dict(session, r, now, history=False) for r in rows]
    return jsonify({"items": items, "total": total})
