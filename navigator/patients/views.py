"""`/api/v1/patients` and `/api/v1/audit`."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint
from sqlalchemy import select

from navigator.core.db import transaction
from navigator.core.errors import field_error
from navigator.core.extensions import current_session
from navigator.core.reference import GAZETTEER
from navigator.directory.reference import directory_index
from navigator.patients.models import AuditEvent
from navigator.patients.schemas import (
    AuditListSchema,
    AuditQuerySchema,
    PatientInSchema,
    PatientSchema,
)
from navigator.patients.service import (
    created_patient_response,
    link_or_create_patient,
    read_patient,
)
from navigator.web.auth import current_caller, require_roles

blp = Blueprint(
    "patients", __name__, url_prefix="/api/v1", description="Patients and the audit log"
)


def check_care_home(data: dict[str, Any], field: str = "care_home_service_id") -> None:
    service_id = data.get("care_home_service_id")
    if service_id is not None:
        entry = directory_index().by_id.get(service_id)
        if entry is None or entry.service_type != "care_home":
            raise field_error(field, "Not a care home in the directory")


@blp.route("/patients", methods=["POST"])
@require_roles("integrator", "navigator", "admin")
@blp.arguments(PatientInSchema())
@blp.response(201, PatientSchema)
@blp.alt_response(
    200, schema=PatientSchema, description="A patient with this NHS number already exists"
)
def create_patient(body: dict[str, Any]) -> ResponseReturnValue:
    """Create a patient, or link to the one already held for this NHS number (one person,
    one id). A client that may not see the record held gets back the id and only what it
    sent, never the held demographics or how they differ."""
    check_care_home(body)
    session = current_session()
    with transaction(session):
        result = link_or_create_patient(
            session,
            body,
            caller=current_caller(),
            gazetteer=GAZETTEER.get(),
            index=directory_index(),
        )
        data, status = created_patient_response(result)
    return jsonify(data), status


@blp.route("/patients/<string:patient_id>")
@require_roles("integrator", "navigator", "admin", "provider")
@blp.response(200, PatientSchema)
def get_patient(patient_id: str) -> ResponseReturnValue:
    """A patient as this client may see it (the read is audited).

    Navigators and admins see the record held; a provider sees the patients referred to its
    organisation or in its DTOC episodes; any other client sees the id and only what it sent
    itself. A patient the client may not see is 404, like an unknown id.
    """
    session = current_session()
    with transaction(session):
        data = read_patient(session, patient_id, caller=current_caller(), index=directory_index())
    return jsonify(data | {"warnings": []})


@blp.route("/audit")
@require_roles("admin")
@blp.arguments(AuditQuerySchema(), location="query")
@blp.response(200, AuditListSchema)
def audit_log(args: dict[str, Any]) -> ResponseReturnValue:
    """Every read and change of a patient's data, oldest first."""
    events = current_session().scalars(
        select(AuditEvent)
        .where(AuditEvent.patient_id == args["patient_id"])
        .order_by(AuditEvent.id)
    )
    items = [
        {
            "at": e.at.isoformat(),
            "actor": e.actor,
            "action": e.action,
            "entity": e.entity,
            "entity_id": e.entity_id,
            "route": e.route,
        }
        for e in events
    ]
    return jsonify({"patient_id": args["patient_id"], "items": items})
