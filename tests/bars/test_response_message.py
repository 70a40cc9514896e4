"""The `servicerequest-response` message (issue 16 §1): it parses with `fhir.resources` R4B and
says what the standard's own response examples say, in the same places.

Sources: NHSDigital-FHIR-BookingAndReferrals `Examples/REFRESP01..03` (vendored in
tests/data/bars/responses/, see SOURCES.md) and the APP6 Response-Payload guidance: event code
and MessageHeader profile, `response.code = ok` naming the request, focus, a rejection as the
receiver's Encounter `cancelled` with `reasonCode` from the rejected-reasons CodeSystem, an
acceptance as the receiver's Encounter `planned` (REFRESP03).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle

from navigator.bars.response_message import REJECTION, ResponseFacts, build_response

RESPONSES = Path(__file__).resolve().parent.parent / "data" / "bars" / "responses"
NOW = datetime(2026, 12, 1, 14, 30, tzinfo=UTC)


def example(prefix: str) -> dict[str, Any]:
    [path] = RESPONSES.glob(f"{prefix}*.xml")
    return Bundle.model_validate_xml(path.read_bytes()).model_dump(mode="json", exclude_none=True)


def resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def by_url(bundle: dict[str, Any], url: str) -> dict[str, Any]:
    [resource] = [e["resource"] for e in bundle["entry"] if e["fullUrl"] == url]
    return resource


def facts(**overrides: Any) -> ResponseFacts:
    values: dict[str, Any] = {
        "message_id": "7b6f3c1e-1b57-4a0e-9d0a-2f3c7f0d8a11",
        "header_id": "5a1f2a0c-7d9e-4c1b-a3f2-0c4b5d6e7f80",
        "now": NOW,
        "referral_id": "0f0e0d0c-0b0a-4909-8807-060504030201",
        "referral_status": "accepted",
        "rejection_reason": None,
        "first": True,
        "referral_created_at": NOW - timedelta(hours=1),
        "request_message_id": "c89a8895-56fe-41de-b20b-fab6efa99c99",
        "service_request_id": "236bb75d-90ef-461f-b71e-fde7f899802c",
        "sender_endpoint": "https://111.example/bars",
        "sender_name": "NHS 111 (test)",
        "target_identifier": "https://fhir.nhs.uk/Id/dos-service-id|111111111",
        "navigator_base": "https://navigator.example/fhir",
        "nhs_number": "9434765919",
    }
    return ResponseFacts(**(values | overrides))


def header(bundle: dict[str, Any]) -> dict[str, Any]:
    first = bundle["entry"][0]["resource"]
    assert first["resourceType"] == "MessageHeader"
    return first


def receivers_encounter(bundle: dict[str, Any]) -> dict[str, Any]:
    """The Encounter that is not the sender's (ours has no statusHistory, REFRESP's receiver
    Encounter is the last one)."""
    return resources(bundle, "Encounter")[-1]


@pytest.mark.parametrize("status", ["accepted", "rejected", "completed"])
def test_every_message_parses_and_has_the_examples_header(status: str) -> None:
    message = build_response(facts(referral_status=status, rejection_reason="no_capacity"))
    assert Bundle.model_validate(message).type == "message"
    ours, theirs = header(message), header(example("REFRESP01"))
    assert ours["eventCoding"] == theirs["eventCoding"]
    assert ours["meta"]["profile"] == theirs["meta"]["profile"]
    assert message["meta"]["profile"] == example("REFRESP01")["meta"]["profile"]
    assert ours["definition"] == theirs["definition"]
    assert ours["response"] == {"identifier": "c89a8895-56fe-41de-b20b-fab6efa99c99", "code": "ok"}
    assert ours["reason"]["coding"][0]["system"] == theirs["reason"]["coding"][0]["system"]
    assert ours["destination"][0]["endpoint"] == "https://111.example/bars"
    # The focus is the sender's ServiceRequest, under its own id, still active.
    service_request = by_url(message, ours["focus"][0]["reference"])
    assert service_request["resourceType"] == "ServiceRequest"
    assert service_request["id"] == "236bb75d-90ef-461f-b71e-fde7f899802c"
    assert service_request["status"] == "active"
    assert service_request["intent"] == "plan"


def test_an_acceptance_is_the_receivers_encounter_planned_like_refresp03() -> None:
    message = build_response(facts())
    encounter = receivers_encounter(message)
    assert receivers_encounter(example("REFRESP03"))["status"] == encounter["status"] == "planned"
    assert "reasonCode" not in encounter
    assert encounter["id"] == "0f0e0d0c-0b0a-4909-8807-060504030201"


def test_a_completion_is_finished_and_an_update() -> None:
    message = build_response(facts(referral_status="completed", first=False))
    assert receivers_encounter(message)["status"] == "finished"
    assert header(message)["reason"]["coding"][0]["code"] == "update"


@pytest.mark.parametrize(
    ("reason", "code"),
    [
        ("no_capacity", "RRNA"),
        ("could_not_contact", "FC"),
        ("not_eligible", "OTH"),
        ("declined_by_patient", "OTH"),
        ("other", "OTH"),
    ],
)
def test_a_rejection_carries_its_reason_as_refresp02_does(reason: str, code: str) -> None:
    message = build_response(facts(referral_status="rejected", rejection_reason=reason))
    encounter = receivers_encounter(message)
    theirs = receivers_encounter(example("REFRESP02"))
    assert encounter["status"] == theirs["status"] == "cancelled"
    [ours_reason], [their_reason] = encounter["reasonCode"], theirs["reasonCode"]
    assert ours_reason["coding"][0]["system"] == their_reason["coding"][0]["system"]
    assert ours_reason["coding"][0]["code"] == code
    assert ours_reason["text"] == REJECTION[reason][2]  # the reason in words


def test_the_patient_is_only_the_nhs_number_the_sender_sent() -> None:
    [patient] = resources(build_response(facts()), "Patient")
    assert set(patient) == {"resourceType", "meta", "identifier"}
    assert patient["identifier"] == [
        {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765919"}
    ]
    [anonymous] = resources(build_response(facts(nhs_number=None)), "Patient")
    assert "identifier" not in anonymous


def test_statuses_that_do_not_go_back_are_refused() -> None:
    with pytest.raises(KeyError):
        build_response(facts(referral_status="on_hold"))
