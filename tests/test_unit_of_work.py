"""Services flush, never commit (issue 14): the view or CLI command that calls them owns the
one unit of work (`core.db.transaction` / `retry_on_conflict`), so what a request writes
lands together or not at all, and a decision and its referral cannot be half recorded.

Each case runs one writing service in a session, then checks that nothing was committed: the
session is still in its transaction, the new row is visible there but not to another
connection, and `session.rollback()` leaves no trace of it. A service that commits (or opens
its own `transaction`) fails here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from navigator.auth.keys import Caller
from navigator.core.db import Base, transaction, utcnow
from navigator.core.extensions import db
from navigator.core.places import parse_postcode
from navigator.core.reference import GAZETTEER, VOCABULARY
from navigator.directory.capacity import update_capacity
from navigator.directory.models import ServiceCapacity
from navigator.directory.reference import directory_index, stale_hours
from navigator.navigation.decisions import decide
from navigator.navigation.models import Navigation
from navigator.navigation.service import navigate
from navigator.referrals.models import Referral, ReferralEvent
from navigator.referrals.schemas import ReferralInSchema
from navigator.referrals.service import change_status, create_referral
from navigator.rules.reference import RULESET
from navigator.transitions.dtoc import open_episode
from navigator.transitions.models import DtocEpisode, TransitionEvent
from navigator.transitions.schemas import DtocInSchema, TransitionInSchema
from navigator.transitions.service import record_transition
from tests.builders import load_directory, organisation, service

NAVIGATOR = Caller(3, "111-provider", "navigator", None)
ACK = {"urgent": 30, "emergency": 15, "same_day": 120, "within_72h": 480, "routine": 1440}
PATIENT = {
    "nhs_number": "9434765919",
    "name": "Ada Example",
    "date_of_birth": "1941-03-02",
    "postcode": "MK42 9DJ",
}

# A case commits what it needs first (through `transaction`, as a view would) and returns the
# write under test: one service call, giving (model, primary key) of a row it wrote.
Write = Callable[[], tuple[type[Base], Any]]
Case = Callable[[Session], Write]


@pytest.fixture
def directory(app_ctx: Any) -> None:
    load_directory(
        organisations=[organisation(id="rc9", ods_code="RC9")],
        services=[service(id="ucr", organisation="rc9")],
    )


def _new_referral(session: Session) -> Referral:
    body = ReferralInSchema().load(
        {
            "service_id": "ucr",
            "patient": PATIENT,
            "reason": "Fell",
            "urgency": "urgent",
            "consent": True,
        }
    )
    referral, created = create_referral(
        session,
        body,
        caller=NAVIGATOR,
        idempotency_key="key-1",
        index=directory_index(),
        gazetteer=GAZETTEER.get(),
        ack_minutes=ACK,
        now=utcnow(),
    )
    assert created
    return referral


def creating_a_referral(session: Session) -> Write:
    return lambda: (Referral, _new_referral(session).id)


def changing_a_referrals_status(session: Session) -> Write:
    with transaction(session):
        referral = _new_referral(session)

    def write() -> tuple[type[Base], Any]:
        change_status(session, referral, {"status": "accepted"}, actor="tests", now=utcnow())
        return ReferralEvent, session.scalar(select(func.max(ReferralEvent.id)))

    return write


def deciding_a_call(session: Session) -> Write:
    """The decision and its referral: one unit of work, so neither is committed alone."""
    located = GAZETTEER.get().locate(parse_postcode("MK42 9DJ", allow_outward=False))
    with transaction(session):
        patient_id = _new_referral(session).patient_id  # a patient for the call
        result = navigate(
            session,
            {
                "caller_role": "relative",
                "need": "fall_no_injury",
                "age": 80,
                "postcode": located,
                "at": utcnow(),
            },
            created_by=NAVIGATOR.label,
            index=directory_index(),
            ruleset=RULESET.get(),
            vocab=VOCABULARY.get(),
            now=utcnow(),
            stale_hours=stale_hours(),
        )
        navigation = session.get(Navigation, result["id"])
        assert navigation is not None
        navigation.patient_id = patient_id

    def write() -> tuple[type[Base], Any]:
        handoff = decide(
            session,
            navigation,
            service_id=None,
            override_reason=None,
            caller=NAVIGATOR,
            index=directory_index(),
            gazetteer=GAZETTEER.get(),
            ack_minutes=ACK,
            now=utcnow(),
        )
        assert handoff.created and handoff.referral is not None
        return Referral, handoff.referral.id

    return write


def recording_a_transition(session: Session) -> Write:
    body = TransitionInSchema().load(
        {
            "event_id": "event-1",
            "type": "nel_admission",
            "occurred_at": "2025-01-06T10:00:00+00:00",
            "patient": PATIENT,
        }
    )

    def write() -> tuple[type[Base], Any]:
        transition, created = record_transition(
            session, body, caller=NAVIGATOR, gazetteer=GAZETTEER.get(), index=directory_index()
        )
        assert created
        return TransitionEvent, transition.id

    return write


def opening_a_dtoc_episode(session: Session) -> Write:
    ready = "2025-01-06T10:00:00+00:00"
    body = DtocInSchema().load(
        {
            "patient": PATIENT,
            "provider_ods": "RC9",
            "care_type": "acute",
            "clinically_ready_at": ready,
            "mdt_ready_at": ready,
            "safe_to_transfer_at": ready,
            "reason": "E",
            "responsible": "nhs",
        }
    )

    def write() -> tuple[type[Base], Any]:
        episode = open_episode(
            session,
            body,
            caller=NAVIGATOR,
            gazetteer=GAZETTEER.get(),
            index=directory_index(),
            now=utcnow(),
        )
        return DtocEpisode, episode.id

    return write


def updating_capacity(session: Session) -> Write:
    def write() -> tuple[type[Base], Any]:
        update_capacity(
            session,
            "ucr",
            {"status": "red", "note": "No crews", "reset_after_minutes": None},
            changed_by="tests",
            now=utcnow(),
            default_reset_minutes=240,
        )
        return ServiceCapacity, "ucr"

    return write


def committed(model: type[Base], ident: Any) -> bool:
    """Whether another connection sees the row: only what was committed."""
    key = next(iter(model.__table__.primary_key.columns))  # type: ignore[attr-defined]
    with db.engine.connect() as connection:
        return connection.scalar(select(func.count()).where(key == ident)) == 1


@pytest.mark.parametrize(
    "case",
    [
        creating_a_referral,
        changing_a_referrals_status,
        deciding_a_call,
        recording_a_transition,
        opening_a_dtoc_episode,
        updating_capacity,
    ],
)
def test_a_service_flushes_and_leaves_the_commit_to_its_caller(
    session: Session, directory: None, case: Case
) -> None:
    write = case(session)
    commits: list[Session] = []
    count = commits.append  # one bound method, so that the same listener is removed
    event.listen(session, "after_commit", count)
    try:
        model, ident = write()
    finally:
        event.remove(session, "after_commit", count)
    assert commits == [], "the service committed by itself"
    assert session.in_transaction()
    assert session.get(model, ident) is not None  # flushed: this session sees it
    assert not committed(model, ident)  # and no one else does
    session.rollback()
    session.expire_all()
    assert session.get(model, ident) is None  # nothing of it survives a rollback
