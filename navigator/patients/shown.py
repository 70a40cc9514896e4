"""What a caller is shown of a patient it may see (`patients/need_to_know.py` says whether it
may): with the full view, everything navigator holds; without it, only the id and what this
client sent itself (`patients/sources.py`), so no answer depends on what another client or the
console supplied (issue 12 §2)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from navigator.auth.keys import Caller
from navigator.directory.index import DirectoryIndex
from navigator.patients.models import Patient, PatientSource
from navigator.patients.need_to_know import has_full_view
from navigator.patients.sources import source_of


def full_patient_dict(patient: Patient) -> dict[str, Any]:
    """Everything navigator holds about the patient (for callers with the full view)."""
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


def sourced_patient_dict(patient_id: str, source: PatientSource) -> dict[str, Any]:
    """The id and only what this client sent, in the same shape (fields it never sent are
    null; `sex` "unknown"; `created_at` is when this client first sent the patient)."""
    sent = source.fields
    return {
        "id": patient_id,
        "nhs_number": sent.get("nhs_number"),
        "name": sent.get("name"),
        "date_of_birth": sent.get("date_of_birth"),
        "sex": sent.get("sex") or "unknown",
        "postcode": sent.get("postcode"),
        "place": sent.get("place"),
        "gp_practice_ods": sent.get("gp_practice_ods"),
        "care_home_service_id": sent.get("care_home_service_id"),
        "created_at": source.created_at.isoformat(),
    }


def visible_patient_dict(
    session: Session, caller: Caller, patient: Patient, index: DirectoryIndex
) -> dict[str, Any] | None:
    """The patient as this caller may see it, or None when it may not see the patient at all
    (answer 404). Shape: `PatientSchema` without `warnings`."""
    if has_full_view(session, caller, patient.id, index):
        return full_patient_dict(patient)
    source = source_of(session, caller, patient.id)
    return sourced_patient_dict(patient.id, source) if source is not None else None


def visible_date_of_birth(
    session: Session, caller: Caller, patient: Patient, index: DirectoryIndex
) -> date | None:
    """The date of birth this caller may see: the one held if it has the full view and one is
    held, else the latest one it sent itself, else None.

    Every check of a patient's age for a client without the full view must use this, never
    `patient.date_of_birth`: an answer that depends on the held date (e.g. DTOC's "under 18")
    would disclose it one yes/no at a time (issue 12 §2).
    """
    if patient.date_of_birth is not None and has_full_view(session, caller, patient.id, index):
        return patient.date_of_birth
    source = source_of(session, caller, patient.id)
    sent = source.fields.get("date_of_birth") if source is not None else None
    return date.fromisoformat(sent) if sent else None


def shown_place(
    session: Session,
    caller: Caller,
    patient_id: str,
    index: DirectoryIndex,
    *,
    stored: str | None,
) -> str | None:
    """The `place` of a record about this patient (e.g. a DTOC episode) as this caller is
    shown it.

    With the full view, `stored`: the true place kept for the CISP metrics, which may come
    from the held postcode. Without it, only the place of the postcode this caller sent for
    the patient (`own_place`), else None, so the answer never depends on what another client
    or the console supplied.
    """
    if has_full_view(session, caller, patient_id, index):
        return stored
    return own_place(session, caller, patient_id)


def own_place(session: Session, caller: Caller, patient_id: str) -> str | None:
    """The place of the postcode this caller last sent for the patient (None: none sent, or
    outside BLMK)."""
    source = source_of(session, caller, patient_id)
    place = source.fields.get("place") if source is not None else None
    return str(place) if place is not None else None
