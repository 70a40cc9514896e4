"""Referrals: idempotent creation (also under concurrency), lifecycle rules, overdue, roles."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from navigator.core.db import utcnow
from navigator.patients.models import Patient
from navigator.referrals.models import Referral
from tests.builders import load_directory, organisation, service

Auth = dict[str, dict[str, str]]
PATIENT = {
    "nhs_number": "9434765919",
    "name": "Ada Example",
    "date_of_birth": "1941-03-02",
    "postcode": "MK42 9DJ",
}


def referral(**overrides: Any) -> dict[str, Any]:
    return {
        "service_id": "ucr",
        "patient": PATIENT,
        "reason": "Fall without injury",
        "urgency": "urgent",
        "consent": True,
    } | overrides


@pytest.fixture
def directory(app_ctx: Any) -> None:
    load_directory(
        organisations=[
            organisation(id="rc9", ods_code="RC9"),
            organisation(id="rd8", ods_code="RD8"),
        ],
        services=[
            service(id="ucr", organisation="rc9"),
            service(id="other-org", organisation="rd8"),
            service(id="closed", organisation="rc9", status="temporarily_closed"),
            # Issue 15, hazard H30: kept from a feed, nobody has classified it yet.
            service(id="feed-lunch-club", organisation="rc9", service_type="unclassified"),
        ],
    )


def post(
    client: FlaskClient,
    auth: Auth,
    body: dict[str, Any],
    key: str | None = None,
    role: str = "integrator",
) -> Any:
    headers = auth[role] | ({"Idempotency-Key": key} if key else {})
    return client.post("/api/v1/referrals", json=body, headers=headers)


def count(session: Session, model: type) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_create_records_the_handoff_with_its_history_and_deadline(
    client: FlaskClient, auth: Auth, directory: None
) -> None:
    response = post(client, auth, referral())
    assert response.status_code == 201
    body = response.json
    assert body["status"] == "sent" and not body["overdue"]
    assert [(h["from"], h["to"]) for h in body["history"]] == [(None, "sent")]
    created, due = (utcnow().fromisoformat(body[k]) for k in ("created_at", "due_by"))
    assert due - created == timedelta(minutes=30)  # urgent


def test_same_key_and_body_returns_the_original_and_a_different_body_is_409(
    client: FlaskClient, auth: Auth, directory: None, session: Session
) -> None:
    first = post(client, auth, referral(), key="111-case-42/attempt")
    again = post(client, auth, referral(), key="111-case-42/attempt")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["id"] == first.json["id"]
    changed = post(client, auth, referral(reason="Something else"), key="111-case-42/attempt")
    assert changed.status_code == 409 and changed.mimetype == "application/problem+json"
    assert changed.json["code"] == "idempotency_key_reused"
    assert count(session, Referral) == 1


def test_keys_belong_to_their_client(
    client: FlaskClient, auth: Auth, directory: None, session: Session
) -> None:
    post(client, auth, referral(), key="k1", role="integrator")
    assert post(client, auth, referral(), key="k1", role="navigator").status_code == 201
    assert count(session, Referral) == 2


def test_concurrent_duplicates_create_exactly_one_referral_and_one_patient(
    app: Flask, auth: Auth, directory: None, session: Session
) -> None:
    body = referral(
        patient={k: v for k, v in PATIENT.items() if k != "nhs_number"}
    )  # no NHS number: no patient match either

    def send(_: int) -> tuple[int, str]:
        response = app.test_client().post(
            "/api/v1/referrals",
            json=body,
            headers=auth["integrator"] | {"Idempotency-Key": "same-key"},
        )
        return response.status_code, response.json["id"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(send, range(16)))
    assert {status for status, _ in results} <= {200, 201}
    assert [status for status, _ in results].count(201) == 1
    assert len({ident for _, ident in results}) == 1
    assert count(session, Referral) == 1
    assert count(session, Patient) == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"consent": False}, "consent"),
        ({"service_id": "nope"}, "service_id"),
        ({"service_id": "closed"}, "service_id"),
        ({"service_id": "feed-lunch-club"}, "service_id"),
        ({"urgency": "soonish"}, "urgency"),
        ({"patient_id": "x"}, "patient_id"),
        ({"navigation_id": "nope"}, "navigation_id"),
        ({"patient": PATIENT | {"nhs_number": "123"}}, "patient.nhs_number"),
    ],
)
def test_bad_referrals_are_422_naming_the_field(
    client: FlaskClient, auth: Auth, directory: None, change: dict[str, Any], field: str
) -> None:
    response = post(client, auth, referral(**change))
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]


def test_an_overlong_idempotency_key_is_refused(
    client: FlaskClient, auth: Auth, directory: None
) -> None:
    assert post(client, auth, referral(), key="k" * 201).status_code == 400


def patch(client: FlaskClient, auth: Auth, ident: str, role: str = "provider", **body: Any) -> Any:
    return client.patch(f"/api/v1/referrals/{ident}", json=body, headers=auth[role])


def test_lifecycle_accept_then_complete_with_outcome(
    client: FlaskClient, auth: Auth, directory: None
) -> None:
    ident = post(client, auth, referral()).json["id"]
    assert patch(client, auth, ident, status="accepted").status_code == 200
    assert patch(client, auth, ident, status="completed").status_code == 422  # outcome needed
    done = patch(client, auth, ident, status="completed", outcome="Seen at home; no conveyance")
    assert done.status_code == 200
    assert [(h["from"], h["to"]) for h in done.json["history"]] == [
        (None, "sent"),
        ("sent", "accepted"),
        ("accepted", "completed"),
    ]
    assert done.json["history"][1]["by"].endswith("test-provider")
    assert patch(client, auth, ident, status="accepted").status_code == 409  # closed


def test_rejection_needs_a_reason_from_the_list(
    client: FlaskClient, auth: Auth, directory: None
) -> None:
    ident = post(client, auth, referral()).json["id"]
    assert patch(client, auth, ident, status="rejected", reason="busy").status_code == 422
    rejected = patch(
        client, auth, ident, status="rejected", reason="no_capacity", note="Full until 4pm"
    )
    assert rejected.status_code == 200 and rejected.json["history"][-1]["reason"] == "no_capacity"


@pytest.mark.parametrize(
    ("first", "then"), [(None, "completed"), ("on_hold", "completed"), ("cancelled", "accepted")]
)
def test_illegal_transitions_are_409(
    client: FlaskClient, auth: Auth, directory: None, first: str | None, then: str
) -> None:
    ident = post(client, auth, referral()).json["id"]
    if first:
        assert patch(client, auth, ident, status=first).status_code == 200
    response = patch(client, auth, ident, status=then, outcome="x")
    assert response.status_code == 409 and response.json["code"] == "illegal_transition"


def test_only_the_receiving_organisation_navigators_and_admins_update(
    client: FlaskClient, auth: Auth, directory: None
) -> None:
    mine = post(client, auth, referral()).json["id"]
    theirs = post(client, auth, referral(service_id="other-org")).json["id"]
    # Another organisation's referral is answered like an unknown one (issue 12 §2).
    assert patch(client, auth, theirs, status="accepted").status_code == 404
    assert patch(client, auth, mine, role="integrator", status="accepted").status_code == 403
    assert patch(client, auth, theirs, role="navigator", status="accepted").status_code == 200


def test_unacknowledged_referrals_become_overdue(
    client: FlaskClient, auth: Auth, directory: None, session: Session
) -> None:
    late = post(client, auth, referral()).json["id"]
    accepted = post(client, auth, referral(reason="other")).json["id"]
    patch(client, auth, accepted, status="accepted")
    fresh = post(client, auth, referral(reason="fresh")).json["id"]
    for ident in (late, accepted):
        row = session.get(Referral, ident)
        assert row is not None
        row.due_by = utcnow() - timedelta(minutes=1)
    session.commit()
    listed = client.get("/api/v1/referrals?overdue=true", headers=auth["navigator"]).json
    assert [r["id"] for r in listed["items"]] == [late] and listed["items"][0]["overdue"]
    assert fresh not in [r["id"] for r in listed["items"]]


def test_reads_and_writes_of_referrals_are_audited(
    client: FlaskClient, auth: Auth, directory: None
) -> None:
    created = post(client, auth, referral()).json
    client.get(f"/api/v1/referrals/{created['id']}", headers=auth["navigator"])
    log = client.get(
        f"/api/v1/audit?patient_id={created['patient_id']}", headers=auth["admin"]
    ).json["items"]
    assert [(e["entity"], e["action"]) for e in log] == [
        ("patient", "create"),
        ("referral", "create"),
        ("referral", "read"),
    ]


# --- One open referral per navigation and service (issue 13 §8, hazard H24) -----------------


def navigation_for(client: FlaskClient, auth: Auth, role: str = "integrator") -> str:
    response = client.post(
        "/api/v1/navigations",
        json={
            "caller_role": "relative",
            "need": "fall_no_injury",
            "age": 80,
            "postcode": "MK42 9DJ",
        },
        headers=auth[role],
    )
    assert response.status_code == 201, response.json
    return str(response.json["id"])


def test_a_second_open_referral_for_a_navigation_and_service_is_409_whatever_the_key(
    client: FlaskClient, auth: Auth, directory: None, session: Session
) -> None:
    navigation_id = navigation_for(client, auth)
    body = referral(navigation_id=navigation_id)
    first = post(client, auth, body, key="k1")
    assert first.status_code == 201
    retry = post(client, auth, body, key="k1")  # the same key and body: the original
    assert (retry.status_code, retry.json["id"]) == (200, first.json["id"])
    for key in ("k2", None):  # another key, or none: refused, naming the open referral
        again = post(client, auth, referral(navigation_id=navigation_id, reason="again"), key=key)
        assert again.status_code == 409 and again.mimetype == "application/problem+json"
        assert again.json["code"] == "open_referral_exists"
        assert again.json["existing_referral_id"] == first.json["id"]
        assert first.json["id"] in again.json["detail"]
    assert count(session, Referral) == 1
    assert count(session, Patient) == 1  # the refused requests left no patient behind
    # Another service for the same call is a different hand-over; so is one for no call.
    assert (
        post(
            client, auth, referral(navigation_id=navigation_id, service_id="other-org")
        ).status_code
        == 201
    )
    assert post(client, auth, referral()).status_code == 201


def test_once_the_open_referral_is_closed_the_call_can_be_referred_again(
    client: FlaskClient, auth: Auth, directory: None
) -> None:
    navigation_id = navigation_for(client, auth)
    first = post(client, auth, referral(navigation_id=navigation_id)).json["id"]
    assert post(client, auth, referral(navigation_id=navigation_id)).status_code == 409
    rejected = patch(client, auth, first, status="rejected", reason="no_capacity")
    assert rejected.status_code == 200
    assert post(client, auth, referral(navigation_id=navigation_id)).status_code == 201


def test_concurrent_referrals_of_one_call_to_one_service_make_exactly_one(
    app: Flask, auth: Auth, directory: None, session: Session, client: FlaskClient
) -> None:
    """Different keys at the same moment: the navigation's row lock lets one through and the
    rest see it (409). Runs on SQLite and on PostgreSQL (NAVIGATOR_TEST_DATABASE_URL)."""
    navigation_id = navigation_for(client, auth, role="navigator")
    body = referral(
        navigation_id=navigation_id,
        patient={k: v for k, v in PATIENT.items() if k != "nhs_number"},  # no NHS number match
    )

    def send(attempt: int) -> tuple[int, str]:
        response = app.test_client().post(
            "/api/v1/referrals",
            json=body,
            headers=auth["navigator"] | {"Idempotency-Key": f"key-{attempt}"},
        )
        answer = response.json
        return response.status_code, answer.get("id") or answer.get("existing_referral_id")

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(send, range(16)))
    statuses = [status for status, _ in results]
    assert statuses.count(201) == 1 and statuses.count(409) == 15, statuses
    assert len({ident for _, ident in results}) == 1  # every 409 names the one referral
    assert count(session, Referral) == 1
    assert count(session, Patient) == 1
