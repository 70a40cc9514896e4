"""Patients: matched on NHS number only, validated, and every access audited (append-only)."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

Auth = dict[str, dict[str, str]]
PATIENT = {
    "nhs_number": "943 476 5919",
    "name": "Ada Example",
    "date_of_birth": "1941-03-02",
    "sex": "female",
    "postcode": "MK42 9DJ",
}


def create(client: FlaskClient, auth: Auth, body: dict[str, Any], role: str = "navigator") -> Any:
    return client.post("/api/v1/patients", json=body, headers=auth[role])


def test_same_nhs_number_returns_the_same_patient_with_200(client: FlaskClient, auth: Auth) -> None:
    first = create(client, auth, PATIENT)
    assert first.status_code == 201
    assert first.json["nhs_number"] == "9434765919" and first.json["place"] == "bedford"
    again = create(client, auth, PATIENT | {"name": "Ada  Other"})
    assert again.status_code == 200 and again.json["id"] == first.json["id"]
    assert again.json["name"] == "Ada Example"  # never changed silently
    assert again.json["warnings"] == ["name given differs from the record held for this NHS number"]


def test_without_an_nhs_number_records_are_never_merged(client: FlaskClient, auth: Auth) -> None:
    body = {k: v for k, v in PATIENT.items() if k != "nhs_number"}
    assert create(client, auth, body).json["id"] != create(client, auth, body).json["id"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"nhs_number": "943 476 5918"}, "nhs_number"),
        ({"nhs_number": "0000000000"}, "nhs_number"),
        ({"nhs_number": "2222222222"}, "nhs_number"),
        ({"postcode": "MK42"}, "postcode"),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth"),
        ({"name": ""}, "name"),
        ({"care_home_service_id": "nope"}, "care_home_service_id"),
    ],
)
def test_bad_patient_data_is_422_naming_the_field(
    client: FlaskClient, auth: Auth, change: dict[str, Any], field: str
) -> None:
    response = create(client, auth, PATIENT | change)
    assert response.status_code == 422 and field in response.json["errors"]


def test_every_read_and_write_is_audited_and_only_admins_see_the_log(
    client: FlaskClient, auth: Auth
) -> None:
    patient_id = create(client, auth, PATIENT).json["id"]
    create(client, auth, PATIENT, role="integrator")
    client.get(f"/api/v1/patients/{patient_id}", headers=auth["navigator"])
    assert (
        client.get(f"/api/v1/audit?patient_id={patient_id}", headers=auth["navigator"]).status_code
        == 403
    )
    log = client.get(f"/api/v1/audit?patient_id={patient_id}", headers=auth["admin"]).json["items"]
    assert [(e["action"], e["route"]) for e in log] == [
        ("create", "POST /api/v1/patients"),
        # The integrator is linked to the record held, not shown it (issue 12 §2).
        ("link", "POST /api/v1/patients"),
        ("read", f"GET /api/v1/patients/{patient_id}"),
    ]
    assert log[0]["actor"].startswith("api:") and log[1]["actor"].endswith("test-integrator")


def test_the_audit_log_cannot_be_altered(
    client: FlaskClient, auth: Auth, session: Session, is_postgres: bool
) -> None:
    create(client, auth, PATIENT)
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(text("UPDATE audit_events SET actor = 'someone else'"))
    session.rollback()
    if is_postgres:
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(text("DELETE FROM audit_events"))
        session.rollback()


def test_unknown_patient_is_404(client: FlaskClient, auth: Auth) -> None:
    assert client.get("/api/v1/patients/nope", headers=auth["navigator"]).status_code == 404
