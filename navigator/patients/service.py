"""Find or create patients; resolve `patient_id` or an inline `patient` on any request."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from navigator.auth.keys import Caller
from navigator.core.db import utcnow
from navigator.core.errors import Problem, field_error
from navigator.core.places import Gazetteer, parse_postcode
from navigator.directory.index import DirectoryIndex
from navigator.patients.audit import audit_record
from navigator.patients.models import Patient, PatientSource
from navigator.patients.need_to_know import has_full_view, may_see_patient, sees_every_patient
from navigator.patients.shown import full_patient_dict, sourced_patient_dict, visible_patient_dict
from navigator.patients.sources import inserted_unless_exists, record_source


class _NotLooked:
    """`find_or_create_patient(held=...)` not given: it looks the NHS number up itself."""


NOT_LOOKED = _NotLooked()


@dataclass
class PatientResult:
    """`patient` as found or created; `created`: a new record; `warnings`: how the given
    demographics differ from the record held (only ever shown to callers with the full view);
    `new_to_client`: the first time this client sent this patient (a new source row);
    `full_view`: whether the caller may see the record held (set by `link_or_create_patient`);
    `source`: what this client has sent about the patient, when a client was named."""

    patient: Patient
    created: bool
    warnings: list[str] = field(default_factory=list)
    new_to_client: bool = False
    full_view: bool = True
    source: PatientSource | None = None


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
    session: Session,
    data: Mapping[str, Any],
    *,
    actor: str,
    gazetteer: Gazetteer,
    client_ref: str | None = None,
    full_view: bool = True,
    held: Patient | _NotLooked | None = NOT_LOOKED,
) -> PatientResult:
    """Link to the patient held for this NHS number, or create one; never changes the held
    record. With `client_ref` (`Caller.client_ref`), what this client sent is recorded as its
    `PatientSource`, so it can later be shown its own part and nothing else.

    `full_view=False` (the caller may not see the held record) audits a match as a "link",
    not a "read": the caller is given the id, not the held demographics. `held`: the record
    for this NHS number (or None) when the caller has just read it in this transaction, so
    it is not read twice (`link_or_create_patient`).
    """
    nhs_number = data.get("nhs_number")
    existing = _held(session, nhs_number) if isinstance(held, _NotLooked) else held
    if existing is not None:
        return _linked(session, existing, data, actor, client_ref, gazetteer, full_view)
    postcode = (
        parse_postcode(data["postcode"], allow_outward=False) if data.get("postcode") else None
    )
    now = utcnow()
    values = {
        "id": str(uuid.uuid4()),
        "nhs_number": nhs_number,
        "name": data["name"],
        "date_of_birth": data.get("date_of_birth"),
        "sex": data.get("sex") or "unknown",
        "postcode": postcode.text if postcode else None,
        "place": gazetteer.locate(postcode).place if postcode else None,
        "gp_practice_ods": data.get("gp_practice_ods"),
        "care_home_service_id": data.get("care_home_service_id"),
        "created_at": now,
        "updated_at": now,
    }
    if nhs_number:
        # A concurrent request may be creating the same NHS number right now: the loser of
        # the unique constraint links to the winner's record instead of failing (one person,
        # one id; never a 500).
        # The new row comes back from the INSERT (no SELECT after it: one round trip less).
        inserted = inserted_unless_exists(session, Patient, values, on=["nhs_number"])
        if inserted is None:
            winner = _held(session, nhs_number)
            assert winner is not None  # ON CONFLICT did nothing: the row exists
            return _linked(session, winner, data, actor, client_ref, gazetteer, full_view)
        patient = inserted
    else:
        # Without an NHS number there is nothing to match on and so nothing to race for.
        patient = Patient(**values)
        session.add(patient)
        session.flush()
    audit_record(session, patient, actor=actor, action="create", entity="patient")
    source, new = _record(session, patient, data, client_ref, gazetteer)
    return PatientResult(patient, True, new_to_client=new, source=source)


def _held(session: Session, nhs_number: str | None) -> Patient | None:
    if not nhs_number:
        return None
    return session.scalar(select(Patient).where(Patient.nhs_number == nhs_number))


def _linked(
    session: Session,
    existing: Patient,
    data: Mapping[str, Any],
    actor: str,
    client_ref: str | None,
    gazetteer: Gazetteer,
    full_view: bool,
) -> PatientResult:
    """The result for a match to the record held: audited as a read (or a link, for a
    caller without the full view), the record unchanged, the differences as warnings."""
    audit_record(
        session, existing, actor=actor, action="read" if full_view else "link", entity="patient"
    )
    source, new = _record(session, existing, data, client_ref, gazetteer)
    return PatientResult(existing, False, _differences(existing, data), new, source=source)


def _record(
    session: Session,
    patient: Patient,
    data: Mapping[str, Any],
    client_ref: str | None,
    gazetteer: Gazetteer,
) -> tuple[PatientSource | None, bool]:
    if client_ref is None:
        return None, False
    return record_source(session, patient, dict(data), client_ref=client_ref, gazetteer=gazetteer)


def read_patient(
    session: Session, patient_id: str, *, caller: Caller, index: DirectoryIndex
) -> dict[str, Any]:
    """The patient as this caller may see it (`visible_patient_dict`); the read is audited.

    Raises Problem 404 both for an unknown id and for a patient the caller may not see, with
    the same words, so the answer does not confirm that the patient exists.
    """
    patient = session.get(Patient, patient_id)
    data = visible_patient_dict(session, caller, patient, index) if patient else None
    if patient is None or data is None:
        raise Problem(404, f"No patient with id {patient_id!r}.")
    audit_record(session, patient, actor=caller.label, action="read", entity="patient")
    return data


def link_or_create_patient(
    session: Session,
    data: Mapping[str, Any],
    *,
    caller: Caller,
    gazetteer: Gazetteer,
    index: DirectoryIndex,
) -> PatientResult:
    """`find_or_create_patient` for an API client or console user: records what it sent as
    its source, and works out whether it may see the record held (`PatientResult.full_view`)."""
    full = sees_every_patient(caller)
    held: Patient | _NotLooked | None = NOT_LOOKED
    if not full and data.get("nhs_number"):
        # The whole record, not just its id: `find_or_create_patient` links to it without
        # reading it again (one SELECT instead of two, ~1 ms on PostgreSQL).
        held = _held(session, data["nhs_number"])
        full = held is not None and has_full_view(session, caller, held.id, index)
    result = find_or_create_patient(
        session,
        data,
        actor=caller.label,
        gazetteer=gazetteer,
        client_ref=caller.client_ref,
        full_view=full,
        held=held,
    )
    # A record this caller has just created holds only what it sent, so it sees it whole.
    result.full_view = full or result.created
    return result


def created_patient_response(result: PatientResult) -> tuple[dict[str, Any], int]:
    """(body, status) for `POST /patients`: `PatientSchema`.

    With the full view: the record held, the "differs" warnings, 201 if created else 200.
    Without it: the id and only what this client has sent, no warnings, and 201 the first
    time this client sends the patient (200 on its repeats), so neither the body nor the
    status says whether navigator already held the NHS number.
    """
    if result.full_view:
        body = full_patient_dict(result.patient) | {"warnings": result.warnings}
        return body, 201 if result.created else 200
    # `link_or_create_patient` always records the caller's source.
    assert result.source is not None
    body = sourced_patient_dict(result.patient.id, result.source) | {"warnings": []}
    return body, 201 if result.new_to_client else 200


def resolve_patient(
    session: Session,
    body: Mapping[str, Any],
    *,
    caller: Caller,
    gazetteer: Gazetteer,
    index: DirectoryIndex,
) -> Patient:
    """`patient_id` or an inline `patient` object (handled exactly like POST /patients).

    A `patient_id` the caller may not see is refused like an unknown one (422 naming
    `patient_id`); an inline patient is linked or created and recorded as this caller's
    source.
    """
    if body.get("patient_id"):
        patient = session.get(Patient, body["patient_id"])
        if patient is None or not may_see_patient(session, caller, patient, index):
            raise field_error("patient_id", "No patient with this id")
        audit_record(session, patient, actor=caller.label, action="read", entity="patient")
        return patient
    if body.get("patient"):
        return link_or_create_patient(
            session, body["patient"], caller=caller, gazetteer=gazetteer, index=index
        ).patient
    raise field_error("patient_id", "Give patient_id or an inline patient")
