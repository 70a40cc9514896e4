"""Record transitions of care idempotently and mark 30-day readmissions, in any arrival order."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from navigator.auth.keys import Caller
from navigator.core.clock import local_month, to_local
from navigator.core.db import load_or_404, utcnow
from navigator.core.idempotency import KeyReused, replay_or_conflict, request_hash
from navigator.core.places import Gazetteer
from navigator.directory.index import DirectoryIndex
from navigator.patients.audit import audit_record
from navigator.patients.need_to_know import has_full_view
from navigator.patients.service import resolve_patient
from navigator.patients.shown import own_place
from navigator.transitions.models import TransitionEvent
from navigator.transitions.need_to_know import may_see_transition
from navigator.transitions.times import check_event_times

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


EVENT_ID_REUSED = KeyReused(
    "This event_id was already recorded with different details.", "event_id_reused"
)


def _excluded(specialty: str | None) -> bool:
    return (specialty or "").strip().lower().replace(" ", "_") in EXCLUDED_SPECIALTIES


def _admissions_and_discharges(
    session: Session, patient_id: str, client_id: str | None = None
) -> Iterable[TransitionEvent]:
    """One patient's admissions and discharges (only one client's, if named), in time order
    with a discharge before an admission at the same instant."""
    query = select(TransitionEvent).where(
        TransitionEvent.patient_id == patient_id,
        TransitionEvent.type.in_(("nel_admission", "discharge")),
    )
    if client_id is not None:
        query = query.where(TransitionEvent.client_id == client_id)
    return session.scalars(query.order_by(TransitionEvent.occurred_at, TransitionEvent.type.desc()))


def _readmission_flags(events: Iterable[TransitionEvent]) -> dict[str, bool]:
    """{admission id: readmitted within 30 days} for events as `_admissions_and_discharges`
    gives them: an admission 0-29 London days after the latest discharge before it."""
    flags: dict[str, bool] = {}
    last_discharge = None
    for event in events:
        if event.type == "discharge":
            last_discharge = to_local(event.occurred_at).date()
            continue
        days = (
            (to_local(event.occurred_at).date() - last_discharge).days if last_discharge else None
        )
        flags[event.id] = days is not None and 0 <= days <= READMISSION_DAYS
    return flags


def mark_readmissions(session: Session, patient_id: str) -> None:
    """Recompute every admission's flag for one patient from the whole history, so an event
    that arrives late (a discharge recorded after the next admission) still marks it.

    The stored flag uses every client's events: it is the truth the CISP metrics count, shown
    only to callers with the full view (`transition_dict`)."""
    events = list(_admissions_and_discharges(session, patient_id))
    flags = _readmission_flags(events)
    for event in events:
        if event.id in flags:
            event.readmission_30d = flags[event.id]
            event.readmission_excluded = _excluded(event.specialty)


def own_readmission(session: Session, event: TransitionEvent) -> bool:
    """Whether `event` is a 30-day readmission counting only the discharges its own client
    recorded: what a client without the full view of the patient is shown, so the answer
    never depends on another client's events (issue 12 §2)."""
    if event.type != "nel_admission":
        return False
    events = _admissions_and_discharges(session, event.patient_id, event.client_id)
    return _readmission_flags(events).get(event.id, False)


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
    """(event, created); the same event_id from the same client records once: with the same
    details it returns the stored event (created False), with different ones 409
    `event_id_reused`.

    Flushes, never commits: the caller runs it in `retry_on_conflict`, so the loser of two
    requests recording the same event_id at once reruns and finds the winner's event.
    `index` decides which patients a provider may name by `patient_id` (need-to-know).
    `occurred_at` must lie from 1 January 2000 to 5 minutes from now (`times`; 422 naming it).
    """
    check_event_times(body, ("occurred_at",), utcnow())
    client_id = caller.client_ref
    fingerprint = request_hash(body)
    if existing := _find(session, client_id, body["event_id"]):
        return replay_or_conflict(existing, fingerprint, EVENT_ID_REUSED), False
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
        # The truth for the CISP metrics (the held postcode's place by default); a client
        # without the full view is shown only `sent_place` or its own postcode's place.
        place=body.get("place") or patient.place,
        sent_place=body.get("place"),
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
    session.flush()
    return event, True


def transition_dict(
    session: Session, event: TransitionEvent, *, caller: Caller, index: DirectoryIndex
) -> dict[str, Any]:
    """`TransitionSchema` as this caller may see it.

    With the full view of the patient (navigators, admins, a provider with a referral or DTOC
    need): the stored `place` and `readmission_30d`. Without it, only what derives from what
    the caller sent and its own events: `place` is the place it named, else that of the
    postcode it sent, else null; `readmission_30d` counts only its own recorded discharges.
    """
    full = has_full_view(session, caller, event.patient_id, index)
    return {
        "id": event.id,
        "event_id": event.event_id,
        "type": event.type,
        "occurred_at": event.occurred_at.isoformat(),
        "patient_id": event.patient_id,
        "place": event.place
        if full
        else event.sent_place or own_place(session, caller, event.patient_id),
        "organisation": event.organisation,
        "specialty": event.specialty,
        "pathway": event.pathway,
        "destination": event.destination,
        "from_organisation": event.from_organisation,
        "to_organisation": event.to_organisation,
        "readmission_30d": event.readmission_30d if full else own_readmission(session, event),
        "readmission_excluded": event.readmission_excluded,
        "created_at": event.created_at.isoformat(),
    }


def get_transition(
    session: Session, ident: str, *, caller: Caller, index: DirectoryIndex
) -> dict[str, Any]:
    """`TransitionSchema`; the read is audited. Navigators and admins read any event, other
    clients only those they recorded: another client's is 404, like an unknown id."""
    event = load_or_404(
        session,
        TransitionEvent,
        ident,
        noun="transition",
        visible=lambda event: may_see_transition(caller, event),
    )
    audit_record(session, event, actor=caller.label, action="read", entity="transition")
    return transition_dict(session, event, caller=caller, index=index)
