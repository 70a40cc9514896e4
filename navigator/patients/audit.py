"""Append-only audit of every read or change of patient-identifiable data."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request
from sqlalchemy.orm import Session

from navigator.core.db import utcnow
from navigator.patients.models import AuditEvent


def audit(
    session: Session,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: str,
    patient_id: str | None,
) -> None:
    """Record one access in the caller's transaction, so the access and its record stand or
    fall together."""
    # Cut to the column's 200 characters: a path is not bounded, the record is (issue 12 §5).
    route = f"{request.method} {request.path}"[:200] if has_request_context() else "cli"
    session.add(
        AuditEvent(
            at=utcnow(),
            actor=actor,
            action=action,
            entity=entity,
            entity_id=entity_id,
            patient_id=patient_id,
            route=route,
        )
    )


def audit_record(session: Session, record: Any, *, actor: str, action: str, entity: str) -> None:
    """Audit access to a row with an `id` and a `patient_id` (a patient is its own patient)."""
    patient_id = record.id if entity == "patient" else record.patient_id
    audit(
        session,
        actor=actor,
        action=action,
        entity=entity,
        entity_id=record.id,
        patient_id=patient_id,
    )
