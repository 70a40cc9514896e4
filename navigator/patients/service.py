"""Find or create patients; resolve `patient_id` or an inline `patient` on any request."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from navigator.db import utcnow
from navigator.directory.places import Gazetteer, parse_postcode
from navigator.errors import Problem, field_error
from navigator.patients.audit import audit_record
from navigator.patients.models import Patient

DAYS_PER_YEAR = 365.25


@dataclass
class PatientResult:
    patient: Patient
    created: bool
    warnings: list[str] = field(default_factory=list)


def age_days_on(patient: Patient, day: date) -> int | None:
    return (day - patient.date_of_birth).days if patient.date_of_birth else None


def _differences(patient: Patient, data: Mapping[str, Any]) -> list[str]:
    """Demographics that disagree with the record held for this NHS number (a wrong-patient
    warning: the record is not changed silently)."""
    warnings = []
    for key in ("name", "date_of_birth", "postcode", "gp_practice_ods"):
        given = data.get(key)
        held = getattr(patient, key)
        if (
            given is not None
            and held is not None
            and str(given).strip().lower() != str(held).strip().lower()
        ):
            warnings.append(f"{key} given differs from the record held for this NHS number")
    return warnings


def find_or_create_patient(
    session: Session, data: Mapping[str, Any], *, actor: str, gazetteer: Gazetteer
) -> PatientResult:
    nhs_number = data.get("nhs_number")
    if nhs_number:
        existing = session.scalar(select(Patient).where(Patient.nhs_number == nhs_number))
        if existing is not None:
            audit_record(session, existing, actor=actor, action="read", entity="patient")
            return PatientResult(existing, False, _differences(existing, data))
    postcode = (
        parse_postcode(data["postcode"], allow_outward=False) if data.get("postcode") else None
    )
    patient = Patient(
        id=str(uuid.uuid4()),
        nhs_number=nhs_number,
        name=data["name"],
        date_of_birth=data.get("date_of_birth"),
        sex=data.get("sex") or "unknown",
        postcode=postcode.text if postcode else None,
        place=gazetteer.locate(postcode).place if postcode else None,
        gp_practice_ods=data.get("gp_practice_ods"),
        care_home_service_id=data.get("care_home_service_id"),
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    # A concurrent create of the same NHS number fails here on the unique constraint; the
    # caller's unit of work is then retried (`retry_on_conflict`) and finds this one.
    session.add(patient)
    session.flush()
    audit_record(session, patient, actor=actor, action="create", entity="patient")
    return PatientResult(patient, True)


def read_patient(session: Session, patient_id: str, *, actor: str) -> Patient:
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise Problem(404, f"No patient with id {patient_id!r}.")
    audit_record(session, patient, actor=actor, action="read", entity="patient")
    return patient


def resolve_patient(
    session: Session, body: Mapping[str, Any], *, actor: str, gazetteer: Gazetteer
) -> Patient:
    """`patient_id` or an inline `patient` object (handled exactly like POST /patients)."""
    if body.get("patient_id"):
        patient = session.get(Patient, body["patient_id"])
        if patient is None:
            raise field_error("patient_id", "No patient with this id")
        audit_record(session, patient, actor=actor, action="read", entity="patient")
        return patient
    if body.get("patient"):
        return find_or_create_patient(
            session, body["patient"], actor=actor, gazetteer=gazetteer
        ).patient
    raise field_error("patient_id", "Give patient_id or an inline patient")


def patient_dict(patient: Patient) -> dict[str, Any]:
    return {
        "id": patient.id,
        "nhs_number": patient.nhs_number,
        "name": patient.name,
        "date_of_birth": patient.date_of_birth.isoformat() if patient.date_of_birth else None,
        "sex": patient.sex,
        "postcode": patient.postcode,
        "place": patient.place,
        "gp_practice_ods": patient.gp_practice_ods,
        "care_home_service_id": patient.care_home_service_id,
        "created_at": patient.created_at.isoformat(),
    }
