"""The referral rules said once: "overdue" picks the same referrals in SQL (the `overdue=true`
list, the CISP count) as on a loaded referral (its `overdue` flag, the console's list; hazard
H14), and "the call's open referrals" is one query, whole or for one service (H24)."""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from navigator.core.clock import local_month
from navigator.core.db import utcnow
from navigator.core.reference import GAZETTEER
from navigator.navigation.models import Navigation
from navigator.patients.service import find_or_create_patient
from navigator.referrals.models import Referral
from navigator.referrals.service import (
    OPEN,
    STATUSES,
    is_overdue,
    open_referrals,
    overdue_clause,
)
from tests.builders import load_directory, organisation, service


@pytest.fixture
def patient_id(session: Session) -> str:
    load_directory(
        organisations=[organisation()],
        services=[service(id="ucr-one"), service(id="ucr-two")],
    )
    patient = find_or_create_patient(
        session, {"name": "Pat Example"}, actor="tests", gazetteer=GAZETTEER.get()
    ).patient
    session.flush()
    return patient.id


def _referral(
    patient_id: str,
    *,
    status: str,
    due_by: datetime,
    acknowledged_at: datetime | None = None,
    service_id: str = "ucr-one",
    navigation_id: str | None = None,
    created_at: datetime | None = None,
) -> Referral:
    created = created_at or due_by - timedelta(minutes=30)
    return Referral(
        id=str(uuid.uuid4()),
        navigation_id=navigation_id,
        service_id=service_id,
        patient_id=patient_id,
        reason="Fall without injury",
        urgency="urgent",
        consent=True,
        status=status,
        created_at=created,
        local_month=local_month(created),
        created_by="tests",
        client_id="tests",
        request_hash="0" * 64,
        due_by=due_by,
        acknowledged_at=acknowledged_at,
        updated_at=created,
    )


def test_the_overdue_list_and_the_overdue_flag_pick_the_same_referrals(
    session: Session, patient_id: str
) -> None:
    now = utcnow().replace(microsecond=0)
    # Every status, answered or not, due a minute ago, exactly now, or in a minute.
    for status, answered, due_in in itertools.product(STATUSES, (False, True), (-1, 0, 1)):
        session.add(
            _referral(
                patient_id,
                status=status,
                due_by=now + timedelta(minutes=due_in),
                acknowledged_at=now - timedelta(hours=1) if answered else None,
            )
        )
    session.flush()
    session.expire_all()  # read back what the database holds, as the views do
    every = session.scalars(select(Referral)).all()
    in_sql = set(session.scalars(select(Referral.id).where(overdue_clause(now))))
    in_python = {r.id for r in every if is_overdue(r, now)}
    assert in_sql == in_python
    # And the rule itself: unanswered, still sent or on hold, and past due.
    assert sorted(r.status for r in every if r.id in in_sql) == ["on_hold", "sent"]
    assert all(r.acknowledged_at is None and r.due_by < now for r in every if r.id in in_sql)


def test_open_referrals_for_one_service_are_the_calls_open_referrals_to_it(
    session: Session, patient_id: str
) -> None:
    now = utcnow()
    call = Navigation(
        id=str(uuid.uuid4()),
        created_by="tests",
        called_at=now,
        local_month=local_month(now),
        caller_role="relative",
        postcode="MK42 9DJ",
        urgency="urgent",
        rules_version="test",
        rule_id="test",
        result={},
    )
    session.add(call)
    session.flush()
    for minutes, (status, service_id) in enumerate(
        itertools.product(("sent", "accepted", "rejected", "completed"), ("ucr-one", "ucr-two"))
    ):
        session.add(
            _referral(
                patient_id,
                status=status,
                due_by=now + timedelta(minutes=30),
                service_id=service_id,
                navigation_id=call.id,
                created_at=now + timedelta(minutes=minutes),
            )
        )
    session.flush()
    every = open_referrals(session, call.id)
    assert {(r.status, r.service_id) for r in every} == {
        (status, service_id)
        for status in ("sent", "accepted")
        for service_id in ("ucr-one", "ucr-two")
    }
    assert all(r.status in OPEN for r in every)
    assert [r.created_at for r in every] == sorted(r.created_at for r in every)  # oldest first
    for service_id in ("ucr-one", "ucr-two"):
        assert open_referrals(session, call.id, service_id=service_id) == [
            r for r in every if r.service_id == service_id
        ]
    assert open_referrals(session, call.id, service_id="ucr-three") == []
