"""Referrals: create idempotently, move through the lifecycle, and find the overdue ones.

The closed loop: every status change is an event (who, when, from, to, why), and a referral
that is neither accepted nor rejected within its urgency's window is overdue, so no handoff
is silently lost. A navigation has at most one *open* referral (sent, accepted, on hold) to a
service, whoever asks and with whatever idempotency key (issue 13 §8, hazard H24), so the API
and the console cannot hand one call over twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, and_, column, select, table, update
from sqlalchemy.orm import Session

from navigator.auth.keys import Caller
from navigator.bars import outbox as bars_outbox
from navigator.core.clock import local_month
from navigator.core.db import load_or_404
from navigator.core.errors import Problem, field_error
from navigator.core.idempotency import KeyReused, replay_or_conflict, request_hash
from navigator.core.places import Gazetteer
from navigator.core.vocabulary import UNCLASSIFIED
from navigator.directory.index import DirectoryIndex
from navigator.patients.audit import audit_record
from navigator.patients.need_to_know import may_see_call
from navigator.patients.service import resolve_patient
from navigator.referrals.models import Referral, ReferralEvent

# Referrals sit below navigation in the layers (a navigation makes referrals; a referral only
# points at one): they name the navigations table as their foreign key does, with the columns
# they read, not navigation's ORM class.
NAVIGATIONS = table("navigations", column("id"), column("created_by"))

STATUSES = ("sent", "accepted", "rejected", "on_hold", "completed", "cancelled")
OPEN = ("sent", "accepted", "on_hold")
UNACKNOWLEDGED = ("sent", "on_hold")
REJECTION_REASONS = (
    "no_capacity",
    "not_eligible",
    "could_not_contact",
    "declined_by_patient",
    "other",
)
NEXT: dict[str, tuple[str, ...]] = {
    "sent": ("accepted", "rejected", "on_hold", "cancelled"),
    "accepted": ("completed", "on_hold", "cancelled"),
    "on_hold": ("accepted", "rejected", "completed", "cancelled"),
    "rejected": (),
    "completed": (),
    "cancelled": (),
}


KEY_REUSED = KeyReused(
    "This Idempotency-Key was already used for a different request.", "idempotency_key_reused"
)


def _find_by_key(session: Session, client_id: str, key: str) -> Referral | None:
    return session.scalar(
        select(Referral).where(Referral.client_id == client_id, Referral.idempotency_key == key)
    )


def open_referrals(
    session: Session, navigation_id: str, *, service_id: str | None = None
) -> list[Referral]:
    """The open referrals (sent, accepted, on hold) of one navigation, oldest first; only
    those to `service_id` when given (at most one, unless a release before H24 made two).
    The one query for "the call's open referrals": referring through the API, deciding a
    call and the call page all read them here."""
    query = select(Referral).where(
        Referral.navigation_id == navigation_id, Referral.status.in_(OPEN)
    )
    if service_id is not None:
        query = query.where(Referral.service_id == service_id)
    return list(session.scalars(query.order_by(Referral.created_at, Referral.id)))


def lock_navigation(session: Session, navigation_id: str) -> None:
    """Hold the navigation's row until this transaction ends, so two requests referring the
    same call run one after the other and the second sees the first's referral.

    An UPDATE that changes nothing rather than SELECT ... FOR UPDATE: on PostgreSQL both take
    the row's lock, but SQLite ignores FOR UPDATE, and pysqlite runs a SELECT outside any
    transaction; an UPDATE opens the write transaction there (one writer at a time, waiting up
    to the busy timeout), so the check that follows cannot race on either database.
    """
    session.execute(
        update(NAVIGATIONS)
        .where(NAVIGATIONS.c.id == navigation_id)
        .values(id=NAVIGATIONS.c.id)
        .execution_options(synchronize_session=False)
    )


def open_referral_conflict(existing: Referral) -> Problem:
    """409 naming the open referral a navigation already has to a service (no patient data)."""
    return Problem(
        409,
        f"This navigation already has an open referral to this service: {existing.id} "
        f"({existing.status.replace('_', ' ')}). Update or cancel it instead of referring again.",
        code="open_referral_exists",
        extensions={"existing_referral_id": existing.id},
    )


def create_referral(
    session: Session,
    body: Mapping[str, Any],
    *,
    caller: Caller,
    idempotency_key: str | None,
    index: DirectoryIndex,
    gazetteer: Gazetteer,
    ack_minutes: Mapping[str, int],
    now: datetime,
    new_navigation: bool = False,
    key_is_new: bool = False,
) -> tuple[Referral, bool]:
    """(referral, created). The same key and body returns the original; a different body 409
    `idempotency_key_reused`. A second open referral for the same navigation and service is
    refused whatever the key: 409 `open_referral_exists` with `existing_referral_id`. 422
    naming `service_id` (unknown or not active), `navigation_id` (unknown, or a call this
    caller may not see) or the patient reference.

    Flushes, never commits: the caller's unit of work does, through `retry_on_conflict` when
    a concurrent duplicate can race it. The loser of the unique (client, key) constraint has
    its whole transaction (including any patient it created) rolled back, and the rerun finds
    and returns the original, so retries never leave a second record of anything. Referrals
    for one navigation are serialised on its row (`lock_navigation`) until that transaction
    ends. On a refusal the caller's transaction rolls back, releasing the lock.

    `new_navigation`: the caller made `navigation_id` earlier in this same transaction (a BaRS
    referral records its call and refers it at once), so no other transaction can see it yet:
    it is neither locked nor checked for visibility or open referrals (three statements off a
    path measured against a 50 ms budget, bench/bars_process_message.py).

    `key_is_new`: the caller has established in this transaction that no referral holds
    `idempotency_key` (a BaRS receiver finds the sender's ServiceRequest in `bars_referrals`,
    written with the referral it keys), so the key is not looked up again (one round trip).
    A concurrent request that wins the key still fails this one on the unique constraint,
    and the caller's rerun sees it.
    """
    client_id = caller.client_ref
    fingerprint = request_hash(body)
    navigation_id = body.get("navigation_id")
    if navigation_id is not None and not new_navigation:  # "" too: refused like an unknown id
        # First, so a concurrent request for the same call has committed before the key and
        # the open referrals are read below.
        lock_navigation(session, navigation_id)
    if (
        idempotency_key
        and not key_is_new
        and (existing := _find_by_key(session, client_id, idempotency_key))
    ):
        return replay_or_conflict(existing, fingerprint, KEY_REUSED), False
    entry = index.by_id.get(body["service_id"])
    if entry is None:
        raise field_error("service_id", "No service with this id")
    if not entry.active:
        raise field_error(
            "service_id", f"The service is {entry.record['status'].replace('_', ' ')}"
        )
    if entry.service_type == UNCLASSIFIED:
        # Hazard H30: nobody in navigator has checked what it is; a decision on a call made
        # before a re-load turned the service unclassified comes here too.
        raise field_error(
            "service_id",
            "The service is not yet classified: a supervisor must classify it before anyone "
            "can be referred to it",
        )
    if navigation_id is not None and not new_navigation:
        made_by = session.scalar(
            select(NAVIGATIONS.c.created_by).where(NAVIGATIONS.c.id == navigation_id)
        )
        # Another client's call is refused like an unknown one: its existence is not
        # confirmed (need-to-know).
        if made_by is None or not may_see_call(caller, made_by):
            raise field_error("navigation_id", "No navigation with this id")
        if already := open_referrals(session, navigation_id, service_id=entry.id):
            raise open_referral_conflict(already[0])
    patient = resolve_patient(session, body, caller=caller, gazetteer=gazetteer, index=index)
    referral = Referral(
        id=str(uuid.uuid4()),
        navigation_id=navigation_id,
        service_id=entry.id,
        patient_id=patient.id,
        reason=body["reason"],
        urgency=body["urgency"],
        consent=True,
        notes=body.get("notes"),
        status="sent",
        created_at=now,
        local_month=local_month(now),
        # The truth for the CISP metrics (may come from the held record): never shown to
        # the client (`referral_dict` has no place), so it discloses nothing (issue 12 §2).
        place=patient.place,
        updated_at=now,
        created_by=caller.label,
        client_id=client_id,
        idempotency_key=idempotency_key,
        request_hash=fingerprint,
        due_by=now + timedelta(minutes=ack_minutes[body["urgency"]]),
    )
    session.add(referral)
    session.add(
        ReferralEvent(
            referral_id=referral.id,
            at=now,
            actor=caller.label,
            from_status=None,
            to_status="sent",
        )
    )
    audit_record(session, referral, actor=caller.label, action="create", entity="referral")
    session.flush()
    return referral, True


def load_referral(
    session: Session,
    referral_id: str,
    *,
    for_update: bool = False,
    visible: Callable[[Referral], bool] | None = None,
) -> Referral:
    """The referral with this id (`db.load_or_404`): `for_update` locks it, so two status
    changes at once cannot both pass the lifecycle check; `visible` is `may_read` or
    `may_update` (`referrals/need_to_know.py`) bound to the caller. Raises Problem 404."""
    return load_or_404(
        session, Referral, referral_id, noun="referral", for_update=for_update, visible=visible
    )


def change_status(
    session: Session,
    referral: Referral,
    body: Mapping[str, Any],
    *,
    actor: str,
    now: datetime,
    by_bars_sender: bool = False,
) -> Referral:
    """Move `referral` to `body["status"]` (with `reason`, `note`, `outcome`), recorded as an
    event by `actor` and audited. 409 `illegal_transition` outside the lifecycle (`NEXT`);
    422 naming `reason` (a rejection without one of `REJECTION_REASONS`) or `outcome` (a
    completion without one). A referral that came by BaRS has the change sent back to its
    sender (`navigator.bars.outbox`), unless `by_bars_sender`: the sender's own cancellation
    needs no answer but its 200."""
    to = body["status"]
    if to not in NEXT[referral.status]:
        allowed = ", ".join(NEXT[referral.status]) or "none (it is closed)"
        raise Problem(
            409,
            f"A {referral.status} referral cannot become {to}; allowed: {allowed}.",
            code="illegal_transition",
        )
    if to == "rejected" and body.get("reason") not in REJECTION_REASONS:
        raise field_error(
            "reason", f"A rejection needs a reason: one of {', '.join(REJECTION_REASONS)}"
        )
    if to == "completed" and not body.get("outcome"):
        raise field_error("outcome", "Completing a referral needs its outcome")
    if to == "completed" and referral.acknowledged_at is None:
        raise Problem(409, "Only an accepted referral can be completed.", code="illegal_transition")
    session.add(
        ReferralEvent(
            referral_id=referral.id,
            at=now,
            actor=actor,
            from_status=referral.status,
            to_status=to,
            reason=body.get("reason"),
            note=body.get("note"),
            outcome=body.get("outcome"),
        )
    )
    if to in ("accepted", "rejected") and referral.acknowledged_at is None:
        referral.acknowledged_at = now
    if to == "accepted" and referral.accepted_at is None:
        referral.accepted_at = now
        referral.minutes_to_accept = round((now - referral.created_at).total_seconds() / 60)
    if body.get("outcome"):
        referral.outcome = body["outcome"]
    referral.status, referral.updated_at = to, now
    audit_record(session, referral, actor=actor, action="update", entity="referral")
    # A referral that came by BaRS: its sender hears of it, written in this transaction.
    if not by_bars_sender:
        bars_outbox.referral_status_changed(session, referral, reason=body.get("reason"), now=now)
    return referral


class _Term(NamedTuple):
    """One condition on a referral's attribute, said for a loaded referral and in SQL."""

    attribute: str
    holds: Callable[[Any], bool]
    sql: Callable[[Any], ColumnElement[bool]]


def _overdue(now: datetime) -> tuple[_Term, ...]:
    """The rule for "overdue" (hazard H14), defined once: still waiting for the service's
    first answer (sent or on hold, never accepted or rejected) when its `due_by` has passed.
    `is_overdue` and `overdue_clause` both read it from here, so the flag on a referral, the
    `overdue=true` list and the CISP count cannot disagree."""
    return (
        _Term("status", lambda status: status in UNACKNOWLEDGED, lambda c: c.in_(UNACKNOWLEDGED)),
        _Term("acknowledged_at", lambda at: at is None, lambda c: c.is_(None)),
        _Term("due_by", lambda due_by: due_by < now, lambda c: c < now),
    )


def is_overdue(referral: Referral, now: datetime) -> bool:
    """Whether this referral is overdue at `now` (aware UTC), as `_overdue` defines it."""
    return all(term.holds(getattr(referral, term.attribute)) for term in _overdue(now))


def overdue_clause(now: datetime) -> ColumnElement[bool]:
    """The referrals overdue at `now` (aware UTC) as a WHERE clause on `Referral`: the SQL
    form of `is_overdue`."""
    return and_(*(term.sql(getattr(Referral, term.attribute)) for term in _overdue(now)))


def referral_dict(
    session: Session, referral: Referral, now: datetime, *, history: bool
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": referral.id,
        "navigation_id": referral.navigation_id,
        "service_id": referral.service_id,
        "patient_id": referral.patient_id,
        "reason": referral.reason,
        "urgency": referral.urgency,
        "consent": referral.consent,
        "notes": referral.notes,
        "status": referral.status,
        "outcome": referral.outcome,
        "created_at": referral.created_at.isoformat(),
        "created_by": referral.created_by,
        "due_by": referral.due_by.isoformat(),
        "acknowledged_at": referral.acknowledged_at.isoformat()
        if referral.acknowledged_at
        else None,
        "overdue": is_overdue(referral, now),
    }
    if history:
        events = session.scalars(
            select(ReferralEvent)
            .where(ReferralEvent.referral_id == referral.id)
            .order_by(ReferralEvent.id)
        )
        data["history"] = [
            {
                "at": e.at.isoformat(),
                "by": e.actor,
                "from": e.from_status,
                "to": e.to_status,
                "reason": e.reason,
                "note": e.note,
                "outcome": e.outcome,
            }
            for e in events
        ]
    return data
