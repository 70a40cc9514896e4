"""Transitions of care: once per event_id, readmissions at 29/30 days in any order, CSV import."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

Auth = dict[str, dict[str, str]]
PATIENT = {
    "nhs_number": "9434765919",
    "name": "Ada Example",
    "date_of_birth": "1941-03-02",
    "postcode": "LU4 0DZ",
}


def event(event_id: str, type: str, occurred_at: str, **extra: Any) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "type": type,
        "occurred_at": occurred_at,
        "patient": PATIENT,
        "organisation": "RC9",
    } | extra


def post(client: FlaskClient, auth: Auth, body: dict[str, Any]) -> Any:
    return client.post("/api/v1/transitions", json=body, headers=auth["integrator"])


def readmission(client: FlaskClient, auth: Auth, ident: str) -> bool:
    return bool(
        client.get(f"/api/v1/transitions/{ident}", headers=auth["navigator"]).json[
            "readmission_30d"
        ]
    )


def test_the_same_event_id_records_once(client: FlaskClient, auth: Auth) -> None:
    body = event("ae-1", "ae_attendance", "2026-11-01T10:00:00Z")
    first, again = post(client, auth, body), post(client, auth, body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json["id"] == again.json["id"]
    assert first.json["place"] == "luton"  # from the patient's postcode
    conflict = post(client, auth, body | {"occurred_at": "2026-11-02T10:00:00Z"})
    assert conflict.status_code == 409 and conflict.json["code"] == "event_id_reused"


@pytest.mark.parametrize(("days", "expected"), [(0, True), (29, True), (30, False)])
def test_readmission_is_an_admission_0_to_29_days_after_a_discharge(
    client: FlaskClient, auth: Auth, days: int, expected: bool
) -> None:
    post(client, auth, event("d1", "discharge", "2026-10-01T15:00:00+01:00", pathway=0))
    admitted = f"2026-10-{1 + days:02d}T20:00:00+01:00" if days < 30 else "2026-10-31T20:00:00Z"
    response = post(client, auth, event("a1", "nel_admission", admitted))
    assert response.json["readmission_30d"] is expected


def test_a_discharge_arriving_after_the_later_admission_still_marks_it(
    client: FlaskClient, auth: Auth
) -> None:
    admission = post(client, auth, event("a2", "nel_admission", "2026-11-20T09:00:00Z")).json
    assert admission["readmission_30d"] is False
    post(client, auth, event("d2", "discharge", "2026-11-05T12:00:00Z", pathway=1))
    assert readmission(client, auth, admission["id"]) is True


def test_cancer_and_obstetric_admissions_are_flagged_for_exclusion(
    client: FlaskClient, auth: Auth
) -> None:
    post(client, auth, event("d3", "discharge", "2026-11-01T12:00:00Z", pathway=0))
    body = post(
        client, auth, event("a3", "nel_admission", "2026-11-10T12:00:00Z", specialty="Obstetrics")
    ).json
    assert body["readmission_30d"] is True and body["readmission_excluded"] is True


def test_an_out_of_area_patient_has_no_place(client: FlaskClient, auth: Auth) -> None:
    body = post(
        client,
        auth,
        event(
            "x",
            "ae_attendance",
            "2026-11-01T10:00:00Z",
            patient=PATIENT | {"nhs_number": "4010232137", "postcode": "SW1A 1AA"},
        ),
    ).json
    assert body["place"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (event("e", "discharge", "2026-11-01T10:00:00Z"), "pathway"),
        (
            event("e", "transfer", "2026-11-01T10:00:00Z", from_organisation="RC9"),
            "to_organisation",
        ),
        (event("e", "teleport", "2026-11-01T10:00:00Z"), "type"),
        (event("e", "discharge", "yesterday", pathway=1), "occurred_at"),
        (event("e", "discharge", "2026-11-01T10:00:00Z", pathway=4), "pathway"),
    ],
)
def test_bad_events_are_422_naming_the_field(
    client: FlaskClient, auth: Auth, body: dict[str, Any], field: str
) -> None:
    response = post(client, auth, body)
    assert response.status_code == 422 and field in response.json["errors"]


def test_csv_import_reports_row_errors_and_keeps_good_rows(app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text(
        "event_id,type,occurred_at,nhs_number,name,date_of_birth,postcode,organisation,pathway,specialty\n"
        "e1,discharge,2026-11-01T12:00:00Z,9434765919,Ada Example,1941-03-02,LU4 0DZ,RC9,1,\n"
        "e2,nel_admission,2026-11-20T12:00:00Z,9434765919,Ada Example,1941-03-02,LU4 0DZ,RC9,,general_medicine\n"
        "e3,nel_admission,not-a-date,9434765919,Ada Example,1941-03-02,LU4 0DZ,RC9,,\n"
        "e4,discharge,2026-11-02T12:00:00Z,9434765918,Bad Number,1941-03-02,LU4 0DZ,RC9,1,\n"
        "e1,discharge,2026-11-01T12:00:00Z,9434765919,Ada Example,1941-03-02,LU4 0DZ,RC9,1,\n"
    )
    result = app.test_cli_runner().invoke(args=["transitions", "import", str(path)])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("row 4: occurred_at:")
    assert lines[1].startswith("row 5: patient.nhs_number:")
    assert lines[-1] == "transitions: created 2, already recorded 1, rejected 2"


@pytest.mark.parametrize(
    "occurred_at", ["2031-06-01T10:00:00Z", "later", "1999-12-31T23:59:59Z", "1900-01-02T12:00:00Z"]
)
def test_an_event_in_the_future_or_before_2000_is_refused(
    client: FlaskClient, auth: Auth, occurred_at: str
) -> None:
    """Issue 13 §7 (review): an event time after now (beyond 5 minutes' clock skew) or before
    1 January 2000 is 422 naming `occurred_at`, and nothing is recorded."""
    if occurred_at == "later":
        occurred_at = (datetime.now(UTC) + timedelta(minutes=6)).isoformat()
    response = post(client, auth, event("e", "ae_attendance", occurred_at))
    assert response.status_code == 422 and list(response.json["errors"]) == ["occurred_at"]
    skewed = (datetime.now(UTC) + timedelta(minutes=4)).isoformat()
    assert post(client, auth, event("e", "ae_attendance", skewed)).status_code == 201
