"""Need-to-know access to patient data (issue 12 §2; NHS DSPT need-to-know, OWASP ASVS 4.0.3
V4.2.1 "protected against insecure direct object references").

Two integrators (A, B) and two providers (RC9, RD8, each owning one service of a test
directory), every operation, both directions: a client sees a patient's demographics only
where it has a legitimate need, and where it may not see a record the answer is 404, exactly
as for an id that does not exist.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from navigator.auth.keys import Caller
from navigator.core.extensions import db
from navigator.directory.reference import directory_index
from navigator.patients.models import AuditEvent, Patient, PatientSource
from navigator.patients.need_to_know import (
    may_see_patient,
    provider_needs_patient,
)
from navigator.patients.shown import visible_patient_dict
from tests.builders import api_key_for, load_directory, organisation, service

HELD = {
    "nhs_number": "9434765919",
    "name": "Ada Held-Record",
    "date_of_birth": "1941-03-02",
    "sex": "female",
    "postcode": "MK42 9DJ",
    "gp_practice_ods": "E81001",
}
# What A's demographics look like in a response body; none may reach another client.
HELD_VALUES = ("Ada Held-Record", "1941-03-02", "MK42 9DJ", "E81001", "bedford")
OTHER_NHS = "4010232137"


@dataclass
class Keys:
    """Authorization headers per client."""

    a: dict[str, str]  # integrator A
    b: dict[str, str]  # integrator B
    rc9: dict[str, str]  # provider owning service "ucr-rc9"
    rd8: dict[str, str]  # provider owning service "ucr-rd8"
    navigator: dict[str, str]
    admin: dict[str, str]


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def keys(app: Flask) -> Keys:
    with app.app_context():
        load_directory(
            organisations=[
                organisation(id="rc9", ods_code="RC9"),
                organisation(id="rd8", ods_code="RD8"),
            ],
            services=[
                service(id="ucr-rc9", organisation="rc9"),
                service(id="ucr-rd8", organisation="rd8"),
            ],
        )
        made = Keys(
            a=bearer(api_key_for(role="integrator", name="integrator-a")),
            b=bearer(api_key_for(role="integrator", name="integrator-b")),
            rc9=bearer(api_key_for(role="provider", organisation_ods="RC9", name="trust-rc9")),
            rd8=bearer(api_key_for(role="provider", organisation_ods="RD8", name="trust-rd8")),
            navigator=bearer(api_key_for(role="navigator")),
            admin=bearer(api_key_for(role="admin")),
        )
        db.session.remove()
    return made


def create_patient(client: FlaskClient, who: dict[str, str], body: dict[str, Any]) -> Any:
    return client.post("/api/v1/patients", json=body, headers=who)


def get_patient(client: FlaskClient, who: dict[str, str], ident: str) -> Any:
    return client.get(f"/api/v1/patients/{ident}", headers=who)


def refer(client: FlaskClient, who: dict[str, str], service_id: str, **patient: Any) -> Any:
    body = {
        "service_id": service_id,
        "reason": "Fall without injury",
        "urgency": "urgent",
        "consent": True,
    } | patient
    return client.post("/api/v1/referrals", json=body, headers=who)


def dtoc_body(provider_ods: str, **patient: Any) -> dict[str, Any]:
    ready = "2026-01-30T10:00:00Z"
    return {
        "provider_ods": provider_ods,
        "care_type": "acute",
        "clinically_ready_at": ready,
        "mdt_ready_at": ready,
        "safe_to_transfer_at": ready,
        "reason": "E",
        "responsible": "social_care",
    } | (patient or {"patient": HELD})


def leaks(response: Any) -> list[str]:
    """Which of the held record's values appear anywhere in a response body."""
    text = json.dumps(response.json)
    return [value for value in HELD_VALUES if value in text]


# --- Patients -------------------------------------------------------------------------------


# Run in a fresh interpreter: the links the app alone declares, whatever this test run imported.
DECLARED_BY_THE_APP = """
import json, sys
from navigator import create_app
create_app(json.loads(sys.argv[1]))
from navigator.patients.need_to_know import PROVIDER_LINKS
print(json.dumps(sorted(PROVIDER_LINKS)))
"""


def test_both_ways_a_provider_comes_to_need_a_patient_are_declared(app: Flask) -> None:
    """The provider links are declared by the referrals and transitions packages (patients sits
    below them in the layers); the rule fails closed, so a link left undeclared would silently
    hide a referred or delayed patient from the provider who must act (hazard H27). Checked in
    a new process that only creates the app: in this one, any test's import may have declared
    them, and `create_app` must do it on its own."""
    config = {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], "TESTING": True}
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", DECLARED_BY_THE_APP, json.dumps(config | {"SECRET_KEY": "x"})],
        capture_output=True,
        text=True,
        check=True,
        env=os.environ,
    )
    assert set(json.loads(done.stdout)) == {"referral", "dtoc_episode"}


def test_an_integrator_reads_only_patients_it_sent_both_directions(
    client: FlaskClient, keys: Keys
) -> None:
    mine = create_patient(client, keys.a, HELD)
    assert mine.status_code == 201
    theirs = create_patient(client, keys.b, {"name": "Bea Other", "nhs_number": OTHER_NHS})
    assert theirs.status_code == 201
    a_id, b_id = mine.json["id"], theirs.json["id"]

    assert get_patient(client, keys.a, a_id).json["name"] == "Ada Held-Record"
    assert get_patient(client, keys.b, b_id).json["name"] == "Bea Other"
    for who, ident in ((keys.b, a_id), (keys.a, b_id)):
        response = get_patient(client, who, ident)
        unknown = get_patient(client, who, "no-such-patient")
        # Exactly as for an id that does not exist, so existence is not confirmed.
        assert response.status_code == unknown.status_code == 404
        assert response.json["detail"].replace(ident, "X") == unknown.json["detail"].replace(
            "no-such-patient", "X"
        )
    # Providers with no referral or DTOC episode for either patient see neither.
    for provider in (keys.rc9, keys.rd8):
        assert get_patient(client, provider, a_id).status_code == 404
        assert get_patient(client, provider, b_id).status_code == 404
    # Navigators and admins see every patient.
    assert get_patient(client, keys.navigator, b_id).json["name"] == "Bea Other"
    assert get_patient(client, keys.admin, a_id).json["postcode"] == "MK42 9DJ"


def test_posting_a_held_nhs_number_links_without_disclosing_then_or_later(
    client: FlaskClient, keys: Keys
) -> None:
    held = create_patient(client, keys.a, HELD).json
    sent = {"nhs_number": "943 476 5919", "name": "A Different Name"}

    linked = create_patient(client, keys.b, sent)
    # One person, one id; but nothing of A's record, nor how it differs.
    assert linked.json["id"] == held["id"]
    assert leaks(linked) == [] and linked.json["warnings"] == []
    assert linked.json["name"] == "A Different Name"
    assert linked.json["nhs_number"] == "9434765919"  # what B itself sent
    assert linked.json["date_of_birth"] is None and linked.json["postcode"] is None
    # 201 "new to you": the status does not say navigator already held the NHS number.
    assert linked.status_code == 201
    assert create_patient(client, keys.b, sent).status_code == 200  # B's own repeat

    later = get_patient(client, keys.b, held["id"])  # POST then GET is not the same leak
    assert later.status_code == 200 and leaks(later) == []
    assert later.json["name"] == "A Different Name"
    # The other direction: A still sees its own record, not what B sent.
    assert get_patient(client, keys.a, held["id"]).json["name"] == "Ada Held-Record"
    # Sent only a name and an NHS number: the record held is never changed by it.
    assert get_patient(client, keys.navigator, held["id"]).json["name"] == "Ada Held-Record"


def test_navigators_still_get_the_differs_warnings(client: FlaskClient, keys: Keys) -> None:
    create_patient(client, keys.a, HELD)
    again = create_patient(client, keys.navigator, HELD | {"postcode": "LU4 0DZ"})
    assert again.status_code == 200
    assert again.json["warnings"] == [
        "postcode given differs from the record held for this NHS number"
    ]
    assert again.json["postcode"] == "MK42 9DJ"


def test_what_each_client_sent_is_recorded_latest_value_of_each_field(
    client: FlaskClient, keys: Keys, session: Session
) -> None:
    ident = create_patient(client, keys.a, HELD).json["id"]
    create_patient(client, keys.b, {"nhs_number": HELD["nhs_number"], "name": "First"})
    create_patient(
        client, keys.b, {"nhs_number": HELD["nhs_number"], "name": "Second", "postcode": "LU4 0DZ"}
    )
    sources = session.scalars(
        select(PatientSource).where(PatientSource.patient_id == ident).order_by(PatientSource.id)
    ).all()
    assert len(sources) == 2
    assert sources[1].fields == {
        "nhs_number": "9434765919",
        "name": "Second",
        "sex": "unknown",
        "postcode": "LU4 0DZ",
        "place": "luton",
    }
    shown = get_patient(client, keys.b, ident).json
    assert (shown["name"], shown["postcode"], shown["place"]) == ("Second", "LU4 0DZ", "luton")


# --- Referrals ------------------------------------------------------------------------------


def test_referrals_are_seen_by_their_creator_and_the_receiving_organisation_only(
    client: FlaskClient, keys: Keys
) -> None:
    to_rc9 = refer(client, keys.a, "ucr-rc9", patient=HELD).json
    to_rd8 = refer(
        client, keys.b, "ucr-rd8", patient={"nhs_number": OTHER_NHS, "name": "Bea Other"}
    ).json

    def status(who: dict[str, str], ident: str) -> int:
        return int(client.get(f"/api/v1/referrals/{ident}", headers=who).status_code)

    assert [status(w, to_rc9["id"]) for w in (keys.a, keys.b, keys.rc9, keys.rd8)] == [
        200,
        404,
        200,
        404,
    ]
    assert [status(w, to_rd8["id"]) for w in (keys.a, keys.b, keys.rc9, keys.rd8)] == [
        404,
        200,
        404,
        200,
    ]
    assert status(keys.navigator, to_rc9["id"]) == status(keys.admin, to_rd8["id"]) == 200

    def change(who: dict[str, str], ident: str) -> int:
        return int(
            client.patch(
                f"/api/v1/referrals/{ident}", json={"status": "accepted"}, headers=who
            ).status_code
        )

    # Another organisation's referral cannot be changed, and is not confirmed to exist.
    assert change(keys.rd8, to_rc9["id"]) == 404
    assert change(keys.rc9, to_rd8["id"]) == 404
    assert change(keys.rc9, to_rc9["id"]) == 200
    assert change(keys.rd8, to_rd8["id"]) == 200


def test_the_receiving_provider_sees_the_patient_the_other_does_not(
    client: FlaskClient, keys: Keys
) -> None:
    # The record is held from the console side (a navigator); integrator A refers by NHS
    # number and a name only, to RC9's service.
    held = create_patient(client, keys.navigator, HELD).json
    referral = refer(
        client, keys.a, "ucr-rc9", patient={"nhs_number": HELD["nhs_number"], "name": "Ada"}
    )
    assert referral.status_code == 201 and referral.json["patient_id"] == held["id"]
    # The receiving service needs the demographics to act: RC9 sees the record held.
    seen = get_patient(client, keys.rc9, held["id"])
    assert seen.status_code == 200 and seen.json["postcode"] == "MK42 9DJ"
    # RD8 has no referral for this patient; A sees only what it sent.
    assert get_patient(client, keys.rd8, held["id"]).status_code == 404
    assert leaks(get_patient(client, keys.a, held["id"])) == []
    # And the other direction: a referral to RD8 opens the patient to RD8.
    refer(client, keys.navigator, "ucr-rd8", patient_id=held["id"])
    assert get_patient(client, keys.rd8, held["id"]).json["name"] == "Ada Held-Record"


def test_a_client_cannot_name_a_patient_or_navigation_it_may_not_see(
    client: FlaskClient, keys: Keys
) -> None:
    a_patient = create_patient(client, keys.a, HELD).json["id"]
    b_patient = create_patient(client, keys.b, {"name": "Bea", "nhs_number": OTHER_NHS}).json["id"]
    for who, ident in ((keys.b, a_patient), (keys.a, b_patient)):
        response = refer(client, who, "ucr-rc9", patient_id=ident)
        assert response.status_code == 422 and "patient_id" in response.json["errors"]
        event = {
            "event_id": f"e-{ident}",
            "type": "ae_attendance",
            "occurred_at": "2026-02-02T10:00:00Z",
            "patient_id": ident,
        }
        response = client.post("/api/v1/transitions", json=event, headers=who)
        assert response.status_code == 422 and "patient_id" in response.json["errors"]
    assert refer(client, keys.a, "ucr-rc9", patient_id=a_patient).status_code == 201

    call = {
        "caller_role": "nhs111",
        "need": "fall_no_injury",
        "age": 80,
        "postcode": "MK42 9AA",
        "nhs_number": HELD["nhs_number"],
    }
    a_nav = client.post("/api/v1/navigations", json=call, headers=keys.a).json["id"]
    b_nav = client.post("/api/v1/navigations", json=call, headers=keys.b).json["id"]
    for who, own, other in ((keys.a, a_nav, b_nav), (keys.b, b_nav, a_nav)):
        assert client.get(f"/api/v1/navigations/{own}", headers=who).status_code == 200
        assert client.get(f"/api/v1/navigations/{other}", headers=who).status_code == 404
        response = refer(client, who, "ucr-rc9", patient=HELD, navigation_id=other)
        assert response.status_code == 422 and "navigation_id" in response.json["errors"]
        # Another client's call and an unknown id get the same answer even when the request
        # has another fault: before issue 14 the unknown id was refused by the schema (naming
        # navigation_id) and another client's call by the service (naming only the other
        # field), so the errors told which ids exist.
        for service_id, faulty in (("no-such-service", {}), ("ucr-rc9", {"consent": False})):
            answers = [
                refer(client, who, service_id, patient=HELD, navigation_id=nav, **faulty)
                for nav in (other, "00000000-0000-4000-8000-000000000000")
            ]
            assert answers[0].status_code == answers[1].status_code == 422
            assert answers[0].json["errors"] == answers[1].json["errors"]
    assert client.get(f"/api/v1/navigations/{a_nav}", headers=keys.navigator).status_code == 200


def test_referral_lists_are_filtered_and_each_item_read_is_audited(
    client: FlaskClient, keys: Keys, session: Session
) -> None:
    to_rc9 = refer(client, keys.a, "ucr-rc9", patient=HELD).json
    to_rd8 = refer(client, keys.b, "ucr-rd8", patient={"name": "Bea", "nhs_number": OTHER_NHS})
    to_rd8_id = to_rd8.json["id"]

    def listed(who: dict[str, str]) -> list[str]:
        return [r["id"] for r in client.get("/api/v1/referrals", headers=who).json["items"]]

    assert listed(keys.rc9) == [to_rc9["id"]]
    assert listed(keys.rd8) == [to_rd8_id]
    assert sorted(listed(keys.navigator)) == sorted([to_rc9["id"], to_rd8_id])
    assert client.get("/api/v1/referrals?service_id=ucr-rd8", headers=keys.rc9).json == {
        "items": [],
        "total": 0,
    }
    reads = session.scalars(
        select(AuditEvent.entity_id).where(
            AuditEvent.action == "read",
            AuditEvent.entity == "referral",
            AuditEvent.route == "GET /api/v1/referrals",
        )
    ).all()
    assert len(reads) == 4  # one per item returned: RC9 1, RD8 1, the navigator 2


# --- Transitions ----------------------------------------------------------------------------


def test_a_transition_is_read_only_by_its_sender_and_navigators(
    client: FlaskClient, keys: Keys
) -> None:
    def record(who: dict[str, str], event_id: str) -> str:
        body = {
            "event_id": event_id,
            "type": "ae_attendance",
            "occurred_at": "2026-02-02T10:00:00Z",
            "patient": HELD,
        }
        response = client.post("/api/v1/transitions", json=body, headers=who)
        assert response.status_code == 201, response.json
        return str(response.json["id"])

    from_a, from_rc9 = record(keys.a, "a-1"), record(keys.rc9, "rc9-1")

    def status(who: dict[str, str], ident: str) -> int:
        return int(client.get(f"/api/v1/transitions/{ident}", headers=who).status_code)

    others = [404, 404, 404]
    assert [status(w, from_a) for w in (keys.a, keys.b, keys.rc9, keys.rd8)] == [200, *others]
    assert [status(w, from_rc9) for w in (keys.rc9, keys.rd8, keys.a, keys.b)] == [200, *others]
    assert status(keys.navigator, from_a) == status(keys.admin, from_rc9) == 200


# --- DTOC -----------------------------------------------------------------------------------


def test_providers_create_read_list_and_change_only_their_own_dtoc_episodes(
    client: FlaskClient, keys: Keys
) -> None:
    other = {"patient": {"nhs_number": OTHER_NHS, "name": "Bea", "date_of_birth": "1950-01-01"}}
    rc9 = client.post("/api/v1/dtoc", json=dtoc_body("RC9"), headers=keys.rc9)
    rd8 = client.post("/api/v1/dtoc", json=dtoc_body("rd8", **other), headers=keys.rd8)
    assert (rc9.status_code, rd8.status_code) == (201, 201)
    for who, ods in ((keys.rc9, "RD8"), (keys.rd8, "RC9")):
        refused = client.post("/api/v1/dtoc", json=dtoc_body(ods), headers=who)
        assert refused.status_code == 422 and "provider_ods" in refused.json["errors"]

    for who, own, theirs in (
        (keys.rc9, rc9.json["id"], rd8.json["id"]),
        (keys.rd8, rd8.json["id"], rc9.json["id"]),
    ):
        assert client.get(f"/api/v1/dtoc/{own}", headers=who).status_code == 200
        assert client.get(f"/api/v1/dtoc/{theirs}", headers=who).status_code == 404
        change = {"expected_transfer_date": "2026-03-01"}
        assert client.patch(f"/api/v1/dtoc/{own}", json=change, headers=who).status_code == 200
        assert client.patch(f"/api/v1/dtoc/{theirs}", json=change, headers=who).status_code == 404
        board = client.get("/api/v1/dtoc", headers=who).json["items"]
        assert [e["id"] for e in board] == [own]
    everything = client.get("/api/v1/dtoc", headers=keys.navigator).json["items"]
    assert sorted(e["id"] for e in everything) == sorted([rc9.json["id"], rd8.json["id"]])


def test_dtoc_list_reads_are_audited_per_episode(
    client: FlaskClient, keys: Keys, session: Session
) -> None:
    episode = client.post("/api/v1/dtoc", json=dtoc_body("RC9"), headers=keys.navigator).json
    client.get("/api/v1/dtoc", headers=keys.rc9)
    client.get("/api/v1/dtoc", headers=keys.rd8)  # sees nothing, so reads nothing
    reads = session.execute(
        select(AuditEvent.actor, AuditEvent.patient_id).where(
            AuditEvent.entity == "dtoc", AuditEvent.route == "GET /api/v1/dtoc"
        )
    ).all()
    assert [(actor.split(":")[-1], pid) for actor, pid in reads] == [
        ("trust-rc9", episode["patient_id"])
    ]


def test_a_provider_cannot_grant_itself_the_held_record_by_opening_an_episode(
    client: FlaskClient, keys: Keys
) -> None:
    held = create_patient(client, keys.navigator, HELD).json
    sent = {"nhs_number": HELD["nhs_number"], "name": "Ada", "date_of_birth": "1941-03-02"}
    opened = client.post("/api/v1/dtoc", json=dtoc_body("RC9", patient=sent), headers=keys.rc9)
    assert opened.status_code == 201 and opened.json["patient_id"] == held["id"]
    own_view = get_patient(client, keys.rc9, held["id"]).json
    assert own_view["name"] == "Ada" and own_view["postcode"] is None
    # An episode for RC9 opened by a navigator does give RC9 the need (and only RC9).
    by_navigator = dtoc_body("RC9", patient_id=held["id"])
    assert client.post("/api/v1/dtoc", json=by_navigator, headers=keys.navigator).status_code == 201
    assert get_patient(client, keys.rc9, held["id"]).json["postcode"] == "MK42 9DJ"
    assert get_patient(client, keys.rd8, held["id"]).status_code == 404


# --- The rule as plain functions ------------------------------------------------------------


def test_the_access_functions_directly(client: FlaskClient, keys: Keys, app: Flask) -> None:
    ident = refer(client, keys.a, "ucr-rc9", patient=HELD).json["patient_id"]
    with app.app_context():
        session, index = db.session(), directory_index()
        patient = session.get(Patient, ident)
        assert patient is not None
        navigator = Caller(1, "nav@test", "navigator", None, kind="user")
        supervisor = Caller(2, "sup@test", "supervisor", None, kind="user")
        rc9 = Caller(3, "trust-rc9", "provider", "RC9")
        rd8 = Caller(4, "trust-rd8", "provider", "RD8")
        stranger = Caller(999, "nobody", "integrator", None)
        for caller in (navigator, supervisor, rc9):
            shown = visible_patient_dict(session, caller, patient, index)
            assert shown is not None and shown["postcode"] == "MK42 9DJ"
        assert provider_needs_patient(session, rc9, ident, index)
        assert not provider_needs_patient(session, rd8, ident, index)
        for caller in (rd8, stranger):
            assert not may_see_patient(session, caller, patient, index)
            assert visible_patient_dict(session, caller, patient, index) is None
        db.session.remove()


# --- No yes/no answers or derived values from the held record (review of issue 12 §2) -------

# Three held records: an adult, a child and one without a date of birth. A client without the
# full view must get the same answer for each, whatever it sends.
HELD_ADULT = HELD
HELD_CHILD = HELD | {"nhs_number": "9434765927", "date_of_birth": "2015-06-01"}
HELD_NO_DOB = {"nhs_number": "9434765935", "name": "No Date Held", "postcode": "MK42 9DJ"}


def answer(response: Any) -> tuple[int, Any]:
    """What a response tells its caller, less the ids that differ for any two records."""
    body = response.json
    if response.status_code == 201:
        return 201, {k: v for k, v in body.items() if k not in ("id", "patient_id")}
    return response.status_code, body.get("errors")


def test_dtoc_adulthood_is_decided_only_from_what_the_provider_sent(
    client: FlaskClient, keys: Keys
) -> None:
    """The review's oracle: with a provider key, `POST /dtoc` naming a held NHS number answered
    422 "under 18" or 201 by the *held* date of birth, so a binary search on the ready date found
    it in 16 requests; a held record without a date of birth refused a caller that sent one.
    Now the answer is the same for a held adult, a held child and a held record without a date
    of birth, and depends only on the date the provider sent (issue 12 §2)."""
    for held in (HELD_ADULT, HELD_CHILD, HELD_NO_DOB):
        assert create_patient(client, keys.navigator, held).status_code == 201

    def answers(**sent: Any) -> set[str]:
        """Each distinct answer over the three held records and two ready dates (the review's
        search varied the ready date)."""
        seen = set()
        for held in (HELD_ADULT, HELD_CHILD, HELD_NO_DOB):
            patient = {"nhs_number": held["nhs_number"], "name": "x"} | sent
            for ready in ("2026-11-01T12:00:00Z", "2010-01-01T12:00:00Z"):
                times = dict.fromkeys(
                    ("clinically_ready_at", "mdt_ready_at", "safe_to_transfer_at"), ready
                )
                response = client.post(
                    "/api/v1/dtoc", json=dtoc_body("RD8", patient=patient) | times, headers=keys.rd8
                )
                seen.add(json.dumps(answer(response), sort_keys=True))
        return seen

    unsent = answers()
    assert len(unsent) == 1
    status, errors = json.loads(next(iter(unsent)))
    assert status == 422 and "patient.date_of_birth" in errors
    child = answers(date_of_birth="2015-06-01")
    assert len(child) == 1
    status, errors = json.loads(next(iter(child)))
    assert status == 422 and "under 18" in json.dumps(errors)
    # An adult's date sent: 201 for all three, even the held child and the held record with no
    # date, and the body shows nothing held.
    adult = [
        client.post(
            "/api/v1/dtoc",
            json=dtoc_body(
                "RD8",
                patient={
                    "nhs_number": held["nhs_number"],
                    "name": "x",
                    "date_of_birth": "1960-01-01",
                },
            ),
            headers=keys.rd8,
        )
        for held in (HELD_ADULT, HELD_CHILD, HELD_NO_DOB)
    ]
    assert [r.status_code for r in adult] == [201, 201, 201]
    assert len({json.dumps(answer(r)[1], sort_keys=True) for r in adult}) == 1
    assert all(r.json["place"] is None and not leaks(r) for r in adult)


def test_navigators_still_decide_adulthood_from_the_held_record(
    client: FlaskClient, keys: Keys
) -> None:
    """A caller with the full view is judged on the record held (it can see it), falling back to
    the date it sent when none is held."""
    for held in (HELD_CHILD, HELD_NO_DOB):
        create_patient(client, keys.navigator, held)
    child = {"nhs_number": HELD_CHILD["nhs_number"], "name": "x", "date_of_birth": "1960-01-01"}
    refused = client.post(
        "/api/v1/dtoc", json=dtoc_body("RD8", patient=child), headers=keys.navigator
    )
    assert refused.status_code == 422 and "under 18" in refused.json["detail"]
    sent = {"nhs_number": HELD_NO_DOB["nhs_number"], "name": "x", "date_of_birth": "1960-01-01"}
    opened = client.post(
        "/api/v1/dtoc", json=dtoc_body("RD8", patient=sent), headers=keys.navigator
    )
    assert opened.status_code == 201


def test_a_dtoc_episode_shows_a_provider_only_the_place_of_the_postcode_it_sent(
    client: FlaskClient, keys: Keys
) -> None:
    """The episode's stored place comes from the held postcode (the CISP metrics need it); a
    provider without the full view is shown the place of its own postcode or null, on create,
    read and list, and the board's `place` filter cannot be used to test the held place."""
    create_patient(client, keys.navigator, HELD)  # held postcode MK42 9DJ: bedford
    sent = {"nhs_number": HELD["nhs_number"], "name": "x", "date_of_birth": "1960-01-01"}
    opened = client.post("/api/v1/dtoc", json=dtoc_body("RD8", patient=sent), headers=keys.rd8)
    ident = opened.json["id"]
    assert opened.json["place"] is None
    assert client.get(f"/api/v1/dtoc/{ident}", headers=keys.rd8).json["place"] is None
    assert client.get("/api/v1/dtoc?place=bedford", headers=keys.rd8).json["items"] == []
    assert [e["place"] for e in client.get("/api/v1/dtoc", headers=keys.rd8).json["items"]] == [
        None
    ]
    # The truth is kept and shown to those who may see it.
    assert client.get(f"/api/v1/dtoc/{ident}", headers=keys.navigator).json["place"] == "bedford"
    listed = client.get("/api/v1/dtoc?place=bedford", headers=keys.navigator).json["items"]
    assert [e["id"] for e in listed] == [ident]
    # Once the provider sends a postcode itself, it is shown that postcode's place.
    with_postcode = sent | {"postcode": "LU4 0DZ"}  # providers send patients on records only
    seen = transition(
        client, keys.rd8, "rd8-1", "ae_attendance", "2026-02-01T10:00:00Z", patient=with_postcode
    )
    assert seen.status_code == 201 and seen.json["place"] == "luton"
    assert client.get(f"/api/v1/dtoc/{ident}", headers=keys.rd8).json["place"] == "luton"
    luton = client.get("/api/v1/dtoc?place=luton", headers=keys.rd8).json["items"]
    assert [e["id"] for e in luton] == [ident]


def transition(
    client: FlaskClient, who: dict[str, str], event_id: str, type: str, at: str, **extra: Any
) -> Any:
    body = {"event_id": event_id, "type": type, "occurred_at": at} | extra
    if type == "discharge":
        body.setdefault("pathway", 0)
    return client.post("/api/v1/transitions", json=body, headers=who)


def test_a_transition_shows_a_client_only_values_derived_from_what_it_sent(
    client: FlaskClient, keys: Keys, session: Session
) -> None:
    """The review: a second integrator's admission for a held NHS number answered
    `"place":"bedford","readmission_30d":true`, from the held postcode and *another client's*
    discharge (varying `occurred_at` located the discharge). Now a client without the full
    view is shown `place` from what it sent and `readmission_30d` from its own discharges only,
    on create and on later reads; the stored truth (for the CISP metrics) and what navigators
    see are unchanged."""
    create_patient(client, keys.a, HELD)
    assert (
        transition(
            client, keys.a, "a-d", "discharge", "2026-02-01T10:00:00Z", patient=HELD
        ).status_code
        == 201
    )
    only_number = {"nhs_number": HELD["nhs_number"], "name": "x"}
    admitted = transition(
        client, keys.b, "b-1", "nel_admission", "2026-02-10T10:00:00Z", patient=only_number
    )
    assert admitted.status_code == 201
    assert (admitted.json["place"], admitted.json["readmission_30d"]) == (None, False)
    ident = admitted.json["id"]
    again = client.get(f"/api/v1/transitions/{ident}", headers=keys.b).json
    assert (again["place"], again["readmission_30d"]) == (None, False)
    # Moving the admission about finds nothing either.
    for day in ("01", "05", "20"):
        probe = transition(
            client,
            keys.b,
            f"b-{day}",
            "nel_admission",
            f"2026-02-{day}T12:00:00Z",
            patient=only_number,
        )
        assert (probe.json["place"], probe.json["readmission_30d"]) == (None, False)
    # The truth is stored and shown to navigators.
    truth = client.get(f"/api/v1/transitions/{ident}", headers=keys.navigator).json
    assert (truth["place"], truth["readmission_30d"]) == ("bedford", True)
    # B's own discharge and its own postcode do count for B.
    assert (
        transition(
            client,
            keys.b,
            "b-d",
            "discharge",
            "2026-02-08T10:00:00Z",
            patient_id=admitted.json["patient_id"],
        ).status_code
        == 201
    )
    create_patient(client, keys.b, only_number | {"postcode": "LU4 0DZ"})
    mine = client.get(f"/api/v1/transitions/{ident}", headers=keys.b).json
    assert (mine["place"], mine["readmission_30d"]) == ("luton", True)
    # A place B names itself is what B is shown.
    named = transition(
        client,
        keys.b,
        "b-named",
        "ae_attendance",
        "2026-02-11T10:00:00Z",
        patient_id=admitted.json["patient_id"],
        place="central_bedfordshire",
    )
    assert named.json["place"] == "central_bedfordshire"
    assert (
        client.get(f"/api/v1/transitions/{named.json['id']}", headers=keys.b).json["place"]
        == "central_bedfordshire"
    )


def test_the_link_audit_action_is_documented(client: FlaskClient, keys: Keys) -> None:
    """`GET /audit` answers `"action": "link"` for a client linked to a held record without
    seeing it; the OpenAPI's `AuditEvent.action` enum must list it, or a generated client
    rejects the response (issue 12 §6, found by the review)."""
    ident = create_patient(client, keys.navigator, HELD).json["id"]
    create_patient(client, keys.a, {"nhs_number": HELD["nhs_number"], "name": "x"})
    log = client.get(f"/api/v1/audit?patient_id={ident}", headers=keys.admin).json["items"]
    spec = client.get("/api/v1/openapi.json").json
    action = spec["components"]["schemas"]["AuditEvent"]["properties"]["action"]
    assert "link" in [e["action"] for e in log]
    assert {e["action"] for e in log} <= set(action["enum"]) and "link" in action["description"]
