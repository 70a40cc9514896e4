"""Accepting or overriding a recommendation: reasons required, one referral, one decision."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from navigator.auth.keys import Caller
from navigator.db import transaction, utcnow
from navigator.directory.context import directory_index, gazetteer, stale_hours, vocabulary
from navigator.directory.places import parse_postcode
from navigator.errors import Problem
from navigator.navigation.decisions import decide, override_counts, recent_overrides
from navigator.navigation.models import Navigation
from navigator.navigation.service import navigate
from navigator.patients.service import find_or_create_patient
from navigator.referrals.models import Referral
from navigator.rules.context import current_ruleset
from tests.builders import load_directory, organisation, service

NAVIGATOR = Caller(7, "navigator@test", "navigator", None, kind="user")


@pytest.fixture
def navigation(session: Session) -> Navigation:
    load_directory(
        services=[service(id="ucr-one"), service(id="ucr-two", lat=52.2)],
        organisations=[organisation()],
    )
    located = gazetteer().locate(parse_postcode("MK42 9DJ", allow_outward=False))
    with transaction(session):
        patient = find_or_create_patient(
            session, {"name": "Pat Example"}, actor="tests", gazetteer=gazetteer()
        ).patient
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
            ruleset=current_ruleset(),
            vocab=vocabulary(),
            now=utcnow(),
            stale_hours=stale_hours(),
        )
        row = session.get(Navigation, result["id"])
        assert row is not None
        row.patient_id = patient.id
    return row


def _decide(session: Session, navigation: Navigation, **kwargs: object) -> Referral | None:
    return decide(
        session,
        navigation,
        caller=NAVIGATOR,
        index=directory_index(),
        gazetteer=gazetteer(),
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
