"""`GET /fhir/CodeSystem/{id}` (issue 16, §2): navigator's vocabularies as CodeSystems, each
served at the URL its codings name as their `system`, with every code of its vocabulary file.

Source: FHIR R4 CodeSystem (http://hl7.org/fhir/R4/codesystem.html: `url` the canonical
identifier, `content` complete when every concept is listed, `count`).
"""

from __future__ import annotations

from typing import Any

import pytest
from fhir.resources.R4B.codesystem import CodeSystem
from flask.testing import FlaskClient

from navigator.core.reference import VOCABULARY
from navigator.fhir.codesystems import CODE_SYSTEMS
from tests.fhir.directory_fixtures import BASE, FHIR_JSON, Auth, load_fhir_directory


@pytest.mark.parametrize("codesystem_id", sorted(CODE_SYSTEMS))
def test_each_vocabulary_is_a_complete_codesystem_at_its_url(
    app_ctx: Any, client: FlaskClient, codesystem_id: str
) -> None:
    response = client.get(f"/fhir/CodeSystem/{codesystem_id}")  # public: published codes
    assert response.status_code == 200 and response.mimetype == FHIR_JSON
    resource = response.get_json()
    CodeSystem.model_validate(resource)
    assert resource["url"] == f"{BASE}/CodeSystem/{codesystem_id}"
    assert (resource["status"], resource["content"]) == ("active", "complete")
    scheme = CODE_SYSTEMS[codesystem_id][0]
    vocab = VOCABULARY.get()
    assert [c["code"] for c in resource["concept"]] == list(vocab.codes(scheme))
    assert resource["count"] == len(vocab.codes(scheme))
    for concept in resource["concept"]:
        assert concept["display"] == vocab.label(scheme, concept["code"])


def test_every_coding_of_a_service_resolves_to_a_served_concept(
    app_ctx: Any, client: FlaskClient, auth: Auth
) -> None:
    load_fhir_directory()
    resource = client.get("/fhir/HealthcareService/adults-only", headers=auth["integrator"])
    codings = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "system" in node and "code" in node:
                codings.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(resource.get_json())
    ours = [c for c in codings if c["system"].startswith(f"{BASE}/CodeSystem/")]
    assert {c["system"].rsplit("/", 1)[1] for c in ours} == {
        "sectors", "service-types", "needs", "caller-roles", "places"
    }  # fmt: skip
    for coding in ours:
        served = client.get(coding["system"].removeprefix("http://localhost")).get_json()
        concept = next(c for c in served["concept"] if c["code"] == coding["code"])
        assert concept["display"] == coding["display"]


def test_an_unknown_codesystem_is_a_404_operation_outcome(client: FlaskClient) -> None:
    response = client.get("/fhir/CodeSystem/no-such-thing")
    assert response.status_code == 404 and response.mimetype == FHIR_JSON
    assert response.get_json()["resourceType"] == "OperationOutcome"
