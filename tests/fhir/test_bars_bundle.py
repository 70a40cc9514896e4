"""Reading a BaRS message Bundle (navigator/fhir/bars_bundle.py, bars_message.py and
bars_content.py; issue 16 §1 "Check in the standard's order", "Diagnostics never contain
patient-identifiable data", "Patients without an NHS number are accepted", the Flags).

Protects, through the modules' public functions only (`parse_bundle`, `read_message`,
`patient_data`, `clinical`, `flags`, `from_111`):
- `parse_bundle` refuses a body that is not UTF-8, not JSON, nested too deep, carries text that
  cannot be stored (NUL, a lone surrogate: named by path), is not a Bundle, or is not valid
  FHIR R4B, naming the FHIR path and never echoing the value;
- `read_message` applies each rule of the BaRS receiver's Bundle-Processing pseudo code it
  implements, one test per rule (source: NHSDigital/NHSDigital-FHIR-BookingAndReferrals,
  guides/Live-ImplementationGuide-BaRS/Home/Core/1-5-0/Error-Handling/Failure-Scenarios-1-1-x/
  Bundle-Processing.page.md, "Message workflow variable validations" and the full pseudo
  code at its end);
- the mapping of the published REFREQ01's patient, clinical content and Flags to navigator's
  shapes.

Inputs are the published examples in tests/data/bars/requests (REFREQ01, SERVREQ01, SERVREQ02;
SOURCES.md there says how tests/fhir/bars_messages.py adapts them), each broken in exactly one
place per test.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle

from navigator.core.errors import Problem
from navigator.fhir.bars_bundle import parse_bundle
from navigator.fhir.bars_content import clinical, flags, from_111, patient_data
from navigator.fhir.bars_message import BarsMessage, read_message
from tests.fhir.bars_messages import (
    NHS_NUMBER,
    PUBLISHED_NHS_NUMBER,
    SERVREQ02,
    SR_ID,
    cancellation,
    referral,
    resource,
)

SECRET = "Julie-Jones-1959-SECRET"  # a value that must never come back in a refusal


def parsed(bundle: dict[str, Any] | bytes) -> tuple[Bundle, dict[str, Any]]:
    body = bundle if isinstance(bundle, bytes) else json.dumps(bundle).encode()
    return parse_bundle(body)


def message(bundle: dict[str, Any]) -> BarsMessage:
    return read_message(parsed(bundle)[0])


def refused(action: Callable[[], Any]) -> Problem:
    with pytest.raises(Problem) as caught:
        action()
    return caught.value


def refusal_text(problem: Problem) -> str:
    return json.dumps([str(problem), problem.detail, problem.errors])


def entry_of(bundle: dict[str, Any], kind: str) -> int:
    return next(i for i, e in enumerate(bundle["entry"]) if e["resource"]["resourceType"] == kind)


# --- parse_bundle -------------------------------------------------------------------------------


def test_the_published_referral_parses_and_unread_resources_are_kept_as_received() -> None:
    """REFREQ01 (adapted) is valid R4B; resources navigator does not read (MedicationStatement,
    QuestionnaireResponse …) are kept in the JSON as sent (issue 16: keep the whole Bundle)."""
    sent = referral()
    bundle, as_sent = parsed(sent)
    assert as_sent == sent
    assert bundle.type == "message"
    kinds = [e.resource.get_resource_type() for e in bundle.entry or [] if e.resource]
    assert kinds[:4] == ["MessageHeader", "Encounter", "CarePlan", "ServiceRequest"]
    meds = entry_of(sent, "MedicationStatement")
    assert as_sent["entry"][meds]["resource"]["resourceType"] == "MedicationStatement"


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"", b'{"resourceType": NaN}', b"[1, 2"],
    ids=["broken", "empty", "nan-constant", "unterminated"],
)
def test_a_body_that_is_not_json_is_400_structure(body: bytes) -> None:
    problem = refused(lambda: parse_bundle(body))
    assert (problem.status, problem.code) == (400, "structure")
    assert problem.errors == {"body": ["The body is not valid JSON."]}


def test_a_body_that_is_not_utf8_is_400_structure() -> None:
    body = json.dumps(referral()).encode("utf-16")
    problem = refused(lambda: parse_bundle(body))
    assert (problem.status, problem.code) == (400, "structure")
    assert problem.errors == {"body": ["The body is not valid UTF-8."]}


def test_a_body_nested_too_deep_is_400_structure_not_a_crash() -> None:
    """Deeper than `max_depth` is refused before fhir.resources sees it; nesting deep enough to
    exhaust Python's stack in the JSON parser is refused too (no input gives a 500)."""
    bundle = referral()
    deep: Any = "x"
    for _ in range(40):
        deep = [deep]
    resource(bundle, "Patient")["extension"][0]["valueString"] = deep
    problem = refused(lambda: parsed(bundle))
    assert (problem.status, problem.code) == (400, "structure")
    assert list(problem.errors or {}) == ["body"]
    assert "32" in (problem.detail or "")

    very_deep = b"[" * 200_000 + b"]" * 200_000
    problem = refused(lambda: parse_bundle(very_deep))
    assert (problem.status, problem.code) == (400, "structure")


@pytest.mark.parametrize(
    ("text", "escaped"),
    [(f"Jones\x00{SECRET}", None), ("Jones", '"Jones\\ud800' + SECRET + '"')],
    ids=["nul", "lone-surrogate"],
)
def test_text_that_cannot_be_stored_is_named_by_its_path(text: str, escaped: str | None) -> None:
    """PostgreSQL cannot store NUL and UTF-8 cannot encode a lone surrogate: 400 `value`,
    naming where (the Patient's family name) and not what."""
    bundle = referral()
    position = entry_of(bundle, "Patient")
    resource(bundle, "Patient")["name"][0]["family"] = text
    body = json.dumps(bundle)
    if escaped is not None:
        body = body.replace('"Jones"', escaped, 1)
    problem = refused(lambda: parse_bundle(body.encode()))
    assert (problem.status, problem.code) == (400, "value")
    assert list(problem.errors or {}) == [f"Bundle.entry.{position}.resource.name.0.family"]
    assert SECRET not in refusal_text(problem)


@pytest.mark.parametrize(
    "value",
    [{"resourceType": "Patient", "id": "x"}, [{"resourceType": "Bundle"}], "Bundle", 42, {}],
    ids=["patient", "list", "string", "number", "empty-object"],
)
def test_a_body_that_is_not_a_bundle_is_400(value: Any) -> None:
    problem = refused(lambda: parse_bundle(json.dumps(value).encode()))
    assert (problem.status, problem.code) == (400, "structure")
    assert problem.errors == {"Bundle": ["The body must be a FHIR Bundle resource."]}


def test_a_wrong_type_is_named_by_its_fhir_path_without_echoing_the_value() -> None:
    """fhir.resources' complaint is reported as the FHIR path and pydantic's error type, never
    its message (which quotes the input)."""
    bundle = referral()
    position = entry_of(bundle, "ServiceRequest")
    resource(bundle, "ServiceRequest")["status"] = {"text": SECRET}
    problem = refused(lambda: parsed(bundle))
    assert (problem.status, problem.code) == (400, "structure")
    assert f"Bundle.entry[{position}].resource.status" in (problem.errors or {})
    assert SECRET not in refusal_text(problem)


def test_an_unknown_element_in_a_read_resource_is_named() -> None:
    bundle = referral()
    position = entry_of(bundle, "Patient")
    resource(bundle, "Patient")["favouriteColour"] = SECRET
    problem = refused(lambda: parsed(bundle))
    assert (problem.status, problem.code) == (400, "structure")
    assert f"Bundle.entry[{position}].resource.favouriteColour" in (problem.errors or {})
    assert SECRET not in refusal_text(problem)


def test_an_unknown_resource_type_is_refused_even_where_not_read() -> None:
    bundle = referral()
    position = entry_of(bundle, "MedicationStatement")
    bundle["entry"][position]["resource"] = {"resourceType": "NotAResource", "note": SECRET}
    problem = refused(lambda: parsed(bundle))
    assert (problem.status, problem.code) == (400, "structure")
    assert problem.errors == {f"Bundle.entry[{position}].resource": ["Not an R4 resource type."]}


def test_an_envelope_of_the_wrong_shape_is_400_structure() -> None:
    bundle = referral()
    bundle["entry"] = {"resource": SECRET}
    problem = refused(lambda: parsed(bundle))
    assert (problem.status, problem.code) == (400, "structure")
    assert SECRET not in refusal_text(problem)


# --- read_message: the Bundle-Processing rules, one by one ---------------------------------------


def invariant_at(bundle: dict[str, Any], path: str) -> None:
    problem = refused(lambda: message(bundle))
    assert (problem.status, problem.code) == (400, "invariant"), problem.detail
    assert list(problem.errors or {}) == [path]


def unsupported_at(bundle: dict[str, Any], path: str) -> None:
    problem = refused(lambda: message(bundle))
    assert (problem.status, problem.code) == (422, "not-supported"), problem.detail
    assert list(problem.errors or {}) == [path]


def test_the_published_referral_and_cancellations_read() -> None:
    """REFREQ01: event servicerequest-request, reason new, focus the ServiceRequest;
    SERVREQ01 (update, revoked) and SERVREQ02 (delete, entered-in-error) are cancellations."""
    read = message(referral())
    assert (read.event, read.reason, read.category, read.use_case) == (
        "servicerequest-request",
        "new",
        "referral",
        "a1t1",
    )
    assert read.service_request_id == SR_ID
    assert read.message_id == "c89a8895-56fe-41de-b20b-fab6efa99c99"
    assert not read.is_cancellation
    assert read.patient is not None and read.encounter is not None and read.care_plan is not None
    for bundle, reason, status in (
        (cancellation(), "update", "revoked"),
        (cancellation(SERVREQ02), "delete", "entered-in-error"),
    ):
        read = message(bundle)
        assert (read.reason, read.service_request.status) == (reason, status)
        assert read.is_cancellation
        assert read.service_request_id == SR_ID


def test_a_bundle_that_is_not_a_message_is_invariant() -> None:
    """A BaRS payload is a Bundle of type `message` (BARSBundleMessage profile)."""
    bundle = referral()
    bundle["type"] = "collection"
    invariant_at(bundle, "Bundle.type")


def test_a_missing_meta_version_id_is_invariant() -> None:
    """Bundle-Processing: `Bundle.meta.versionId` missing → 400 invariant."""
    bundle = referral()
    del bundle["meta"]["versionId"]
    invariant_at(bundle, "Bundle.meta.versionId")


@pytest.mark.parametrize("version", ["2.0.0", "0.9.1", "10.0.0"])
def test_another_major_version_is_not_supported(version: str) -> None:
    """Bundle-Processing: a versionId the receiver does not support → 422 (navigator reads
    major 1: REFREQ01 is 1.0.0, SERVREQ01 1.1.0)."""
    bundle = referral()
    bundle["meta"]["versionId"] = version
    unsupported_at(bundle, "Bundle.meta.versionId")


@pytest.mark.parametrize("version", ["1.0.0", "1.1.0", "1.5.0", "1"])
def test_any_minor_version_of_major_1_is_read(version: str) -> None:
    bundle = referral()
    bundle["meta"]["versionId"] = version
    assert message(bundle).event == "servicerequest-request"


def test_a_message_without_its_timestamp_is_invariant() -> None:
    """FHIR bdl-12 (a message Bundle has a timestamp); navigator orders cancellations by it."""
    bundle = referral()
    del bundle["timestamp"]
    invariant_at(bundle, "Bundle.timestamp")


def test_the_first_entry_must_be_the_message_header() -> None:
    """FHIR bdl-12 and BaRS: the first entry of a message Bundle is its MessageHeader."""
    bundle = referral()
    bundle["entry"][0], bundle["entry"][1] = bundle["entry"][1], bundle["entry"][0]
    invariant_at(bundle, "Bundle.entry[0]")
    bundle["entry"] = []
    invariant_at(bundle, "Bundle.entry[0]")


@pytest.mark.parametrize(
    "event", ["servicerequest-response", "booking-request", "booking-response"]
)
def test_another_bars_event_is_not_supported(event: str) -> None:
    """Bundle-Processing switches on `MessageHeader.eventCoding`: a BaRS workflow navigator
    does not receive is 422 (REC_UNPROCESSABLE_ENTITY), not a malformed message."""
    bundle = referral()
    bundle["entry"][0]["resource"]["eventCoding"]["code"] = event
    unsupported_at(bundle, "MessageHeader.eventCoding")


def test_an_unknown_event_is_invariant() -> None:
    """Bundle-Processing: no known workflow → RequestType unknown → 400 invariant."""
    bundle = referral()
    bundle["entry"][0]["resource"]["eventCoding"]["code"] = "referral-please"
    invariant_at(bundle, "MessageHeader.eventCoding")


@pytest.mark.parametrize("reason", ["renew", None])
def test_a_reason_other_than_new_update_delete_is_invariant(reason: str | None) -> None:
    """Bundle-Processing: `MessageHeader.reason.code` new / update / delete drive the workflow;
    anything else (or none) is unknown → 400 invariant."""
    bundle = referral()
    header = bundle["entry"][0]["resource"]
    if reason is None:
        del header["reason"]
    else:
        header["reason"]["coding"][0]["code"] = reason
    invariant_at(bundle, "MessageHeader.reason")


def test_the_focus_must_resolve_to_a_service_request_in_the_bundle() -> None:
    """BaRS MessageHeader.focus references the ServiceRequest (the request's subject matter):
    to another resource type, to nothing in the Bundle, or absent → 400 invariant."""
    patient_url = referral()["entry"][entry_of(referral(), "Patient")]["fullUrl"]
    for focus in ([{"reference": patient_url}], [{"reference": "urn:uuid:not-here"}], None):
        bundle = referral()
        header = bundle["entry"][0]["resource"]
        if focus is None:
            del header["focus"]
        else:
            header["focus"] = focus
        invariant_at(bundle, "MessageHeader.focus")


def test_the_focus_may_name_the_service_request_by_type_and_id() -> None:
    """A literal reference `ServiceRequest/{id}` (or an absolute URL ending in it) resolves to
    the entry with that id, as FHIR's reference resolution in a Bundle allows."""
    bundle = referral()
    resource(bundle, "ServiceRequest")["id"] = "sr-1"
    bundle["entry"][0]["resource"]["focus"] = [
        {"reference": "https://ems.example.nhs.uk/fhir/ServiceRequest/sr-1"}
    ]
    assert message(bundle).service_request_id == "sr-1"


@pytest.mark.parametrize("status", ["draft", "on-hold", "revoked", "completed"])
def test_a_new_referral_must_be_active(status: str) -> None:
    """Bundle-Processing: reason `new` with ServiceRequest.status other than `active` → 400
    invariant."""
    bundle = referral()
    resource(bundle, "ServiceRequest")["status"] = status
    invariant_at(bundle, "ServiceRequest.status")


def test_a_new_referral_needs_its_category() -> None:
    """Bundle-Processing switches on ServiceRequest.category; none → unknown → 400."""
    bundle = referral()
    category = resource(bundle, "ServiceRequest")["category"][0]
    category["coding"] = [c for c in category["coding"] if "message-category" not in c["system"]]
    invariant_at(bundle, "ServiceRequest.category")


def test_another_category_is_not_supported() -> None:
    """A validation request (category `validation`) is BaRS, but not what navigator receives:
    422."""
    bundle = referral()
    coding = resource(bundle, "ServiceRequest")["category"][0]["coding"][0]
    coding["code"] = "validation"
    unsupported_at(bundle, "ServiceRequest.category")


def test_the_subject_must_be_a_patient_in_the_bundle() -> None:
    bundle = referral()
    resource(bundle, "ServiceRequest")["subject"] = {"reference": "urn:uuid:nobody"}
    invariant_at(bundle, "ServiceRequest.subject")


def test_the_encounter_must_be_in_the_bundle() -> None:
    bundle = referral()
    del resource(bundle, "ServiceRequest")["encounter"]
    invariant_at(bundle, "ServiceRequest.encounter")


@pytest.mark.parametrize("status", ["in-progress", "planned", "cancelled"])
def test_a_referrals_encounter_is_triaged_or_finished(status: str) -> None:
    """Bundle-Processing: category Referral needs Encounter.status triaged or finished."""
    bundle = referral()
    resource(bundle, "Encounter")["status"] = status
    invariant_at(bundle, "Encounter.status")


def test_a_triaged_encounter_is_read() -> None:
    bundle = referral()
    resource(bundle, "Encounter")["status"] = "triaged"
    encounter = message(bundle).encounter
    assert encounter is not None and encounter.status == "triaged"


def test_the_care_plan_must_be_in_the_bundle() -> None:
    bundle = referral()
    resource(bundle, "ServiceRequest")["basedOn"] = [{"reference": "urn:uuid:no-plan"}]
    invariant_at(bundle, "ServiceRequest.basedOn")


@pytest.mark.parametrize("status", ["active", "draft", "revoked"])
def test_a_referrals_care_plan_is_completed(status: str) -> None:
    """Bundle-Processing: category Referral needs CarePlan.status completed."""
    bundle = referral()
    resource(bundle, "CarePlan")["status"] = status
    invariant_at(bundle, "CarePlan.status")


@pytest.mark.parametrize("status", ["active", "draft", "completed"])
def test_an_update_must_revoke_or_enter_in_error(status: str) -> None:
    """Bundle-Processing: reason `update` of a Referral with ServiceRequest neither revoked nor
    entered-in-error is an unknown workflow → 400 invariant (SERVREQ01 carries revoked)."""
    bundle = cancellation()
    resource(bundle, "ServiceRequest")["status"] = status
    invariant_at(bundle, "ServiceRequest.status")


# --- patient_data -------------------------------------------------------------------------------


def test_the_published_patient_is_read() -> None:
    """REFREQ01's Patient as /api/v1's PatientInSchema loads one; the GP practice is the ODS
    code of the Organization the Patient's generalPractitioner references."""
    assert patient_data(message(referral())) == {
        "nhs_number": NHS_NUMBER,
        "name": "Mrs Julie Jones",
        "date_of_birth": date(1959, 5, 4),
        "sex": "female",
        "postcode": "LS10 4YU",
        "gp_practice_ods": "G82080",
        "care_home_service_id": None,
    }


def test_the_published_nhs_number_fails_its_check_digit_and_is_refused_unechoed() -> None:
    """REFREQ01's 3478526985 fails the modulus-11 check (NHS Data Dictionary): 400 `value` at
    Patient.identifier, rather than matching a patient on a mistyped number."""
    bundle = referral(nhs_number=PUBLISHED_NHS_NUMBER)
    problem = refused(lambda: patient_data(message(bundle)))
    assert (problem.status, problem.code) == (400, "value")
    assert list(problem.errors or {}) == ["Patient.identifier"]
    assert PUBLISHED_NHS_NUMBER not in refusal_text(problem)


def test_a_patient_without_an_nhs_number_is_accepted() -> None:
    """Issue 16: patients without an NHS number are accepted (BaRS allows them)."""
    assert patient_data(message(referral(nhs_number=None)))["nhs_number"] is None


def test_an_nhs_number_in_another_system_is_not_read() -> None:
    bundle = referral()
    resource(bundle, "Patient")["identifier"][0]["system"] = "https://example.org/mrn"
    assert patient_data(message(bundle))["nhs_number"] is None


def test_a_spaced_nhs_number_is_normalised() -> None:
    bundle = referral(nhs_number="943 476 5919")
    assert patient_data(message(bundle))["nhs_number"] == NHS_NUMBER


def test_the_name_official_first_else_given_and_family() -> None:
    bundle = referral()
    resource(bundle, "Patient")["name"] = [
        {"use": "nickname", "text": "Jules"},
        {"use": "official", "given": ["Julie", "Anne"], "family": "Jones"},
    ]
    assert patient_data(message(bundle))["name"] == "Julie Anne Jones"


def test_a_patient_without_a_name_is_400_required() -> None:
    bundle = referral()
    resource(bundle, "Patient")["name"] = [{"use": "official", "text": "   "}]
    problem = refused(lambda: patient_data(message(bundle)))
    assert (problem.status, problem.code) == (400, "required")
    assert list(problem.errors or {}) == ["Patient.name"]


def test_a_birth_date_in_the_future_or_absent_is_not_kept() -> None:
    bundle = referral()
    resource(bundle, "Patient")["birthDate"] = (date.today() + timedelta(days=2)).isoformat()
    assert patient_data(message(bundle))["date_of_birth"] is None
    del resource(bundle, "Patient")["birthDate"]
    assert patient_data(message(bundle))["date_of_birth"] is None


@pytest.mark.parametrize(
    ("gender", "sex"),
    [
        ("female", "female"),
        ("male", "male"),
        ("other", "other"),
        ("unknown", "unknown"),
        (None, "unknown"),
    ],
)
def test_fhir_administrative_gender_maps_to_sex(gender: str | None, sex: str) -> None:
    bundle = referral()
    if gender is None:
        del resource(bundle, "Patient")["gender"]
    else:
        resource(bundle, "Patient")["gender"] = gender
    assert patient_data(message(bundle))["sex"] == sex


def test_the_home_postcode_is_preferred_and_a_partial_one_is_not_kept() -> None:
    bundle = referral()
    resource(bundle, "Patient")["address"] = [
        {"use": "work", "postalCode": "MK40 1AA"},
        {"use": "home", "postalCode": "ls104yu"},
    ]
    assert patient_data(message(bundle))["postcode"] == "LS10 4YU"
    resource(bundle, "Patient")["address"] = [{"use": "home", "postalCode": "LS10"}]
    assert patient_data(message(bundle))["postcode"] is None


def test_no_gp_practice_when_the_reference_does_not_resolve() -> None:
    bundle = referral()
    resource(bundle, "Patient")["generalPractitioner"] = [{"reference": "urn:uuid:elsewhere"}]
    assert patient_data(message(bundle))["gp_practice_ods"] is None


# --- clinical ------------------------------------------------------------------------------------


def test_the_published_clinical_content_is_read() -> None:
    """REFREQ01 carries Pathways SD 4389, DX02 and SG 1010 as CarePlan activity outcomes; with
    no reasonCode the reason is the discriminator's and the disposition's descriptions; the
    safety-netting is ServiceRequest.patientInstruction; the case number Encounter.identifier."""
    read = clinical(message(referral()))
    assert (read.disposition, read.symptom_group, read.symptom_discriminator) == (
        "Dx02",
        "SG1010",
        "SD4389",
    )
    assert read.reason == (
        "ED post tonsillectomy bleeding; "
        "The individual needs to attend an emergency treatment centre within 1 hour."
    )
    assert read.patient_instruction is not None
    assert read.patient_instruction.startswith("ADVICE GIVEN: If there are any new symptoms")
    assert read.case_ref == "sender1234"


def set_pathways(bundle: dict[str, Any], system_part: str, code: str) -> None:
    for concept in resource(bundle, "CarePlan")["activity"][0]["outcomeCodeableConcept"]:
        for coding in concept.get("coding", []):
            if system_part in coding["system"]:
                coding["code"] = code


@pytest.mark.parametrize(
    ("dx", "sg", "sd", "expected"),
    [
        ("02", "SG1010", "sd4389", ("Dx02", "SG1010", "SD4389")),
        ("dx02", "sg1010", "4389", ("Dx02", "SG1010", "SD4389")),
        ("Dx<b>", "Sg1010", "SD", (None, "SG1010", None)),
        ("Dx1234567", "SG-10", "SD４３", (None, None, None)),
    ],
)
def test_pathways_codes_are_normalised_or_dropped(
    dx: str, sg: str, sd: str, expected: tuple[str | None, ...]
) -> None:
    """Dx/SG/SD codes get their conventional prefix (whatever case or none was sent); anything
    that is not a short ASCII alphanumeric code is dropped rather than stored."""
    bundle = referral()
    set_pathways(bundle, "pathways-dx", dx)
    set_pathways(bundle, "pathways-sg", sg)
    set_pathways(bundle, "pathways-sd", sd)
    read = clinical(message(bundle))
    assert (read.disposition, read.symptom_group, read.symptom_discriminator) == expected


def test_the_reason_code_is_the_reason_when_given() -> None:
    bundle = referral()
    resource(bundle, "ServiceRequest")["reasonCode"] = [
        {"text": "Nosebleed after surgery"},
        {"coding": [{"system": "http://snomed.info/sct", "code": "1", "display": "Bleeding"}]},
    ]
    assert clinical(message(bundle)).reason == "Nosebleed after surgery; Bleeding"


def test_without_any_reason_the_referral_still_has_one() -> None:
    bundle = referral()
    resource(bundle, "CarePlan")["activity"] = [{"outcomeCodeableConcept": [{"text": "x"}]}]
    read = clinical(message(bundle))
    assert read.reason == "Referral from NHS 111 (BaRS)"
    assert (read.disposition, read.symptom_group, read.symptom_discriminator) == (None,) * 3


def test_no_patient_instruction_is_none() -> None:
    bundle = referral()
    del resource(bundle, "ServiceRequest")["patientInstruction"]
    assert clinical(message(bundle)).patient_instruction is None


# --- flags ---------------------------------------------------------------------------------------


def test_the_published_flags_in_order_by_category() -> None:
    """REFREQ01's three Flags: SG → safeguarding, RA → reasonable_adjustment, RS (rejected
    services) → other; none dropped (the hazard of a flag not shown)."""
    assert flags(message(referral())) == [
        {
            "category": "safeguarding",
            "code": "836881000000105",
            "display": "Child is cause for safeguarding concern (finding)",
            "text": None,
        },
        {
            "category": "reasonable_adjustment",
            "code": "adjustforneedlephobia",
            "display": "Adjust for needle phobia",
            "text": None,
        },
        {
            "category": "other",
            "code": "718941000000104",
            "display": "Patient choice",
            "text": "Patient Choice in Service Selection",
        },
    ]


@pytest.mark.parametrize("status", ["inactive", "entered-in-error"])
def test_a_flag_that_is_not_active_is_skipped(status: str) -> None:
    """FHIR Flag.status: only an active flag is a current warning; the module shows active ones
    only."""
    bundle = referral()
    position = next(
        i
        for i, e in enumerate(bundle["entry"])
        if e["resource"]["resourceType"] == "Flag"
        and e["resource"]["category"][0]["coding"][0]["code"] == "SG"
    )
    bundle["entry"][position]["resource"]["status"] = status
    assert [f["category"] for f in flags(message(bundle))] == ["reasonable_adjustment", "other"]


def test_a_flag_without_a_bars_category_is_other() -> None:
    bundle = referral()
    for entry in bundle["entry"]:
        if entry["resource"]["resourceType"] == "Flag":
            entry["resource"]["category"][0]["coding"][0]["system"] = "https://example.org/c"
    assert [f["category"] for f in flags(message(bundle))] == ["other"] * 3


# --- from_111 ------------------------------------------------------------------------------------


def test_from_111_by_use_case_or_pathways() -> None:
    """REFREQ01 is use case a1t1 ("111 to ED") with CDSS software Pathways; either is enough,
    neither means another sender."""
    assert from_111(message(referral()))

    only_pathways = referral()
    resource(only_pathways, "ServiceRequest")["category"][0]["coding"][1]["code"] = "a2t1"
    assert from_111(message(only_pathways))

    only_use_case = referral()
    del only_use_case["entry"][0]["resource"]["extension"]
    assert from_111(message(only_use_case))

    neither = referral()
    resource(neither, "ServiceRequest")["category"][0]["coding"][1]["code"] = "a2t1"
    neither["entry"][0]["resource"]["extension"][0]["extension"][0]["valueString"] = "Other"
    assert not from_111(message(neither))


# --- review of issue 16 ---------------------------------------------------------------------------


def with_full_urls(bundle: dict[str, Any], header_url: str, sr_url: str) -> dict[str, Any]:
    """The MessageHeader and the focus ServiceRequest under these fullUrls (no ids), the
    focus following."""
    sr = entry_of(bundle, "ServiceRequest")
    bundle["entry"][0]["fullUrl"] = header_url
    bundle["entry"][sr]["fullUrl"] = sr_url
    bundle["entry"][0]["resource"]["focus"] = [{"reference": sr_url}]
    bundle["entry"][0]["resource"].pop("id", None)
    bundle["entry"][sr]["resource"].pop("id", None)
    return bundle


def test_an_absolute_full_url_gives_its_last_segment_as_the_id() -> None:
    """Review of issue 16, finding 1 (FHIR R4 Bundle.entry.fullUrl may be an absolute URL
    `…/Type/id`): the id navigator keeps is the URL's last segment, a FHIR id, never the whole
    URL (which later made every status response of the referral fail)."""
    bundle = with_full_urls(
        referral(),
        "https://ems.example.nhs.uk/fhir/MessageHeader/mh-1",
        "https://ems.example.nhs.uk/fhir/ServiceRequest/sr-1.v2",
    )
    read = message(bundle)
    assert (read.message_id, read.service_request_id) == ("mh-1", "sr-1.v2")


@pytest.mark.parametrize(
    ("kind", "url"),
    [
        ("ServiceRequest", "https://ems.example.nhs.uk/fhir/ServiceRequest/sr_1"),
        ("ServiceRequest", "https://ems.example.nhs.uk/fhir/ServiceRequest/" + "a" * 65),
        ("ServiceRequest", "urn:uuid:"),
        ("MessageHeader", "https://ems.example.nhs.uk/fhir/MessageHeader/mh:1"),
    ],
)
def test_a_full_url_without_a_fhir_id_is_400_invariant_at_its_path(kind: str, url: str) -> None:
    """Review of issue 16, finding 1 (FHIR R4 id: `[A-Za-z0-9\\-\\.]{1,64}`): a resource with
    no id whose fullUrl does not end in a FHIR id is refused at receipt, naming the fullUrl."""
    ok = "https://ems.example.nhs.uk/fhir/X/ok-1"
    bundle = with_full_urls(
        referral(), url if kind == "MessageHeader" else ok, url if kind == "ServiceRequest" else ok
    )
    invariant_at(bundle, f"Bundle.entry[{entry_of(bundle, kind)}].fullUrl")


@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("timestamp", "9999-12-31T23:59:59-14:00"),
        ("timestamp", "0001-01-01T00:00:00+14:00"),
        ("timestamp", "1899-12-31T23:59:59+00:00"),
        ("meta", "9999-12-31T23:59:59-14:00"),
        ("header meta", "0001-01-01T00:00:00+14:00"),
    ],
)
def test_a_time_outside_1900_to_2200_is_400_value_at_its_path(where: str, value: str) -> None:
    """Review of issue 16, finding 8: a time at the ends of Python's calendar with an offset
    overflowed on conversion to UTC (a 500); such times are refused, naming the path."""
    bundle = referral()
    if where == "timestamp":
        bundle["timestamp"], path = value, "Bundle.timestamp"
    elif where == "meta":
        bundle["meta"]["lastUpdated"], path = value, "Bundle.meta.lastUpdated"
    else:
        bundle["entry"][0]["resource"].setdefault("meta", {})["lastUpdated"] = value
        path = "Bundle.entry[0].resource.meta.lastUpdated"
    problem = refused(lambda: message(bundle))
    assert (problem.status, problem.code, list(problem.errors or {})) == (400, "value", [path])


def test_the_senders_phone_is_read_from_the_message_header() -> None:
    """Review of issue 16, finding 3: REFREQ01's `MessageHeader.source.contact` (system
    phone); another system, or a value longer than the column's 40 characters, is none."""
    assert message(referral()).sender_phone == "+44 (0113) 123 4567"
    email = referral()
    email["entry"][0]["resource"]["source"]["contact"]["system"] = "email"
    assert message(email).sender_phone is None
    long = referral()
    long["entry"][0]["resource"]["source"]["contact"]["value"] = "0" * 41
    assert message(long).sender_phone is None


def test_every_coding_of_a_multi_coded_flag_is_kept_fla10() -> None:
    """Review of issue 16, finding 4: the standard's FLA10 (one safeguarding Flag with two
    codings, tests/data/bars/requests/SOURCES.md) added to REFREQ01: both codings reach the
    console, each with its display, in order."""
    from pathlib import Path

    from fhir.resources.R4B.flag import Flag

    path = Path(__file__).parent.parent / "data/bars/requests/FLA10 - SafeguardingConcernMulti.xml"
    fla10 = Flag.model_validate_xml(path.read_bytes()).model_dump(mode="json", exclude_none=True)
    bundle = referral()
    bundle["entry"].append({"fullUrl": f"urn:uuid:{fla10['id']}", "resource": fla10})
    shown = [f for f in flags(message(bundle)) if f["code"] in ("766561000000109", "777996001")]
    assert shown == [
        {
            "category": "safeguarding",
            "code": "766561000000109",
            "display": "Adult safeguarding concern (finding)",
            "text": None,
        },
        {
            "category": "safeguarding",
            "code": "777996001",
            "display": "Alleged being subjected to abuse (situation)",
            "text": None,
        },
    ]
