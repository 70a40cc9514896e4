"""`GET /fhir/ServiceRequest/{id}` shows a referral as BaRS would (issue 16 §1): a BaRS referral
as its sender sent it (REFREQ01's ServiceRequest, adapted as tests/data/bars/requests/SOURCES.md
says) under navigator's id with navigator's current status; an `/api/v1` referral built from
navigator's record; need-to-know as the API's referral read (an integrator sees its own, 404
otherwise); the read audited; a non-UUID id 400 (BaRS Failure Scenarios, GET ServiceRequest).
Every answer parses with fhir.resources."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.servicerequest import ServiceRequest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from navigator.patients.models import AuditEvent
from navigator.referrals.models import Referral
from tests.builders import api_key_for
from tests.fhir.bars_messages import bars_headers, referral
from tests.fhir.test_process_message import URL, bars  # noqa: F401 - the fixture

Auth = dict[str, dict[str, str]]


def _bars_referral(client: FlaskClient, auth: Auth, session: Session) -> Referral:
    import json

    response = client.post(
        URL, data=json.dumps(referral()), headers=bars_headers(auth["integrator"])
    )
    assert response.status_code == 200
    return session.scalars(select(Referral)).one()


def read(client: FlaskClient, referral_id: str, headers: dict[str, str]) -> Any:
    return client.get(f"/fhir/ServiceRequest/{referral_id}", headers=headers)


def test_a_bars_referral_reads_as_sent_with_navigators_status(
    client: FlaskClient,
    auth: Auth,
    session: Session,
    bars: None,  # noqa: F811
) -> None:
    ref = _bars_referral(client, auth, session)
    response = read(client, ref.id, auth["integrator"])
    assert response.status_code == 200
    assert response.mimetype == "application/fhir+json"
    body = response.get_json()
    ServiceRequest.model_validate(body)
    assert body["id"] == ref.id
    assert body["status"] == "active"
    assert body["patientInstruction"].startswith("ADVICE GIVEN")  # the sender's own content
    assert body["category"][0]["coding"][0]["code"] == "referral"
    # BaRS allows only active, revoked, entered-in-error (Referral-Payload; review of issue 16).
    for status, shown in (("accepted", "active"), ("completed", "active")):
        change = {"status": status} | ({"outcome": "Seen in ED"} if status == "completed" else {})
        patched = client.patch(
            f"/api/v1/referrals/{ref.id}", json=change, headers=auth["navigator"]
        )
        assert patched.status_code == 200, patched.get_json()
        assert read(client, ref.id, auth["navigator"]).get_json()["status"] == shown
    reads = session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.entity == "referral", AuditEvent.action == "read")
    )
    assert reads == 3


def test_an_api_referral_is_built_from_navigators_record(
    client: FlaskClient,
    auth: Auth,
    session: Session,
    bars: None,  # noqa: F811
) -> None:
    made = client.post(
        "/api/v1/referrals",
        json={
            "service_id": "test-ed",
            "patient": {"name": "Ada Example", "nhs_number": "9434765919"},
            "reason": "Fell at home",
            "urgency": "urgent",
            "consent": True,
        },
        headers=auth["integrator"],
    )
    assert made.status_code == 201, made.get_json()
    referral_id = made.get_json()["id"]
    assert (
        client.patch(
            f"/api/v1/referrals/{referral_id}",
            json={"status": "cancelled"},
            headers=auth["navigator"],
        ).status_code
        == 200
    )
    body = read(client, referral_id, auth["integrator"]).get_json()
    ServiceRequest.model_validate(body)
    assert body["status"] == "revoked"
    assert body["priority"] == "urgent"
    assert body["performer"] == [{"reference": "HealthcareService/test-ed"}]
    assert body["identifier"][0]["value"].startswith("NAV-")
    # The referral's Encounter, as every BaRS message names it (review of issue 16).
    assert body["encounter"] == {"reference": f"Encounter/{referral_id}"}


def test_another_integrator_and_unknown_ids_get_404_and_a_non_uuid_400(
    client: FlaskClient,
    auth: Auth,
    session: Session,
    bars: None,  # noqa: F811
) -> None:
    ref = _bars_referral(client, auth, session)
    other = {"Authorization": f"Bearer {api_key_for(role='integrator', name='other')}"}
    response = read(client, ref.id, other)
    assert response.status_code == 404
    assert response.get_json()["issue"][0]["details"]["coding"][0]["code"] == "REC_NOT_FOUND"
    assert read(client, "5b0b6c1e-0000-4000-8000-000000000000", auth["admin"]).status_code == 404
    bad = read(client, "not-a-uuid", auth["admin"])
    assert bad.status_code == 400
    assert bad.get_json()["issue"][0]["code"] == "value"
    assert read(client, ref.id, auth["provider"]).status_code == 404  # RC9 is not its provider
    assert read(client, ref.id, {}).status_code == 401
