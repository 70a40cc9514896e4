"""`GET /fhir/metadata` (issue 16, §1): the CapabilityStatement lists what navigator's FHIR
API does, and every search parameter the searches accept, with its documentation.

Source: the BaRS API's CapabilityStatement
(`NHSDigital/booking-and-referral-fhir-api`,
`specification/examples1.4.0/metadata/BaRS_API_Capability_Statement.json`: status active,
kind instance, fhirVersion 4.0.1, rest mode server, `$process-message` with FHIR's
MessageHeader-process-message OperationDefinition) and the BaRS IG's referral request
MessageDefinition (`NHSDigital-FHIR-BookingAndReferrals`,
`MessageDefinition/BARS-MessageDefinition-ServiceRequest-Request-Referral.xml`, its `url`).
"""

from __future__ import annotations

from typing import Any

import pytest
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from flask.testing import FlaskClient

from navigator.fhir.search_params import HEALTHCARE_SERVICE_PARAMS, ORGANIZATION_PARAMS
from tests.fhir.directory_fixtures import BASE, FHIR_JSON, Auth, load_fhir_directory

REFERRAL_REQUEST = (
    "https://fhir.nhs.uk/MessageDefinition/bars-message-servicerequest-request-referral"
)


@pytest.fixture
def statement(client: FlaskClient) -> dict[str, Any]:
    response = client.get("/fhir/metadata")  # no API key: public, as the API reference is
    assert response.status_code == 200 and response.mimetype == FHIR_JSON
    body: dict[str, Any] = response.get_json()
    return body


def _resource(statement: dict[str, Any], kind: str) -> dict[str, Any]:
    (rest,) = statement["rest"]
    found: dict[str, Any] = next(r for r in rest["resource"] if r["type"] == kind)
    return found


def test_it_is_a_valid_active_instance_statement_for_fhir_r4(statement: dict[str, Any]) -> None:
    CapabilityStatement.model_validate(statement)
    assert statement["resourceType"] == "CapabilityStatement"
    assert (statement["status"], statement["kind"]) == ("active", "instance")
    assert statement["fhirVersion"] == "4.0.1"
    assert statement["format"] == ["json"]
    assert statement["implementation"]["url"] == BASE
    (rest,) = statement["rest"]
    assert rest["mode"] == "server"


def test_it_lists_the_interactions(statement: dict[str, Any]) -> None:
    def interactions(kind: str) -> list[str]:
        return [i["code"] for i in _resource(statement, kind)["interaction"]]

    assert interactions("HealthcareService") == ["read", "search-type"]
    assert interactions("Organization") == ["read", "search-type"]
    assert interactions("ServiceRequest") == ["read"]
    assert interactions("CodeSystem") == ["read"]
    (rest,) = statement["rest"]
    assert rest["operation"] == [
        {
            "name": "process-message",
            "definition": "http://hl7.org/fhir/OperationDefinition/MessageHeader-process-message",
            "documentation": rest["operation"][0]["documentation"],
        }
    ]


def test_messaging_receives_the_bars_referral_request(statement: dict[str, Any]) -> None:
    (messaging,) = statement["messaging"]
    assert messaging["supportedMessage"] == [{"mode": "receiver", "definition": REFERRAL_REQUEST}]
    assert messaging["endpoint"][0]["address"] == f"{BASE}/$process-message"


@pytest.mark.parametrize(
    ("kind", "params"),
    [("HealthcareService", HEALTHCARE_SERVICE_PARAMS), ("Organization", ORGANIZATION_PARAMS)],
)
def test_every_search_parameter_is_declared_and_documented(
    statement: dict[str, Any], kind: str, params: Any
) -> None:
    declared = {p["name"]: p for p in _resource(statement, kind)["searchParam"]}
    assert {p.name for p in params} | {"_count", "_offset", "_format"} == set(declared)
    for param in declared.values():
        assert param["documentation"].strip() and "{base}" not in param["documentation"]
    if kind == "HealthcareService":
        for own in ("need", "caller-role", "age", "open-at", "coverage-postcode"):
            assert own in declared
        assert f"{BASE}/CodeSystem/service-types" in declared["service-type"]["documentation"]


def test_every_declared_parameter_is_accepted(
    app_ctx: Any, client: FlaskClient, auth: Auth, statement: dict[str, Any]
) -> None:
    """What the statement declares, the search takes: each with a valid value is a 200."""
    load_fhir_directory()
    valid = {
        "_id": "bedford-ucr", "identifier": "bedford-ucr", "organization.identifier": "RC9",
        "service-type": "gp_practice", "active": "true", "location.address-postalcode": "MK42",
        "location.near": "52.1|-0.4|10|km", "coverage-postcode": "MK42 9DJ",
        "need": "loneliness", "caller-role": "public", "age": "40",
        "open-at": "2026-12-01T10:00:00Z", "_count": "5", "_offset": "0", "_format": "json",
        "_revinclude": "Endpoint:organization",
    }  # fmt: skip
    for kind in ("HealthcareService", "Organization"):
        for param in _resource(statement, kind)["searchParam"]:
            value = "RC9" if (kind, param["name"]) == ("Organization", "identifier") else None
            query = {param["name"]: value or valid[param["name"]]}
            response = client.get(f"/fhir/{kind}", query_string=query, headers=auth["navigator"])
            assert response.status_code == 200, (kind, param["name"], response.get_json())
