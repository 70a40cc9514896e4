"""`navigator demo --activity` (issue 17 §4): a month of synthetic BLMK activity made through
the services, so a first run shows the product.

Protects: every referral status, rejection reason, DTOC reason code, transition type and
capacity state is present; every NHS number is valid and in the range the NHS reserves for
testing (999 000 0000 - 999 999 9999; the check digit per the NHS Data Dictionary, as in
../shared/domain/dtoc-and-cisp.md); the CISP dashboard's measures for the month are not zero;
the same seed gives the same activity; a database holding a patient the demo did not create is
refused with nothing written, and so is one holding any activity the demo did not make (review
of issue 17: a real call through the API with no NHS number and no patient, a real provider's
capacity report); a second run on a demo database adds only what is new.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from navigator.auth.keys import create_api_client
from navigator.auth.models import ApiClient
from navigator.cli.demo_activity import (
    ActivityRefused,
    app_settings,
    generate_activity,
    nhs_check_digit,
    refusal,
)
from navigator.core.clock import local_month, to_local
from navigator.core.db import transaction, utcnow
from navigator.core.extensions import db
from navigator.core.identifiers import normalise_nhs_number
from navigator.core.reference import GAZETTEER
from navigator.directory import index as directory_index
from navigator.directory.capacity import capacities
from navigator.directory.models import ServiceCapacity
from navigator.metrics.service import compute
from navigator.navigation.models import Navigation
from navigator.patients.models import AuditEvent, Patient
from navigator.patients.service import find_or_create_patient
from navigator.referrals.models import Referral, ReferralEvent
from navigator.referrals.service import REJECTION_REASONS, STATUSES
from navigator.sms.models import CallbackTask, SmsMessage, SmsReply
from navigator.transitions.dtoc import REASONS
from navigator.transitions.models import DtocEpisode, DtocInterval, TransitionEvent
from navigator.transitions.service import TYPES
from tests.cli.conftest import run
from tests.conftest import PROJECT_ROOT, _empty_all_tables

BLMK_PLACES = ("bedford", "central_bedfordshire", "luton", "milton_keynes")


@pytest.fixture
def blmk(app: Flask) -> None:
    """The shipped BLMK directory, loaded as scripts/run loads it."""
    run(app, "directory", "load", str(PROJECT_ROOT / "directory_of_services" / "blmk"))


def _generate(session: Session, **kwargs: Any) -> Any:
    with transaction(session):
        return generate_activity(session, app_settings(), **kwargs)


def test_nhs_check_digit_follows_the_data_dictionary() -> None:
    # The worked example in ../shared/domain/dtoc-and-cisp.md: 943 476 5919 is valid.
    assert nhs_check_digit("943476591") == 9
    assert normalise_nhs_number("9434765919") == "9434765919"


def test_a_month_of_activity_has_every_status_reason_and_non_zero_dashboard(
    app: Flask, blmk: None
) -> None:
    output = run(app, "demo", "--activity")
    assert "calls" in output and "Demo credentials" in output
    with app.app_context():
        session = db.session()
        now = utcnow()

        # Synthetic people only: every NHS number valid and in the NHS's test range.
        numbers = list(session.scalars(select(Patient.nhs_number)))
        numbers += list(session.scalars(select(Navigation.nhs_number)))
        assert len(numbers) > 300
        for number in numbers:
            assert number is not None and normalise_nhs_number(number) == number
            assert 9_990_000_000 <= int(number) <= 9_999_999_999
        # Every patient's creation is audited to the demo: the database stays "the demo's".
        assert refusal(session) is None
        creators = session.scalars(
            select(AuditEvent.actor).where(
                AuditEvent.entity == "patient", AuditEvent.action == "create"
            )
        )
        assert {actor.split(":")[2].split("-")[0] for actor in creators} == {"demo"}

        # Calls across the four places, every caller role, red flags among them.
        calls = session.execute(select(Navigation.place, Navigation.caller_role)).all()
        assert {place for place, _ in calls} >= set(BLMK_PLACES)
        assert {role for _, role in calls} == {
            "care_home",
            "relative",
            "public",
            "professional",
            "nhs111",
        }
        assert session.scalar(select(func.count()).where(Navigation.urgency == "emergency")), (
            "red-flag calls answered with 999"
        )
        # Calls follow the day: more between 08:00 and 20:00 (London) than in the night.
        hours = Counter(to_local(at).hour for at in session.scalars(select(Navigation.called_at)))
        day = sum(n for h, n in hours.items() if 8 <= h < 20)
        assert day > 3 * (sum(hours.values()) - day)

        # Referrals in every status; rejections with every coded reason.
        statuses = Counter(session.scalars(select(Referral.status)))
        assert set(statuses) == set(STATUSES), statuses
        reasons = set(
            session.scalars(
                select(ReferralEvent.reason).where(ReferralEvent.to_status == "rejected")
            )
        )
        assert reasons == set(REJECTION_REASONS)

        # Transitions of every type but transfers; DTOC across every reason code, with some
        # delays still open and a reason changed during one.
        types = set(session.scalars(select(TransitionEvent.type)))
        assert types == set(TYPES) - {"transfer"}
        assert set(session.scalars(select(DtocInterval.reason))) == set(REASONS)
        assert session.scalar(select(func.count()).where(DtocInterval.effective_at.is_not(None))), (
            "a reason changed during a delay"
        )
        open_delays = session.scalar(
            select(func.count()).where(DtocEpisode.transferred_at.is_(None))
        )
        assert open_delays and open_delays < session.scalar(select(func.count(DtocEpisode.id)))

        # Follow-up texts delivered and answered; call-backs done and some still to do.
        assert session.scalar(select(func.count()).where(SmsMessage.status == "delivered"))
        assert {"well", "free_text"} <= set(session.scalars(select(SmsReply.kind)))
        assert {"done", "open"} <= set(session.scalars(select(CallbackTask.status)))

        # The directory shows real capacity: green, amber and red now, some stale, most
        # reported in the last few hours, and services that never reported.
        ids = [e.id for e in app_settings().index.entries if e.active]
        shown = capacities(session, ids, now, app_settings().stale_hours).values()
        assert {c.status for c in shown} == {"green", "amber", "red"}
        reported = [c for c in shown if c.updated_at is not None]
        assert any(c.stale for c in reported)
        assert sum(not c.stale for c in reported) > len(reported) / 2
        assert len(reported) == session.scalar(select(func.count(ServiceCapacity.service_id)))
        assert len(reported) < len(ids)

        # The CISP dashboard (the console's measures and the API's) is not zero for the month.
        month = local_month(now - timedelta(days=15))
        with transaction(session):
            rows = compute(session, month, month, None)["rows"]
        blmk = next(r for r in rows if r["place"] == "blmk")
        for measure in (
            "ae_attendances",
            "ae_rate_per_1000",
            "nel_admissions",
            "nel_rate_per_1000",
            "discharges",
            "dtoc_delayed_days",
            "dtoc_beds",
            "care_home_call_outs",
            "care_home_conveyances",
            "conveyance_rate",
            "navigations",
            "pct_away_from_ed",
            "referrals_sent",
            "referrals_accepted",
            "referrals_rejected",
            "referrals_overdue",
            "median_minutes_to_accept",
        ):
            assert blmk[measure], measure
        assert sum(blmk["dtoc_delayed_days_by_reason"].values()) == blmk["dtoc_delayed_days"]
        for place in BLMK_PLACES:
            row = next(r for r in rows if r["place"] == place)
            assert row["navigations"] and row["ae_attendances"], place


def _fingerprint(session: Session) -> dict[str, list[Any]]:
    """What the activity is, without its random ids."""
    patients = {p.id: p.nhs_number for p in session.scalars(select(Patient))}
    return {
        "patients": sorted(
            session.execute(select(Patient.nhs_number, Patient.name, Patient.date_of_birth)).all()
        ),
        "calls": sorted(
            session.execute(
                select(
                    Navigation.called_at,
                    Navigation.nhs_number,
                    Navigation.need,
                    Navigation.urgency,
                    Navigation.recommended_service_id,
                    Navigation.decision,
                )
            ).all(),
            key=str,
        ),
        "referrals": sorted(
            (patients[r.patient_id], r.service_id, r.status, r.created_at)
            for r in session.scalars(select(Referral))
        ),
        "transitions": sorted(
            (patients[t.patient_id], t.type, t.occurred_at)
            for t in session.scalars(select(TransitionEvent))
        ),
        "delays": sorted(
            (patients[e.patient_id], e.ready_at, e.transferred_at)
            for e in session.scalars(select(DtocEpisode))
        ),
        "texts": sorted(session.execute(select(SmsMessage.due_at, SmsMessage.status)).all()),
        "capacity": sorted(
            session.execute(
                select(
                    ServiceCapacity.service_id, ServiceCapacity.status, ServiceCapacity.updated_at
                )
            ).all()
        ),
    }


def test_the_same_seed_gives_the_same_activity_and_another_seed_another(
    app: Flask, blmk: None, database_url: str
) -> None:
    now = utcnow().replace(microsecond=0)
    prints = []
    for seed in (5, 5, 6):
        _empty_all_tables(database_url)
        directory_index._cache.clear()
        run(app, "directory", "load", str(PROJECT_ROOT / "directory_of_services" / "blmk"))
        with app.app_context():
            _generate(db.session(), seed=seed, now=now, days=4)
            prints.append(_fingerprint(db.session()))
            db.session.remove()
    assert prints[0]["calls"] and prints[0]["referrals"] and prints[0]["transitions"]
    assert prints[0] == prints[1]
    assert prints[0]["patients"] != prints[2]["patients"]


def test_a_database_with_a_patient_the_demo_did_not_create_is_refused(
    app: Flask, blmk: None
) -> None:
    with app.app_context():
        session = db.session()
        with transaction(session):
            find_or_create_patient(
                session,
                {"nhs_number": "9434765919", "name": "A Real Person"},
                actor="user:1:navigator@nhs.example",
                gazetteer=GAZETTEER.get(),
            )
        db.session.remove()
    result = app.test_cli_runner().invoke(args=["demo", "--activity"])
    assert result.exit_code == 1
    assert "Demo activity refused" in result.output
    assert "1 patient record(s) that the demo did not create" in result.output
    with app.app_context():
        session = db.session()
        assert session.scalar(select(func.count(Navigation.id))) == 0
        assert session.scalar(select(func.count(Patient.id))) == 1
        with pytest.raises(ActivityRefused):
            _generate(session, seed=1, now=utcnow(), days=1)


def test_a_second_run_adds_only_what_happened_since_the_demos_latest_call(
    app: Flask, blmk: None
) -> None:
    now = utcnow()
    with app.app_context():
        session = db.session()
        _generate(session, seed=3, now=now - timedelta(days=1), days=2)
        first = session.scalar(select(func.count(Navigation.id)))
        latest = session.scalar(select(func.max(Navigation.called_at)))
        made = _generate(session, seed=3, now=now, days=30)
        assert made.start > latest and made.start < now - timedelta(hours=20)
        calls = session.execute(select(Navigation.called_at, Navigation.nhs_number)).all()
        assert len(calls) > first
        # New people, not the same month again.
        numbers = [n for _, n in calls]
        assert len(numbers) == len(set(numbers))
        assert session.scalar(select(func.count()).where(Navigation.called_at > latest))
        assert refusal(session) is None


def _refused_with_nothing_written(app: Flask, expected: str) -> None:
    """`demo --activity` exits 1 naming `expected`, and leaves the counts as they were."""
    tables = (Navigation, Patient, Referral, TransitionEvent, DtocEpisode, SmsMessage)
    with app.app_context():
        before = [db.session.scalar(select(func.count()).select_from(t)) for t in tables]
        before_capacity = db.session.scalar(select(func.count(ServiceCapacity.service_id)))
        db.session.remove()
    result = app.test_cli_runner().invoke(args=["demo", "--activity"])
    assert result.exit_code == 1, result.output
    assert "Demo activity refused" in result.output and expected in result.output
    with app.app_context():
        after = [db.session.scalar(select(func.count()).select_from(t)) for t in tables]
        assert after == before
        assert db.session.scalar(select(func.count(ServiceCapacity.service_id))) == (
            before_capacity
        )
        db.session.remove()


def test_a_real_call_with_no_nhs_number_and_no_patient_is_refused(
    app: Flask, blmk: None, client: FlaskClient, auth: dict[str, dict[str, str]]
) -> None:
    """The review's reproduction (/tmp/review/cli_probes.py): a call through the API naming
    nobody used to pass the check, and the demo then added 200 synthetic calls beside it."""
    body = {
        "caller_role": "relative",
        "need": "fall_no_injury",
        "age": 88,
        "postcode": "MK42 9DJ",
        "case_ref": "REAL-1",
    }
    response = client.post("/api/v1/navigations", json=body, headers=auth["integrator"])
    assert response.status_code == 201, response.json
    with app.app_context():
        assert db.session.scalar(select(func.count(Patient.id))) == 0
        assert "1 call(s) that the demo did not make" in (refusal(db.session()) or "")
        db.session.remove()
    _refused_with_nothing_written(app, "1 call(s) that the demo did not make")


def test_a_real_providers_capacity_report_is_refused(
    app: Flask, blmk: None, client: FlaskClient, auth: dict[str, dict[str, str]]
) -> None:
    """A provider's report (`updated_by` its own API client) is real capacity: the demo must
    not report synthetic capacity over it."""
    service = next(
        e for e in app_settings_index(app) if e.active and e.organisation.get("ods_code") == "RC9"
    )
    response = client.put(
        f"/api/v1/services/{service.id}/capacity",
        json={"status": "amber", "note": "Two beds left."},
        headers=auth["provider"],
    )
    assert response.status_code == 200, response.json
    _refused_with_nothing_written(app, "1 capacity report(s) that the demo did not make")


def test_a_live_client_named_as_the_demo_is_not_the_demo(app: Flask, blmk: None) -> None:
    """Only the demo's revoked clients are the demo: the demo never acts as a usable key that
    happens to be named "demo-activity", so what such a key records is never taken for the
    demo's."""
    with app.app_context():
        session = db.session()
        with transaction(session):
            create_api_client(session, name="demo-activity", role="navigator")
            assert refusal(session) is None  # it has done nothing yet
            _generate(session, seed=2, now=utcnow(), days=1)
        # The demo made its own (revoked) client and acted as that, not as the live one.
        assert refusal(session) is None
        labels = set(session.scalars(select(Navigation.created_by)))
        live = session.scalar(
            select(func.min(ApiClient.id)).where(
                ApiClient.name == "demo-activity", ApiClient.revoked_at.is_(None)
            )
        )
        assert labels and all(not label.startswith(f"api:{live}:") for label in labels)
        db.session.remove()


def app_settings_index(app: Flask) -> Any:
    with app.app_context():
        return app_settings().index.entries
