"""Accepting or overriding a recommendation: reasons required, one referral, one decision;
a call already referred elsewhere (the API) is not referred again, nor given a new patient;
the override list after a fallback (issue 13 §8, hazard H24)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from navigator.auth.keys import Caller
from navigator.core.db import transaction, utcnow
from navigator.core.errors import Problem
from navigator.core.extensions import db
from navigator.core.places import parse_postcode
from navigator.core.reference import GAZETTEER, VOCABULARY
from navigator.directory.reference import directory_index, stale_hours
from navigator.metrics.service import override_counts, recent_overrides
from navigator.navigation.criteria import CRITERIA
from navigator.navigation.decisions import (
    Handoff,
    call_patient_id,
    decide,
    override_options,
)
from navigator.navigation.models import Navigation
from navigator.navigation.service import navigate
from navigator.patients.models import Patient
from navigator.patients.service import find_or_create_patient
from navigator.referrals.models import Referral
from navigator.referrals.service import create_referral
from navigator.rules.reference import RULESET
from tests.builders import load_directory, navigate_fall, organisation, service

NAVIGATOR = Caller(7, "navigator@test", "navigator", None, kind="user")
THREADS = 4


@pytest.fixture
def navigation(session: Session) -> Navigation:
    load_directory(
        services=[service(id="ucr-one"), service(id="ucr-two", lat=52.2)],
        organisations=[organisation()],
    )
    with transaction(session):
        patient = find_or_create_patient(
            session, {"name": "Pat Example"}, actor="tests", gazetteer=GAZETTEER.get()
        ).patient
        result = navigate_fall(session, created_by=NAVIGATOR.label)
        row = session.get(Navigation, result["id"])
        assert row is not None
        row.patient_id = patient.id
    return row


def _decide(session: Session, navigation: Navigation, **kwargs: object) -> Referral | None:
    return _handoff(session, navigation, **kwargs).referral


def _handoff(session: Session, navigation: Navigation, **kwargs: object) -> Handoff:
    return decide(
        session,
        navigation,
        caller=NAVIGATOR,
        index=directory_index(),
        gazetteer=GAZETTEER.get(),
        ack_minutes={
            "urgent": 30,
            "emergency": 15,
            "same_day": 120,
            "within_72h": 480,
            "routine": 1440,
        },
        now=utcnow(),
        **{"service_id": None, "override_reason": None} | kwargs,  # type: ignore[arg-type]
    )


def referrals(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Referral)) or 0


def test_accepting_refers_to_the_recommended_service(
    session: Session, navigation: Navigation
) -> None:
    referral = _decide(session, navigation)
    assert referral is not None and referral.service_id == navigation.recommended_service_id
    assert navigation.decision == "accepted" and navigation.override_reason is None
    assert referral.created_by == "user:7:navigator@test"


def test_override_without_a_reason_is_refused_and_nothing_is_written(
    session: Session, navigation: Navigation
) -> None:
    other = "ucr-two" if navigation.recommended_service_id == "ucr-one" else "ucr-one"
    with pytest.raises(Problem) as refused:
        _decide(session, navigation, service_id=other, override_reason="too short")
    assert refused.value.errors and "override_reason" in refused.value.errors
    session.rollback()
    assert referrals(session) == 0


def test_override_is_recorded_and_counted_for_the_dashboard(
    session: Session, navigation: Navigation
) -> None:
    other = "ucr-two" if navigation.recommended_service_id == "ucr-one" else "ucr-one"
    referral = _decide(
        session, navigation, service_id=other, override_reason="Known to that team already."
    )
    assert referral is not None and referral.service_id == other
    assert (navigation.decision, navigation.chosen_service_id) == ("overridden", other)
    month = navigation.local_month
    assert override_counts(session, (month, month)) == {("bedford", month): 1}
    assert [n.id for n in recent_overrides(session)] == [navigation.id]


def test_an_override_reason_longer_than_a_referral_reason_is_refused(
    session: Session, navigation: Navigation
) -> None:
    """The reason becomes the referral's reason, which the API caps at 2,000 characters; a
    fresh-eyes review found 3,000 accepted from the console (and the page widened by it)."""
    other = "ucr-two" if navigation.recommended_service_id == "ucr-one" else "ucr-one"
    with pytest.raises(Problem) as refused:
        _decide(session, navigation, service_id=other, override_reason="x" * 2001)
    assert refused.value.errors and "override_reason" in refused.value.errors
    session.rollback()
    assert referrals(session) == 0


def test_a_second_decision_is_refused(session: Session, navigation: Navigation) -> None:
    _decide(session, navigation)
    with pytest.raises(Problem) as again:
        _decide(session, navigation)
    assert again.value.status == 409
    assert referrals(session) == 1


def test_an_unknown_service_cannot_be_chosen(session: Session, navigation: Navigation) -> None:
    with pytest.raises(Problem) as refused:
        _decide(session, navigation, service_id="no-such", override_reason="A long enough reason")
    assert refused.value.errors and "service_id" in refused.value.errors


def test_two_decisions_at_the_same_moment_make_one_referral_and_the_second_is_409(
    app: Flask, session: Session, navigation: Navigation
) -> None:
    """A double click, or two tabs: each decision is one unit of work (the decision and its
    referral land together), and the call's row lock makes the second wait for the first to
    commit, then see it and be refused. Runs on SQLite and on PostgreSQL."""
    navigation_id = navigation.id  # read here: sessions and their objects stay in one thread
    session.commit()  # the fixture's patient, for the threads' own sessions to see
    barrier = threading.Barrier(THREADS)

    def one(_: int) -> int:
        with app.app_context():
            mine = db.session()
            call = mine.get(Navigation, navigation_id)
            assert call is not None
            barrier.wait(timeout=30)
            try:
                with transaction(mine):
                    _decide(mine, call)
            except Problem as exc:
                return exc.status
            finally:
                db.session.remove()
            return 200

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        statuses = sorted(pool.map(one, range(THREADS)))
    assert statuses == [200] + [409] * (THREADS - 1), statuses
    session.expire_all()
    assert referrals(session) == 1
    decided = session.get(Navigation, navigation_id)
    assert decided is not None and decided.decision == "accepted"


# --- A call already handed over elsewhere (issue 13 §8, hazard H24) -------------------------

API_NAVIGATOR = Caller(3, "111-provider", "navigator", None)  # an API client, not a user
ACK = {"urgent": 30, "emergency": 15, "same_day": 120, "within_72h": 480, "routine": 1440}


def _api_referral(
    session: Session, navigation: Navigation, patient_id: str, *, service_id: str | None = None
) -> Referral:
    """A referral for the call made through the API, before the navigator decides."""
    referral, created = create_referral(
        session,
        {
            "service_id": service_id or navigation.recommended_service_id,
            "navigation_id": navigation.id,
            "patient_id": patient_id,
            "urgency": "urgent",
            "reason": "Referred by the 111 provider's system",
        },
        caller=API_NAVIGATOR,
        idempotency_key="api-key-1",
        index=directory_index(),
        gazetteer=GAZETTEER.get(),
        ack_minutes=ACK,
        now=utcnow(),
    )
    assert created
    return referral


def patients(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Patient)) or 0


def test_an_open_referral_made_through_the_api_is_the_handoff_not_a_second_one(
    session: Session, navigation: Navigation
) -> None:
    assert navigation.patient_id is not None
    made = _api_referral(session, navigation, navigation.patient_id)
    handoff = _handoff(session, navigation)
    assert handoff.referral is not None and handoff.referral.id == made.id
    assert not handoff.created
    assert referrals(session) == 1
    assert navigation.decision == "accepted"


def test_a_closed_referral_does_not_stop_a_new_one(
    session: Session, navigation: Navigation
) -> None:
    assert navigation.patient_id is not None
    made = _api_referral(session, navigation, navigation.patient_id)
    made.status = "rejected"  # e.g. no capacity: the call must still be handed over
    session.commit()
    handoff = _handoff(session, navigation)
    assert handoff.created and handoff.referral is not None and handoff.referral.id != made.id
    assert referrals(session) == 2


def test_the_calls_patient_is_the_one_its_api_referral_carries(
    session: Session, navigation: Navigation
) -> None:
    """The issue's fault: the console made a second patient, without the NHS number."""
    with transaction(session):
        held = find_or_create_patient(
            session,
            {"name": "Pat Example", "nhs_number": "9434765919"},
            actor="tests",
            gazetteer=GAZETTEER.get(),
        ).patient
        navigation.patient_id = None
    made = _api_referral(session, navigation, held.id)
    before = patients(session)
    assert call_patient_id(session, navigation) == held.id
    other = "ucr-two" if navigation.recommended_service_id == "ucr-one" else "ucr-one"
    handoff = _handoff(
        session, navigation, service_id=other, override_reason="Known to that team already."
    )
    assert handoff.created and handoff.referral is not None
    assert handoff.referral.patient_id == made.patient_id == held.id
    assert navigation.patient_id == held.id and patients(session) == before


# --- The override list after a fallback ------------------------------------------------------

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")
SUNDAY_NIGHT = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)  # 02:00 in London (GMT)
MONDAY_8AM = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def test_after_a_fallback_the_override_list_offers_the_rules_services_and_gaps(
    session: Session,
) -> None:
    """Issue 13 §8: after NHS 111 at night, the list offered only "Choose"."""
    hours = {"weekly": {day: [["08:00", "20:00"]] for day in WEEKDAYS}}
    load_directory(
        services=[
            service(id="ucr-near", name="UCR Near", opening=hours),
            service(id="ucr-far", name="UCR Far", opening=hours, lat=52.2, postcode="MK40 1AA"),
            service(id="ucr-luton", name="UCR Luton", opening=hours, places=["luton"]),
            service(id="ucr-shut", name="UCR Shut", status="temporarily_closed"),
            service(id="nhs-111-blmk", name="NHS 111 BLMK", service_type="nhs_111", needs=[]),
        ],
        organisations=[organisation()],
    )
    located = GAZETTEER.get().locate(parse_postcode("MK42 9DJ", allow_outward=False))
    with transaction(session):
        result = navigate(
            session,
            {
                "caller_role": "relative",
                "need": "fall_no_injury",
                "age": 80,
                "postcode": located,
                "at": SUNDAY_NIGHT,
            },
            created_by=NAVIGATOR.label,
            index=directory_index(),
            ruleset=RULESET.get(),
            vocab=VOCABULARY.get(),
            now=SUNDAY_NIGHT,
            stale_hours=stale_hours(),
        )
    navigation = session.get(Navigation, result["id"])
    assert navigation is not None
    assert (navigation.recommended_service_id, navigation.fallback) == ("nhs-111-blmk", "fallback")
    options = override_options(
        navigation,
        index=directory_index(),
        ruleset=RULESET.get(),
        gazetteer=GAZETTEER.get(),
        vocab=VOCABULARY.get(),
        red=set(),
        open_referrals={},
        now=SUNDAY_NIGHT,
    )
    # The recommended service and the closed one are not offered; the rest best first: the
    # near misses (closed now, the one criterion they fail), nearest first, then a service
    # that fails two criteria (closed, and covers Luton only).
    assert [o.service_id for o in options] == ["ucr-near", "ucr-far", "ucr-luton"]
    near, far, luton = options
    assert near.unsuitable == CRITERIA["open"] and luton.unsuitable is not None
    assert not near.open_now and near.opens_at == MONDAY_8AM
    assert near.distance_km is not None and far.distance_km is not None
    assert near.distance_km < far.distance_km
    assert near.place == "Bedford"
    assert "closed, opens Monday 23 November, 8am" in near.label and "Bedford" in near.label
    gap_ids = {gap["service_id"] for gap in navigation.result["gaps"]}
    assert {"ucr-near", "ucr-far"} <= gap_ids  # the gap services are all offered


def test_after_999_the_override_list_offers_other_ambulance_services_and_the_fallbacks(
    session: Session,
) -> None:
    load_directory(
        services=[
            service(id="ambulance", name="Ambulance", service_type="ambulance_999", needs=[]),
            service(
                id="ed-bedford", name="ED Bedford", service_type="emergency_department", needs=[]
            ),
            service(id="ucr-one", name="UCR One"),  # not a type the red-flag rule names
        ],
        organisations=[organisation()],
    )
    located = GAZETTEER.get().locate(parse_postcode("MK42 9DJ", allow_outward=False))
    now = utcnow()
    with transaction(session):
        result = navigate(
            session,
            {
                "caller_role": "relative",
                "red_flags": ["chest_pain"],
                "postcode": located,
                "at": now,
            },
            created_by=NAVIGATOR.label,
            index=directory_index(),
            ruleset=RULESET.get(),
            vocab=VOCABULARY.get(),
            now=now,
            stale_hours=stale_hours(),
        )
    navigation = session.get(Navigation, result["id"])
    assert navigation is not None and navigation.recommended_service_id == "ambulance"
    options = override_options(
        navigation,
        index=directory_index(),
        ruleset=RULESET.get(),
        gazetteer=GAZETTEER.get(),
        vocab=VOCABULARY.get(),
        red=set(),
        open_referrals={},
        now=now,
    )
    assert [o.service_id for o in options] == ["ed-bedford"]
    assert options[0].open_now and options[0].unsuitable is None
