"""Record transitions of care idempotently and mark 30-day readmissions, in any arrival order."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from navigator.auth.keys import Caller
from navigator.db import retry_on_conflict
from navigator.directory.index import DirectoryIndex
from navigator.directory.opening import local_month, to_local
from navigator.directory.places import Gazetteer
from navigator.errors import Problem
from navigator.patients.access import may_see_transition
from navigator.patients.audit import audit_record
from navigator.patients.service import resolve_patient
from navigator.referrals.service import request_hash
from navigator.transitions.models import TransitionEvent

TYPES = (
    "ae_attendance",
    "nel_admission",
    "discharge",
    "care_home_call_out",
    "care_home_conveyance",
    "transfer",
)
READMISSION_DAYS = 29  # an emergency admission 0-29 days after a discharge
# CISP leaves cancer and obstetric admissions out of readmissions (names or treatment
# function codes: 370 medical oncology, 800 clinical oncology, 501 obstetrics, 503 maternity).
EXCLUDED_SPECIALTIES = frozenset(
    {"cancer", "oncology", "medical_oncology", "clinical_oncology", "obstetrics", "maternity"}
    | {"370", "800", "501", "503"}
)


def _excluded(specialty: str | None) -> bool:
    return (specialty or "").strip().lower().replace(" ", "_") in EXCLUDED_SPECIALTIES


def mark_readmissions(session: Session, patient_id: str) -> None:
    """Recompute every admission's flag for one patient from the whole history, so an event
    that arrives late (a discharge recorded after the next admission) still marks it."""
    events = session.scalars(
        select(TransitionEvent)
        .where(
            TransitionEvent.patient_id == patient_id,
            TransitionEvent.type.in_(("nel_admission", "discharge")),
        )
        .order_by(TransitionEvent.occurred_at, TransitionEvent.type.desc())  # discharge first
    )
    last_discharge = None
    for event in events:
        if event.type == "discharge":
            last_discharge = to_local(event.occurred_at).date()
            continue
        days = (
            (to_local(event.occurred_at).date() - last_discharge).days if last_discharge else None
        )
        event.readmission_30d = days is not None and 0 <= days <= READMISSION_DAYS
        event.readmission_excluded = _excluded(event.specialty)


def _find(session: Session, client_id: str, event_id: str) -> TransitionEvent | None:
    return session.scalar(
        select(TransitionEvent).where(
            TransitionEvent.client_id == client_id, TransitionEvent.event_id == event_id
        )
    )


def record_transition(
    session: Session,
    body: Mapping[str, Any],
    *,
    caller: Caller,
    gazetteer: Gazetteer,
    index: DirectoryIndex,
) -> tuple[TransitionEvent, bool]:
    """(event, created); the same event_id from the same client records once. Commits.

    `index` decides which patients a provider may name by `patient_id` (need-to-know)."""

    def once() -> tuple[TransitionEvent, bool]:
        client_id = caller.client_ref
        fingerprint = request_hash(body)
        if existing := _find(session, client_id, body["event_id"]):
            if existing.request_hash != fingerprint:
                raise Problem(
                    409,
                    "This event_id was already recorded with different details.",
                    code="event_id_reused",
                )
            return existing, False
        patient = resolve_patient(session, body, caller=caller, gazetteer=gazetteer, index=index)
        event = TransitionEvent(
            id=str(uuid.uuid4()),
            client_id=client_id,
            event_id=body["event_id"],
            request_hash=fingerprint,
            type=body["type"],
            occurred_at=body["occurred_at"],
            local_month=local_month(body["occurred_at"]),
            patient_id=patient.id,
            place=body.get("place") or patient.place,
            organisation=body.get("organisation"),
            specialty=body.get("specialty"),
            pathway=body.get("pathway"),
            destination=body.get("destination"),
            from_organisation=body.get("from_organisation"),
            to_organisation=body.get("to_organisation"),
            created_by=caller.label,
        )
        session.add(event)
        session.flush()
        if event.type in ("nel_admission", "discharge"):
            mark_readmissions(session, patient.id)
        audit_record(session, event, actor=caller.label, action="create", entity="transition")
        session.commit()
        return event, True

    return retry_on_conflict(session, once)


def transition_dict(event: TransitionEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "event_id": event.event_id,
        "type": event.type,
        "occurred_at": event.occurred_at.isoformat(),
        "patient_id": event.patient_id,
        "place": event.place,
        "organisation": event.organisation,
        "specialty": event.specialty,
        "pathway": event.pathway,
        "destination": event.destination,
        "from_organisation": event.from_organisation,
        "to_organisation": event.to_organisation,
        "readmission_30d": event.readmission_30d,
        "readmission_excluded": event.readmission_excluded,
        "created_at": event.created_at.isoformat(),
    }


def get_transition(session: Session, ident: str, *, caller: Caller) -> dict[str, Any]:
    """`TransitionSchema`; the read is audited. Navigators and admins read any event, other
    clients only those they recorded: another client's is 404, like an unknown id."""
    event = session.get(TransitionEvent, ident)
    if event is None or not may_see_transition(caller, event):
        raise Problem(404, f"No transition with id {ident!r}.")
    audit_record(session, event, actor=caller.label, action="read", entity="transition")
    return transition_dict(event)
