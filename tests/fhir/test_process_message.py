"""`POST /fhir/$process-message` receives a BaRS referral (issue 16 §1, §3).

Protects: a 111 referral (the standard's REFREQ01, adapted to target a navigator service:
tests/data/bars/requests/SOURCES.md) becomes a patient, a navigation with its clinical content,
a referral, the sender's record and the Bundle kept, in one unit of work, audited; the
standard's checks in its order with its REC codes (BaRS Core 1.5.0 Error-Handling,
Bundle-Processing; the OperationOutcome shapes of the BaRS API's REC examples); a repeated
X-Request-Id is 409 `duplicate` and writes nothing; a claim still processing is 425; a refused
message releases its claim; no diagnostics carry patient data; patients without an NHS number
are accepted and never merged; cancellations (SERVREQ01 revoked, SERVREQ02 entered-in-error)
cancel the referral or are 409 `conflict`.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from navigator.bars.models import PROCESSED, BarsReferral, BarsRequest
from navigator.bars.received import claim_request
from navigator.core.db import transaction, utcnow
from navigator.navigation.models import Navigation
from navigator.patients.models import AuditEvent, Patient
from navigator.referrals.models import Referral
from tests.builders import load_directory, organisation, service
from tests.fhir.bars_messages import (
    NHS_NUMBER,
    PUBLISHED_NHS_NUMBER,
    SENDER,
    SERVREQ02,
    SR_ID,
    bars_headers,
    cancellation,
    header_of,
    outcome_example,
    referral,
    resource,
    with_new_ids,
)

Auth = dict[str, dict[str, str]]
URL = "/fhir/$process-message"
# What REFREQ01 says about its patient: none of it may appear in an error's diagnostics.
PATIENT_TEXTS = (
    "Jones",
    "Julie",
    NHS_NUMBER,
    PUBLISHED_NHS_NUMBER,
    "1959",
    "LS10",
    "Brightside",
    "tonsillectomy",
)


@pytest.fixture
def bars(app: Flask, app_ctx: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A directory with an emergency department (the target), one not yet classified and one
    closed; the sender's endpoint registered."""
    monkeypatch.setitem(app.config, "BARS_SENDER_ENDPOINTS", (SENDER,))
    load_directory(
        organisations=[organisation(id="bh", ods_code="RC1")],
        services=[
            service(id="test-ed", organisation="bh", service_type="emergency_department"),
            service(id="test-unclassified", organisation="bh", service_type="unclassified"),
            service(id="test-closed", organisation="bh", status="closed"),
        ],
    )


def post(
    client: FlaskClient, bundle: Any, headers: dict[str, str]
) -> tuple[int, dict[str, Any], dict[str, str]]:
    body = bundle if isinstance(bundle, bytes | str) else json.dumps(bundle)
    response = client.post(URL, data=body, headers=headers)
    answer = response.get_json(force=True)
    # Every answer navigator gives is valid FHIR R4B: checked here, for every test's answer,
    # rather than at run time on the hot path (`bars_answer.response_bundle`).
    (Bundle if response.status_code == 200 else OperationOutcome).model_validate(answer)
    return response.status_code, answer, dict(response.headers)


def assert_outcome(
    body: dict[str, Any], status: int, issue_code: str, rec: str, example: str | None = None
) -> None:
    """A UK Core OperationOutcome with the REC code; the shape of the BaRS example when
    named (severity, code, details.coding system and code); no patient data anywhere."""
    OperationOutcome.model_validate(body)
    issue = body["issue"][0]
    assert issue["severity"] == "error"
    assert issue["code"] == issue_code, body
    assert issue["details"]["coding"][0] == {
        "system": "https://fhir.nhs.uk/Codesystem/http-error-codes",
        "code": rec,
    }
    if example is not None:
        published = outcome_example(example)["issue"][0]
        assert set(published) <= set(issue) | {"expression"}
        assert (published["code"], published["details"]["coding"][0]["code"]) == (
            issue_code,
            rec,
        )
    text = json.dumps(body)
    assert not [t for t in PATIENT_TEXTS if t in text], text


def counts(session: Session) -> tuple[int, int, int, int]:
    session.expire_all()
    return tuple(  # type: ignore[return-value]
        session.scalar(select(func.count()).select_from(model))
        for model in (Referral, Navigation, Patient, BarsReferral)
    )


def test_a_111_referral_is_received(
    client: FlaskClient, auth: Auth, session: Session, bars: None
) -> None:
    headers = bars_headers(auth["integrator"])
    sent = referral()
    status, body, response_headers = post(client, sent, headers)
    assert status == 200, body
    assert response_headers["X-Request-Id"] == headers["X-Request-Id"]
    assert response_headers["X-Correlation-Id"] == headers["X-Correlation-Id"]
    assert response_headers["Content-Type"].startswith("application/fhir+json")
    answer = Bundle.model_validate(body)  # navigator's answer is valid FHIR
    assert answer.type == "message"
    message_header = header_of(body)
    assert message_header["response"]["code"] == "ok"
    assert message_header["response"]["identifier"] == "c89a8895-56fe-41de-b20b-fab6efa99c99"

    ref = session.scalars(select(Referral)).one()
    assert ref.service_id == "test-ed"
    assert ref.status == "sent"
    assert ref.urgency == "emergency"  # Dx02: A&E within the hour
    # No reasonCode in REFREQ01: the symptom discriminator's and disposition's descriptions.
    assert ref.reason == (
        "ED post tonsillectomy bleeding; "
        "The individual needs to attend an emergency treatment centre within 1 hour."
    )
    service_request = resource(body, "ServiceRequest")
    assert service_request["id"] == ref.id
    assert service_request["status"] == "active"
    encounter = resource(body, "Encounter")
    assert encounter["identifier"][0]["value"].startswith("NAV-")
    assert (
        encounter["identifier"][0]["value"].replace("-", "")[3:]
        == (ref.id.replace("-", "").upper()[:12])
    )
    assert resource(body, "Patient") == {"resourceType": "Patient", "id": ref.patient_id}

    patient = session.get_one(Patient, ref.patient_id)
    assert (patient.nhs_number, patient.name, patient.sex) == (
        NHS_NUMBER,
        "Mrs Julie Jones",
        "female",
    )
    assert str(patient.date_of_birth) == "1959-05-04"
    assert patient.postcode == "LS10 4YU"

    navigation = session.get_one(Navigation, ref.navigation_id)
    # The referral's Encounter, as in every status response (review of issue 16).
    assert (encounter["id"], encounter["class"]["code"]) == (ref.id, "EMER")
    assert navigation.caller_role == "nhs111"
    assert navigation.disposition == "Dx02"
    assert (navigation.symptom_group, navigation.symptom_discriminator) == ("SG1010", "SD4389")
    assert navigation.patient_id == patient.id
    assert navigation.nhs_number == NHS_NUMBER
    assert navigation.case_ref == "sender1234"
    assert navigation.age_days is not None and navigation.age_days > 60 * 365
    assert navigation.chosen_service_id == "test-ed"
    assert navigation.notes is not None
    assert "ED post tonsillectomy bleeding" in navigation.notes
    assert "ADVICE GIVEN: If there are any new symptoms" in navigation.notes

    bars_row = session.get_one(BarsReferral, ref.id)
    assert bars_row.correlation_id == headers["X-Correlation-Id"]
    assert bars_row.service_request_id == SR_ID
    assert bars_row.sender_endpoint == SENDER
    assert bars_row.sender_name == "Emergency service"
    assert bars_row.sender_phone == "+44 (0113) 123 4567"  # MessageHeader.source.contact
    assert bars_row.target_identifier == "http://localhost/fhir/Id/service|test-ed"
    assert bars_row.request_message_id == "c89a8895-56fe-41de-b20b-fab6efa99c99"
    assert bars_row.patient_instruction is not None
    assert bars_row.patient_instruction.startswith("ADVICE GIVEN")
    assert {(f["category"], f["code"]) for f in bars_row.flags} == {
        ("safeguarding", "836881000000105"),
        ("reasonable_adjustment", "adjustforneedlephobia"),
        ("other", "718941000000104"),
    }
    stored = session.scalars(select(BarsRequest)).one()
    assert (stored.state, stored.referral_id, stored.event, stored.reason) == (
        PROCESSED,
        ref.id,
        "servicerequest-request",
        "new",
    )
    assert stored.bundle == json.dumps(sent)  # kept exactly as received
    audited = session.scalars(select(AuditEvent).where(AuditEvent.entity == "bars_message")).one()
    assert (audited.entity_id, audited.patient_id) == (headers["X-Request-Id"], patient.id)
    assert session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.entity == "referral")
    )


def test_the_same_request_id_again_is_409_duplicate_and_writes_nothing(
    client: FlaskClient, auth: Auth, session: Session, bars: None
) -> None:
    headers = bars_headers(auth["integrator"])
    assert post(client, referral(), headers)[0] == 200
    before = counts(session)
    status, body, _ = post(client, referral(), headers)
    assert status == 409
    assert_outcome(body, 409, "duplicate", "REC_CONFLICT", "409-REC_CONFLICT-duplicate.json")
    assert counts(session) == before


def test_the_same_service_request_under_a_new_request_id_is_a_duplicate(
    client: FlaskClient, auth: Auth, session: Session, bars: None
) -> None:
    assert post(client, referral(), bars_headers(auth["integrator"]))[0] == 200
    before = counts(session)
    status, body, _ = post(client, referral(), bars_headers(auth["integrator"]))
    assert status == 409
    assert_outcome(body, 409, "duplicate", "REC_CONFLICT")
    assert counts(session) == before


def test_a_request_id_still_processing_is_425_until_its_lease_runs_out(
    app: Flask, client: FlaskClient, auth: Auth, session: Session, bars: None
) -> None:
    headers = bars_headers(auth["integrator"])
    with transaction(session):  # another attempt holds the id
        claim_request(
            session,
            request_id=headers["X-Request-Id"],
            correlation_id=headers["X-Correlation-Id"],
            client_id="other-attempt",
            now=utcnow(),
            lease_seconds=30,
        )
    status, body, answer = post(client, referral(), headers)
    assert status == 425
    assert_outcome(body, 425, "transient", "REC_TOO_EARLY")
    # When the lease runs out, so the sender need not poll (issue 18's node-kill fault test).
    lease = app.config["BARS_PROCESSING_LEASE_SECONDS"]
    assert 1 <= int(answer["Retry-After"]) <= lease
    assert counts(session)[0] == 0
    # The first attempt died: once its lease has run out, a retry takes the claim over.
    session.execute(
        BarsRequest.__table__.update().values(claimed_at=utcnow() - timedelta(seconds=31))
    )
    session.commit()
    status, body, _ = post(client, referral(), headers)
    assert status == 200, body
    assert counts(session)[0] == 1


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda b: resource(b, "ServiceRequest").update(status="draft"), "ServiceRequest.status"),
        (
            lambda b: header_of(b)["eventCoding"].update(code="referral-please"),
            "MessageHeader.eventCoding",
        ),
        (lambda b: header_of(b)["reason"]["coding"][0].update(code="old"), "MessageHeader.reason"),
        (
            lambda b: header_of(b)["focus"][0].update(reference="urn:uuid:nowhere"),
            "MessageHeader.focus",
        ),
        (lambda b: resource(b, "CarePlan").update(status="active"), "CarePlan.status"),
        (lambda b: resource(b, "Encounter").update(status="planned"), "Encounter.status"),
        (lambda b: b["meta"].pop("versionId"), "Bundle.meta.versionId"),
        (lambda b: b.update(type="collection"), "Bundle.type"),
    ],
)
def test_a_broken_bundle_is_400_invariant_and_its_claim_released(
    client: FlaskClient, auth: Auth, session: Session, bars: None, change: Any, path: str
) -> None:
    headers = bars_headers(auth["integrator"])
    broken = referral()
    change(broken)  # header_of and resource share the Bundle's nested parts: edits land there
    status, body, _ = post(client, broken, headers)
    assert status == 400, body
    assert_outcome(body, 400, "invariant", "REC_BAD_REQUEST", "400-REC_BAD_REQUEST-invariant.json")
    assert body["issue"][0]["expression"] == [path]
    assert counts(session) == (0, 0, 0, 0)
    # Refused, so released: the corrected message under the same X-Request-Id is judged afresh.
    status, body, _ = post(client, referral(), headers)
    assert status == 200, body


@pytest.mark.parametrize(
    ("headers", "issue_code", "field"),
    [
        ({"X-Request-Id": None}, "required", "X-Request-Id"),
        ({"X-Correlation-Id": None}, "required", "X-Correlation-Id"),
        ({"X-Request-Id": "not-a-uuid"}, "invalid", "X-Request-Id"),
        ({"X-Correlation-Id": "1234"}, "invalid", "X-Correlation-Id"),
    ],
)
def test_missing_or_invalid_transaction_ids_are_400(
    client: FlaskClient,
    auth: Auth,
    session: Session,
    bars: None,
    headers: dict[str, str | None],
    issue_code: str,
    field: str,
) -> None:
    sent = bars_headers(auth["integrator"])
    for name, value in headers.items():
        if value is None:
            sent.pop(name)
        else:
            sent[name] = value
    status, body, _ = post(client, referral(), sent)
    assert status == 400
    assert_outcome(body, 400, issue_code, "REC_BAD_REQUEST")
    assert body["issue"][0]["expression"] == [field]
    assert session.scalar(select(func.count()).select_from(BarsRequest)) == 0


@pytest.mark.parametrize(
    "accept",
    [
        "application/fhir+json; version=2.0.0",
        "application/fhir+json;version=0.9",
        "application/fhir+xml",
    ],
)
def test_another_major_version_in_accept_is_406(
    client: FlaskClient, auth: Auth, session: Session, bars: None, accept: str
) -> None:
    headers = bars_headers(auth["integrator"], accept=accept)
    status, body, _ = post(client, referral(), headers)
    assert status == 406
    assert_outcome(body, 406, "not-supported", "REC_NOT_ACCEPTABLE")
    assert counts(session) == (0, 0, 0, 0)
    assert session.scalar(select(func.count()).select_from(BarsRequest)) == 0  # released


def test_a_minor_version_and_no_version_are_accepted(
    client: FlaskClient, auth: Auth, bars: None
) -> None:
    first = bars_headers(auth["integrator"], accept="application/fhir+json; version=1.0.3")
    assert post(client, referral(), first)[0] == 200
    other = with_new_ids(referral(), str(uuid.uuid4()))
    assert post(client, other, bars_headers(auth["integrator"], accept="*/*"))[0] == 200


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("no-such-service", 422),
        ("test-unclassified", 422),
        ("test-closed", 422),
        (None, 400),
    ],
)
def test_a_target_navigator_cannot_take_is_refused(
    client: FlaskClient, auth: Auth, session: Session, bars: None, target: str | None, expected: int
) -> None:
    status, body, _ = post(client, referral(), bars_headers(auth["integrator"], target=target))
    assert status == expected
    if expected == 422:
        assert_outcome(
            body,
            422,
            "not-supported",
            "REC_UNPROCESSABLE_ENTITY",
            "422-REC_UNPROCESSABLE_ENTITY-not-supported.json",
        )
    else:
        assert_outcome(
            body, 400, "required", "REC_BAD_REQUEST", "400-REC_BAD_REQUEST-required.json"
        )
    assert body["issue"][0]["expression"] == ["NHSD-Target-Identifier"]
    assert counts(session) == (0, 0, 0, 0)


def test_a_target_in_another_system_or_undecodable_is_refused(
    client: FlaskClient, auth: Auth, bars: None
) -> None:
    from tests.fhir.bars_messages import target_header

    headers = bars_headers(auth["integrator"])
    headers["NHSD-Target-Identifier"] = target_header(
        "test-ed", "https://fhir.nhs.uk/Id/dos-service-id"
    )
    assert post(client, referral(), headers)[0] == 422
    headers = bars_headers(auth["integrator"])
    headers["NHSD-Target-Identifier"] = "not base64 json!"
    status, body, _ = post(client, referral(), headers)
    assert status == 400
    assert_outcome(body, 400, "value", "REC_BAD_REQUEST")


def test_an_unregistered_sender_endpoint_is_422(
    client: FlaskClient, auth: Auth, session: Session, bars: None
) -> None:
    sent = referral()
    sent["entry"][0]["resource"]["source"]["endpoint"] = "https://elsewhere.example.com/bars"
    status, body, _ = post(client, sent, bars_headers(auth["integrator"]))
    assert status == 422
    assert_outcome(body, 422, "not-supported", "REC_UNPROCESSABLE_ENTITY")
    assert body["issue"][0]["expression"] == ["MessageHeader.source.endpoint"]
    assert counts(session) == (0, 0, 0, 0)


@pytest.mark.parametrize("text", ["Jones\u0000", "Jones\ud800"], ids=["NUL", "lone surrogate"])
def test_text_that_cannot_be_stored_is_400_naming_the_path(
    client: FlaskClient, auth: Auth, session: Session, bars: None, text: str
) -> None:
    sent = referral()
    patient_entry = next(
        i for i, e in enumerate(sent["entry"]) if e["resource"]["resourceType"] == "Patient"
    )
    sent["entry"][patient_entry]["resource"]["name"][0]["family"] = text
    status, body, _ = post(client, json.dumps(sent).encode(), bars_headers(auth["integrator"]))
    assert status == 400
    assert_outcome(body, 400, "value", "REC_BAD_REQUEST")
    assert body["issue"][0]["expression"] == [
        f"Bundle.entry.{patient_entry}.resource.name.0.family"
    ]
    assert counts(session) == (0, 0, 0, 0)


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"\xff\xfe",
        b"[]",
        b'{"resourceType": "Patient"}',
        b'{"resourceType": "Bundle", "type": 12, "entry": "many"}',
        b'{"resourceType": "Bundle", "type": "message", "entry": [{"resource": '
        b'{"resourceType": "Nonsense", "name": "Julie Jones"}}]}',
        b"",
        b'{"a": NaN}',
    ],
)
def test_a_body_that_is_not_a_fhir_bundle_is_400_never_500(
    client: FlaskClient, auth: Auth, bars: None, body: bytes
) -> None:
    status, answer, _ = post(client, body, bars_headers(auth["integrator"]))
    assert status == 400, answer
    assert_outcome(answer, 400, answer["issue"][0]["code"], "REC_BAD_REQUEST")
    assert answer["issue"][0]["code"] in ("structure", "value", "invariant")


def test_a_wrong_type_names_the_fhir_path_without_the_value(
    client: FlaskClient, auth: Auth, bars: None
) -> None:
    sent = referral()
    patient_entry = next(
        i for i, e in enumerate(sent["entry"]) if e["resource"]["resourceType"] == "Patient"
    )
    sent["entry"][patient_entry]["resource"]["birthDate"] = {"Jones": 1959}
    status, body, _ = post(client, sent, bars_headers(auth["integrator"]))
    assert status == 400
    assert_outcome(body, 400, "structure", "REC_BAD_REQUEST")
    assert any("birthDate" in e for issue in body["issue"] for e in issue.get("expression", []))


def test_patients_without_an_nhs_number_are_accepted_and_never_merged(
    client: FlaskClient, auth: Auth, session: Session, bars: None
) -> None:
    first = referral(nhs_number=None)
    second = with_new_ids(referral(nhs_number=None), str(uuid.uuid4()))
    assert post(client, first, bars_headers(auth["integrator"]))[0] == 200
    assert post(client, second, bars_headers(auth["integrator"]))[0] == 200
    patients = session.scalars(select(Patient)).all()
    assert len(patients) == 2  # same name and date of birth: two records, never merged
    assert all(p.nhs_number is None for p in patients)


def test_an_invalid_nhs_number_is_400_value(
    client: FlaskClient, auth: Auth, session: Session, bars: None
) -> None:
    status, body, _ = post(
        client, referral(nhs_number=PUBLISHED_NHS_NUMBER), bars_headers(auth["integrator"])
    )
    assert status == 400
    assert_outcome(body, 400, "value", "REC_BAD_REQUEST")
    assert body["issue"][0]["expression"] == ["Patient.identifier"]


def test_the_known_nhs_number_is_matched_to_the_patient_held(
    client: FlaskClient, auth: Auth, session: Session, bars: None
) -> None:
    created = client.post(
        "/api/v1/patients",
        json={"nhs_number": NHS_NUMBER, "name": "Julie Jones", "date_of_birth": "1959-05-04"},
        headers=auth["navigator"],
    )
    assert created.status_code == 201
    assert post(client, referral(), bars_headers(auth["integrator"]))[0] == 200
    ref = session.scalars(select(Referral)).one()
    assert ref.patient_id == created.get_json()["id"]
    assert session.scalar(select(func.count()).select_from(Patient)) == 1


def test_only_integrators_may_send(client: FlaskClient, auth: Auth, bars: None) -> None:
    assert post(client, referral(), bars_headers(auth["navigator"]))[0] == 403
    status, body, _ = post(client, referral(), bars_headers({}))
    assert status == 401
    assert_outcome(body, 401, body["issue"][0]["code"], "REC_UNAUTHORIZED")


# --- Cancellations ----------------------------------------------------------------------------


def _received(client: FlaskClient, auth: Auth, session: Session) -> Referral:
    assert post(client, referral(), bars_headers(auth["integrator"]))[0] == 200
    return session.scalars(select(Referral)).one()


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("SERVREQ01 - Service Request Update - Revoked.xml", "revoked"),
        (SERVREQ02, "entered-in-error"),
    ],
)
def test_a_cancellation_cancels_the_referral(
    client: FlaskClient, auth: Auth, session: Session, bars: None, name: str, status: str
) -> None:
    ref = _received(client, auth, session)
    cancel = cancellation(name, at=utcnow())
    headers = bars_headers(auth["integrator"])
    code, body, _ = post(client, cancel, headers)
    assert code == 200, body
    Bundle.model_validate(body)
    assert resource(body, "ServiceRequest")["status"] == "revoked"
    session.expire_all()
    ref = session.get_one(Referral, ref.id)
    assert ref.status == "cancelled"
    assert counts(session)[0] == 1
    versions = session.scalars(
        select(BarsRequest).where(BarsRequest.referral_id == ref.id).order_by(BarsRequest.id)
    ).all()
    assert [v.reason for v in versions] == ["new", "update" if status == "revoked" else "delete"]
    assert versions[-1].bundle == json.dumps(cancel)  # every version kept
    bars_row = session.get_one(BarsReferral, ref.id)
    assert bars_row.sender_updated_at == cancel_time(cancel)
    # A second cancellation: the referral is closed.
    code, body, _ = post(client, cancellation(name, at=utcnow()), bars_headers(auth["integrator"]))
    assert code == 409
    assert_outcome(body, 409, "conflict", "REC_CONFLICT", "409-REC_CONFLICT-conflict.json")


def cancel_time(bundle: dict[str, Any]) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(bundle["timestamp"])


def test_a_cancellation_older_than_navigators_change_is_409_conflict(
    client: FlaskClient, auth: Auth, session: Session, bars: None
) -> None:
    ref = _received(client, auth, session)
    accepted = client.patch(
        f"/api/v1/referrals/{ref.id}", json={"status": "accepted"}, headers=auth["navigator"]
    )
    assert accepted.status_code == 200
    # SERVREQ01 as published: built in 2021, before navigator accepted the referral.
    code, body, _ = post(client, cancellation(), bars_headers(auth["integrator"]))
    assert code == 409
    assert_outcome(body, 409, "conflict", "REC_CONFLICT", "409-REC_CONFLICT-conflict.json")
    session.expire_all()
    assert session.get_one(Referral, ref.id).status == "accepted"
    # Built after navigator's change: the sender's cancellation wins.
    code, body, _ = post(client, cancellation(at=utcnow()), bars_headers(auth["integrator"]))
    assert code == 200, body
    session.expire_all()
    assert session.get_one(Referral, ref.id).status == "cancelled"


def test_a_cancellation_of_an_unknown_service_request_is_404(
    client: FlaskClient, auth: Auth, session: Session, bars: None
) -> None:
    code, body, _ = post(client, cancellation(at=utcnow()), bars_headers(auth["integrator"]))
    assert code == 404
    assert_outcome(body, 404, "not-found", "REC_NOT_FOUND")
    assert session.scalar(select(func.count()).select_from(BarsRequest)) == 0


def test_another_clients_referral_cannot_be_cancelled(
    app: Flask, client: FlaskClient, auth: Auth, session: Session, bars: None
) -> None:
    from tests.builders import api_key_for

    ref = _received(client, auth, session)
    other = {"Authorization": f"Bearer {api_key_for(role='integrator', name='other-111')}"}
    code, _, _ = post(client, cancellation(at=utcnow()), bars_headers(other))
    assert code == 404
    session.expire_all()
    assert session.get_one(Referral, ref.id).status == "sent"


def test_an_update_still_active_is_400_invariant(
    client: FlaskClient, auth: Auth, session: Session, bars: None
) -> None:
    """The standard's pseudo code: an update of a Referral must be revoked or
    entered-in-error; anything else is an unknown workflow."""
    _received(client, auth, session)
    update = cancellation(at=utcnow())
    resource(update, "ServiceRequest")["status"] = "active"
    code, body, _ = post(client, update, bars_headers(auth["integrator"]))
    assert code == 400
    assert_outcome(body, 400, "invariant", "REC_BAD_REQUEST")
