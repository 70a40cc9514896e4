"""The same new patient sent by many requests at the same moment: one person, one id (issue 13
§5), and never a 500 (issue 12 §5).

Eight threads wait at a barrier, then send the same new NHS number through every API path
that can create a patient, from several API clients at once. Each race must end with exactly
one patient, exactly one `patient_sources` row per client that sent it, every request
answered 2xx, and every answer naming that one patient. On PostgreSQL a loser of the unique
constraint on `patients.nhs_number` or `patient_sources (patient_id, client_ref)` used to get
a 500 `IntegrityError` (clinical review of issue 13, finding F8); the suite runs these on
SQLite and on PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from navigator.core.db import transaction
from navigator.core.extensions import db
from navigator.core.reference import GAZETTEER
from navigator.patients.models import Patient, PatientSource
from navigator.patients.service import find_or_create_patient
from navigator.referrals.models import Referral
from navigator.transitions.models import DtocEpisode, TransitionEvent
from tests.builders import load_directory, organisation, service

Auth = dict[str, dict[str, str]]
THREADS = 8
NHS_NUMBER = "9434765919"
PATIENT = {
    "nhs_number": NHS_NUMBER,
    "name": "Ada Example",
    "date_of_birth": "1941-03-02",
    "postcode": "MK42 9DJ",
}


def race(
    app: Flask, auth: Auth, roles: tuple[str, ...], send: Callable[[Any, dict[str, str], int], Any]
) -> list[tuple[int, Any]]:
    """Run `send(client, headers, i)` in THREADS threads released together; the clients take
    turns through `roles`. Returns (status, JSON body) per request."""
    barrier = threading.Barrier(THREADS)

    def one(i: int) -> tuple[int, Any]:
        client = app.test_client()
        barrier.wait(timeout=30)
        response = send(client, auth[roles[i % len(roles)]], i)
        return response.status_code, response.get_json()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(one, range(THREADS)))


def assert_one_patient(session: Session, results: list[tuple[int, Any]], clients: int) -> str:
    """No 5xx (nor any error); one patient for the NHS number; one source row per client."""
    statuses = sorted(status for status, _ in results)
    assert all(200 <= status < 300 for status in statuses), results
    patients = session.scalars(select(Patient).where(Patient.nhs_number == NHS_NUMBER)).all()
    assert len(patients) == 1
    sources = session.scalars(
        select(PatientSource.client_ref).where(PatientSource.patient_id == patients[0].id)
    ).all()
    assert len(sources) == len(set(sources)) == clients
    return patients[0].id


@pytest.fixture
def directory(app_ctx: Any) -> None:
    load_directory(
        organisations=[organisation(id="rc9", ods_code="RC9")],
        services=[service(id="ucr", organisation="rc9")],
    )


@pytest.mark.parametrize("roles", [("navigator",), ("navigator", "integrator", "admin")])
def test_post_patients_at_once_gives_one_patient_and_no_500(
    app: Flask, auth: Auth, session: Session, roles: tuple[str, ...]
) -> None:
    results = race(
        app, auth, roles, lambda c, h, _: c.post("/api/v1/patients", json=PATIENT, headers=h)
    )
    ident = assert_one_patient(session, results, clients=len(roles))
    assert {body["id"] for _, body in results} == {ident}
    # Exactly one request created the record; a client that did not create it and may not
    # see it is told 201 only the first time it sends the patient (need-to-know).
    assert sum(1 for status, body in results if status == 201 and body["name"]) >= 1, results


def test_inline_patients_on_post_dtoc_at_once_give_one_patient(
    app: Flask, auth: Auth, session: Session
) -> None:
    ready = "2025-01-06T10:00:00+00:00"
    body = {
        "patient": PATIENT,
        "provider_ods": "RC9",
        "care_type": "acute",
        "clinically_ready_at": ready,
        "mdt_ready_at": ready,
        "safe_to_transfer_at": ready,
        "reason": "E",
        "responsible": "nhs",
    }
    roles = ("navigator", "provider", "admin")
    results = race(app, auth, roles, lambda c, h, _: c.post("/api/v1/dtoc", json=body, headers=h))
    ident = assert_one_patient(session, results, clients=len(roles))
    assert {body["patient_id"] for _, body in results} == {ident}
    assert session.scalar(select(func.count()).select_from(DtocEpisode)) == THREADS


def test_inline_patients_on_post_transitions_at_once_give_one_patient(
    app: Flask, auth: Auth, session: Session
) -> None:
    def send(client: Any, headers: dict[str, str], i: int) -> Any:
        body = {
            "event_id": f"event-{i}",
            "type": "nel_admission" if i % 2 else "discharge",
            "occurred_at": f"2025-01-{i + 1:02d}T10:00:00+00:00",
            "patient": PATIENT,
            "organisation": "RC9",
        } | ({} if i % 2 else {"pathway": "1"})
        return client.post("/api/v1/transitions", json=body, headers=headers)

    roles = ("integrator", "navigator", "provider", "admin")
    results = race(app, auth, roles, send)
    ident = assert_one_patient(session, results, clients=len(roles))
    assert {body["patient_id"] for _, body in results} == {ident}
    assert session.scalar(select(func.count()).select_from(TransitionEvent)) == THREADS


def test_the_same_transition_event_at_once_records_once(
    app: Flask, auth: Auth, session: Session
) -> None:
    body = {
        "event_id": "same-event",
        "type": "nel_admission",
        "occurred_at": "2025-01-06T10:00:00+00:00",
        "patient": PATIENT,
        "organisation": "RC9",
    }
    results = race(
        app,
        auth,
        ("integrator",),
        lambda c, h, _: c.post("/api/v1/transitions", json=body, headers=h),
    )
    assert_one_patient(session, results, clients=1)
    assert [status for status, _ in results].count(201) == 1
    assert len({body["id"] for _, body in results}) == 1
    assert session.scalar(select(func.count()).select_from(TransitionEvent)) == 1


def test_inline_patients_on_post_referrals_at_once_give_one_patient(
    app: Flask, auth: Auth, session: Session, directory: None
) -> None:
    body = {
        "service_id": "ucr",
        "patient": PATIENT,
        "reason": "Fall without injury",
        "urgency": "urgent",
        "consent": True,
    }
    roles = ("integrator", "navigator", "admin")
    results = race(
        app, auth, roles, lambda c, h, _: c.post("/api/v1/referrals", json=body, headers=h)
    )
    ident = assert_one_patient(session, results, clients=len(roles))
    assert {body["patient_id"] for _, body in results} == {ident}
    assert session.scalar(select(func.count()).select_from(Referral)) == THREADS


def test_the_same_idempotency_key_and_new_nhs_number_at_once_give_one_referral(
    app: Flask, auth: Auth, session: Session, directory: None
) -> None:
    body = {
        "service_id": "ucr",
        "patient": PATIENT,
        "reason": "Fall without injury",
        "urgency": "urgent",
        "consent": True,
    }
    results = race(
        app,
        auth,
        ("integrator",),
        lambda c, h, _: c.post(
            "/api/v1/referrals", json=body, headers=h | {"Idempotency-Key": "same-key"}
        ),
    )
    assert_one_patient(session, results, clients=1)
    assert [status for status, _ in results].count(201) == 1
    assert session.scalar(select(func.count()).select_from(Referral)) == 1


def test_post_navigations_with_an_nhs_number_at_once_create_no_patient(
    app: Flask, auth: Auth, session: Session
) -> None:
    """`POST /navigations` keeps the NHS number on the navigation only: it never creates a
    patient, so it has no patient race to lose; the same calls at once all succeed."""
    body = {
        "caller_role": "care_home",
        "need": "fall_no_injury",
        "age": 84,
        "sex": "female",
        "postcode": "MK42 9AA",
        "lives_in_care_home": True,
        "nhs_number": NHS_NUMBER,
    }
    results = race(
        app,
        auth,
        ("integrator", "navigator"),
        lambda c, h, _: c.post("/api/v1/navigations", json=body, headers=h),
    )
    assert [status for status, _ in results] == [201] * THREADS, results
    assert session.scalar(select(func.count()).select_from(Patient)) == 0


def test_find_or_create_patient_at_once_from_console_users_gives_one_patient(
    app: Flask, session: Session
) -> None:
    """The console's paths (a call's patient, the hand-off to a referral) call
    `find_or_create_patient` directly, each in its own request's transaction."""
    barrier = threading.Barrier(THREADS)

    def one(i: int) -> str:
        with app.app_context():
            own = db.session()
            barrier.wait(timeout=30)
            with transaction(own):
                result = find_or_create_patient(
                    own,
                    PATIENT | {"date_of_birth": date(1941, 3, 2)},
                    actor=f"console:{i}",
                    gazetteer=GAZETTEER.get(),
                    client_ref=f"user:{i % 2}",
                )
            ident = result.patient.id
            db.session.remove()
            return ident

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        idents = list(pool.map(one, range(THREADS)))
    ident = assert_one_patient(session, [(200, None)] * THREADS, clients=2)
    assert set(idents) == {ident}
