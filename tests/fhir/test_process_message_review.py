"""`POST /fhir/$process-message` and what it leads to, after the review of issue 16 (a code
reviewer's and an attacker's findings), each through the real receiver:

- ids that can go back: an absolute `fullUrl` gives its last segment (FHIR R4 Bundle), and
  the status responses of such a referral are built (finding 1);
- the NHSD-Target-Identifier kept decoded, so the responses' HealthcareService carries its
  system and value (BaRS API 1.4.0, TargetIdentifier; finding 2);
- one referral identity in the 200 answer, the ServiceRequest read and every status
  response: the same identifier, an Encounter with id = the referral id and class EMER
  (finding 5);
- ServiceRequest status only `active` or `revoked` (BaRS Referral-Payload: "one of three
  values: 'active', 'revoked' or 'entered-in-error'"), navigator's decision on the Encounter
  (finding 6);
- the standard's order: every 400 of the Bundle before a 422 (BaRS Core 1.5.0 Error-Handling,
  Bundle-Processing; finding 7);
- no 500 from a stored `"meta": null` (finding 9), an `Accept` version that is not ASCII
  digits or is too long (finding 10), a target header that nests too deep (finding 11);
- ServiceRequest ids scoped to the client that sent them (finding 12);
- only JSON bodies (finding 13), and the transaction ids echoed as used (finding 14).
"""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from navigator.bars.models import BarsOutboxMessage, BarsReferral
from navigator.core.db import transaction, utcnow
from navigator.referrals.models import Referral
from navigator.referrals.service import change_status
from tests.builders import api_key_for
from tests.fhir.bars_messages import (
    SERVICE_SYSTEM,
    SR_ID,
    bars_headers,
    cancellation,
    referral,
    resource,
    with_new_ids,
)
from tests.fhir.test_process_message import (  # noqa: F401 - `bars` is a fixture
    URL,
    assert_outcome,
    bars,
    counts,
    post,
)

Auth = dict[str, dict[str, str]]
pytestmark = pytest.mark.usefixtures("bars")


def received(session: Session) -> Referral:
    session.expire_all()
    return session.scalars(select(Referral)).one()


def set_status(session: Session, referral_id: str, **body: Any) -> None:
    with transaction(session):
        held = session.get_one(Referral, referral_id)
        change_status(session, held, body, actor="tests", now=utcnow())


def sent_messages(session: Session, referral_id: str) -> list[dict[str, Any]]:
    session.expire_all()
    rows = session.scalars(
        select(BarsOutboxMessage)
        .where(BarsOutboxMessage.referral_id == referral_id)
        .order_by(BarsOutboxMessage.created_at)
    )
    return [row.bundle for row in rows]


def test_an_absolute_full_url_is_kept_as_its_id_and_the_status_goes_back(
    client: FlaskClient, auth: Auth, session: Session
) -> None:
    """Finding 1: with the ServiceRequest and MessageHeader under absolute fullUrls (no ids),
    the referral keeps their last segments, and accepting it builds its response (before the
    fix, the whole URL was the id and every status change of the referral was a 500)."""
    bundle = referral()
    sr = next(i for i, e in enumerate(bundle["entry"]) if e["fullUrl"] == f"urn:uuid:{SR_ID}")
    sr_url = "https://ems.example.nhs.uk/fhir/ServiceRequest/sr-1"
    bundle["entry"][sr]["fullUrl"] = sr_url
    bundle["entry"][0]["fullUrl"] = "https://ems.example.nhs.uk/fhir/MessageHeader/mh-1"
    bundle["entry"][0]["resource"]["focus"] = [{"reference": sr_url}]
    status, body, _ = post(client, bundle, bars_headers(auth["integrator"]))
    assert status == 200, body
    ref = received(session)
    bars_row = session.get_one(BarsReferral, ref.id)
    assert (bars_row.service_request_id, bars_row.request_message_id) == ("sr-1", "mh-1")
    set_status(session, ref.id, status="accepted")
    [message] = sent_messages(session, ref.id)
    assert resource(message, "ServiceRequest")["id"] == "sr-1"
    assert message["entry"][0]["resource"]["response"]["identifier"] == "mh-1"

    bad = referral()
    bad_url = "https://ems.example.nhs.uk/fhir/ServiceRequest/sr:1"
    bad["entry"][sr]["fullUrl"] = bad_url
    bad["entry"][0]["resource"]["focus"] = [{"reference": bad_url}]
    status, body, _ = post(client, bad, bars_headers(auth["integrator"]))
    assert status == 400
    assert_outcome(body, 400, "invariant", "REC_BAD_REQUEST")
    assert body["issue"][0]["expression"] == [f"Bundle.entry[{sr}].fullUrl"]


def test_the_responses_healthcare_service_carries_the_target_system_and_value(
    client: FlaskClient, auth: Auth, session: Session
) -> None:
    """Finding 2: the NHSD-Target-Identifier is kept decoded (`system|value`), so the status
    response names the service as the sender named it (before: the raw Base64 as a value)."""
    assert post(client, referral(), bars_headers(auth["integrator"]))[0] == 200
    ref = received(session)
    assert session.get_one(BarsReferral, ref.id).target_identifier == f"{SERVICE_SYSTEM}|test-ed"
    set_status(session, ref.id, status="accepted")
    [message] = sent_messages(session, ref.id)
    assert resource(message, "HealthcareService")["identifier"] == [
        {"system": SERVICE_SYSTEM, "value": "test-ed"}
    ]


def test_one_referral_identity_in_the_answer_the_read_and_every_response(
    client: FlaskClient, auth: Auth, session: Session
) -> None:
    """Finding 5: the 200 answer's Encounter, the ServiceRequest read and the status
    response carry the same referral identifier, and the Encounter is the referral's (id =
    referral id, class EMER as BaRS fixes it) in both messages."""
    status, answer, _ = post(client, referral(), bars_headers(auth["integrator"]))
    assert status == 200
    ref = received(session)
    set_status(session, ref.id, status="accepted")
    [message] = sent_messages(session, ref.id)
    read = client.get(f"/fhir/ServiceRequest/{ref.id}", headers=auth["integrator"]).get_json()
    ours = resource(answer, "Encounter")["identifier"][0]
    assert ours["system"] == "http://localhost/fhir/Id/referral"
    assert ours["value"].startswith("NAV-")
    assert ours in resource(answer, "ServiceRequest")["identifier"]
    assert ours in read["identifier"]
    for encounter in (resource(answer, "Encounter"), resource(message, "Encounter")):
        assert encounter["id"] == ref.id
        assert encounter["class"]["code"] == "EMER"
        assert encounter["identifier"] == [ours]


@pytest.mark.parametrize(
    ("steps", "shown"),
    [
        ([{"status": "accepted"}], "active"),
        ([{"status": "on_hold", "reason": "Waiting for a call back"}], "active"),
        ([{"status": "accepted"}, {"status": "completed", "outcome": "Seen"}], "active"),
        ([{"status": "rejected", "reason": "no_capacity"}], "revoked"),
    ],
)
def test_the_service_request_is_only_ever_active_or_revoked(
    client: FlaskClient,
    auth: Auth,
    session: Session,
    steps: list[dict[str, str]],
    shown: str,
) -> None:
    """Finding 6 (BaRS Referral-Payload: ServiceRequest.status is active, revoked or
    entered-in-error): never on-hold or completed; navigator's decision is the Encounter's
    status in the response (REFRESP02/03)."""
    assert post(client, referral(), bars_headers(auth["integrator"]))[0] == 200
    ref = received(session)
    for step in steps:
        set_status(session, ref.id, **step)
    read = client.get(f"/fhir/ServiceRequest/{ref.id}", headers=auth["integrator"]).get_json()
    assert read["status"] == shown
    for message in sent_messages(session, ref.id):
        assert resource(message, "ServiceRequest")["status"] == "active"
    if shown == "revoked":
        assert resource(sent_messages(session, ref.id)[-1], "Encounter")["status"] == "cancelled"


def test_a_cancellations_answer_is_revoked_with_a_cancelled_encounter(
    client: FlaskClient, auth: Auth, session: Session
) -> None:
    """Finding 6: the 200 answer to a cancellation carries navigator's decision on the
    Encounter."""
    assert post(client, referral(), bars_headers(auth["integrator"]))[0] == 200
    status, answer, _ = post(client, cancellation(at=utcnow()), bars_headers(auth["integrator"]))
    assert status == 200, answer
    assert resource(answer, "ServiceRequest")["status"] == "revoked"
    assert resource(answer, "Encounter")["status"] == "cancelled"


@pytest.mark.parametrize("fault", ["no name", "bad NHS number"])
@pytest.mark.parametrize("unsupported", ["unknown target", "unregistered endpoint"])
def test_a_bundle_fault_is_400_before_any_422(
    client: FlaskClient, auth: Auth, session: Session, fault: str, unsupported: str
) -> None:
    """Finding 7 (Bundle-Processing: the Bundle's checks, step 4, before what the receiver
    does not support, step 5): a patient without a name or with an invalid NHS number is 400
    even when the target or the sender's endpoint would be 422."""
    bundle = referral(nhs_number="9434765918" if fault == "bad NHS number" else "9434765919")
    if fault == "no name":
        resource(bundle, "Patient").pop("name")
    target: str | None = "test-ed"
    if unsupported == "unknown target":
        target = "no-such-service"
    else:
        bundle["entry"][0]["resource"]["source"]["endpoint"] = "https://elsewhere.example.com/"
    status, body, _ = post(client, bundle, bars_headers(auth["integrator"], target=target))
    assert status == 400, body
    expected = (
        ("required", "Patient.name") if fault == "no name" else ("value", "Patient.identifier")
    )
    assert (body["issue"][0]["code"], body["issue"][0]["expression"]) == (
        expected[0],
        [expected[1]],
    )
    assert counts(session) == (0, 0, 0, 0)


def test_a_stored_service_request_with_meta_null_reads(
    client: FlaskClient, auth: Auth, session: Session
) -> None:
    """Finding 9: `"meta": null` is valid FHIR JSON and kept as received; the read treats it
    as absent (before: a 500)."""
    bundle = referral()
    resource(bundle, "ServiceRequest")["meta"] = None
    assert post(client, bundle, bars_headers(auth["integrator"]))[0] == 200
    ref = received(session)
    read = client.get(f"/fhir/ServiceRequest/{ref.id}", headers=auth["integrator"])
    assert read.status_code == 200, read.text
    assert read.get_json()["meta"]["lastUpdated"]


@pytest.mark.parametrize(
    "version",
    ["\u00b2", "1\u00b2", "9" * 5000, "\uff11.0.0"],
    ids=["sup2", "1sup2", "5000 nines", "fullwidth 1"],
)
def test_an_accept_version_that_is_not_a_small_ascii_number_is_406(
    client: FlaskClient, auth: Auth, session: Session, version: str
) -> None:
    """Finding 10: `str.isdigit` is true for "²" (which int() refuses) and int() refuses
    thousands of digits: both were 500s."""
    headers = bars_headers(auth["integrator"])
    headers["Accept"] = f"application/fhir+json; version={version}"
    response = client.post(
        URL,
        data=json.dumps(referral()),
        headers={k: v for k, v in headers.items() if k != "Accept"},
        environ_overrides={"HTTP_ACCEPT": headers["Accept"]},
    )
    assert response.status_code == 406, response.text
    assert_outcome(response.get_json(), 406, "not-supported", "REC_NOT_ACCEPTABLE")


@pytest.mark.parametrize(
    "header",
    [
        base64.b64encode(b"[" * 4000).decode(),
        base64.b64encode(
            json.dumps({"value": "x" * 2000, "system": SERVICE_SYSTEM}).encode()
        ).decode(),
    ],
    ids=["nested 4000 deep", "too long"],
)
def test_a_target_header_too_deep_or_too_long_is_400_value(
    client: FlaskClient, auth: Auth, session: Session, header: str
) -> None:
    """Finding 11: Base64 of 4,000 "[" made the JSON decoder recurse too deep (a 500)."""
    headers = bars_headers(auth["integrator"])
    headers["NHSD-Target-Identifier"] = header
    status, body, _ = post(client, referral(), headers)
    assert status == 400, body
    assert_outcome(body, 400, "value", "REC_BAD_REQUEST")
    assert body["issue"][0]["expression"] == ["NHSD-Target-Identifier"]


def test_service_request_ids_are_scoped_to_the_client(
    client: FlaskClient, auth: Auth, session: Session
) -> None:
    """Finding 12: another integrator sending a ServiceRequest id this one used is not told
    it exists (no 409): it gets its own referral (the idempotency key is (client, `bars:<SR
    id>`)), and each client's cancellation finds its own referral only."""
    assert post(client, referral(), bars_headers(auth["integrator"]))[0] == 200
    other = {"Authorization": f"Bearer {api_key_for(role='integrator', name='other-111')}"}
    status, body, _ = post(client, referral(), bars_headers(other))
    assert status == 200, body
    # Each client's own duplicate is still a duplicate.
    status, body, _ = post(client, referral(), bars_headers(other))
    assert (status, body["issue"][0]["code"]) == (409, "duplicate")
    session.expire_all()
    referrals = session.scalars(select(Referral).order_by(Referral.created_at)).all()
    assert len(referrals) == 2
    first, second = referrals
    assert post(client, cancellation(at=utcnow()), bars_headers(other))[0] == 200
    session.expire_all()
    assert (
        session.get_one(Referral, first.id).status,
        session.get_one(Referral, second.id).status,
    ) == (
        "sent",
        "cancelled",
    )


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/fhir+xml",
        None,
    ],
)
def test_a_body_that_is_not_json_is_415(
    client: FlaskClient, auth: Auth, session: Session, content_type: str | None
) -> None:
    """Finding 13: only application/fhir+json and application/json are read."""
    headers = bars_headers(auth["integrator"])
    headers.pop("Content-Type")
    if content_type is not None:
        headers["Content-Type"] = content_type
    response = client.post(URL, data=json.dumps(referral()), headers=headers)
    assert response.status_code == 415, response.text
    body = response.get_json(force=True)
    assert_outcome(body, 415, "not-supported", "REC_BAD_REQUEST")
    assert body["issue"][0]["expression"] == ["Content-Type"]
    assert counts(session) == (0, 0, 0, 0)


def test_application_json_with_parameters_is_read(client: FlaskClient, auth: Auth) -> None:
    headers = bars_headers(auth["integrator"])
    headers["Content-Type"] = "application/json; charset=utf-8"
    assert post(client, with_new_ids(referral(), str(uuid.uuid4())), headers)[0] == 200
    headers = bars_headers(auth["integrator"])
    headers["Content-Type"] = "application/fhir+json; fhirVersion=4.0"
    assert post(client, with_new_ids(referral(), str(uuid.uuid4())), headers)[0] == 200


def test_transaction_ids_with_surrounding_spaces_are_echoed_as_used(
    client: FlaskClient, auth: Auth
) -> None:
    """Finding 14: an X-Request-Id accepted after stripping its spaces is echoed stripped
    (before: accepted, and not echoed at all)."""
    headers = bars_headers(auth["integrator"])
    request_id, correlation_id = headers["X-Request-Id"], headers["X-Correlation-Id"]
    response = client.post(
        URL,
        data=json.dumps(referral()),
        headers={k: v for k, v in headers.items() if not k.startswith("X-")},
        environ_overrides={
            "HTTP_X_REQUEST_ID": f"  {request_id} ",
            "HTTP_X_CORRELATION_ID": f"\t{correlation_id}  ",
        },
    )
    assert response.status_code == 200, response.text
    assert response.headers["X-Request-Id"] == request_id
    assert response.headers["X-Correlation-Id"] == correlation_id
