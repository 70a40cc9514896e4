"""DTOC: delayed days by the midnight convention, across months, clock changes and reason
changes; adults only; the live board."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient

from navigator.transitions.dtoc import delayed_midnights

Auth = dict[str, dict[str, str]]
ADULT = {
    "nhs_number": "9434765919",
    "name": "Ada Example",
    "date_of_birth": "1941-03-02",
    "postcode": "MK42 9DJ",
}


def open_episode(client: FlaskClient, auth: Auth, ready: str, **extra: Any) -> Any:
    body = {
        "patient": ADULT,
        "provider_ods": "RC9",
        "site": "Bedford Hospital",
        "care_type": "acute",
        "clinically_ready_at": ready,
        "mdt_ready_at": ready,
        "safe_to_transfer_at": ready,
        "reason": "E",
        "responsible": "social_care",
    } | extra
    return client.post("/api/v1/dtoc", json=body, headers=auth["navigator"])


def patch(client: FlaskClient, auth: Auth, ident: str, **body: Any) -> Any:
    return client.patch(f"/api/v1/dtoc/{ident}", json=body, headers=auth["navigator"])


def test_the_worked_example_from_the_domain_notes(client: FlaskClient, auth: Auth) -> None:
    # Ready 30 January 10:00, reason E; Di from 1 February 09:00; transferred 3 February 11:00.
    ident = open_episode(client, auth, "2026-01-30T10:00:00Z").json["id"]
    assert (
        patch(client, auth, ident, reason="Di", effective_at="2026-02-01T09:00:00Z").status_code
        == 200
    )
    body = patch(
        client,
        auth,
        ident,
        transferred_at="2026-02-03T11:00:00Z",
        destination="Nursing home",
        pathway=3,
    ).json
    assert body["delayed_days"] == 4
    assert body["delayed_days_by_month"] == {"2026-01": 1, "2026-02": 3}
    assert body["delayed_days_by_reason"] == {"Di": 2, "E": 2}
    assert body["delayed_days_by_responsible"] == {"social_care": 4}
    assert body["open"] is False


def test_a_delay_spanning_three_months_and_a_responsibility_change(
    client: FlaskClient, auth: Auth
) -> None:
    ident = open_episode(client, auth, "2026-03-30T18:00:00+01:00").json["id"]
    patch(client, auth, ident, responsible="both", effective_at="2026-04-15T12:00:00+01:00")
    body = patch(client, auth, ident, transferred_at="2026-05-02T10:00:00+01:00").json
    # midnights 31 Mar .. 2 May: 1 in March, 30 in April, 2 in May
    assert body["delayed_days_by_month"] == {"2026-03": 1, "2026-04": 30, "2026-05": 2}
    assert body["delayed_days_by_responsible"] == {"both": 17, "social_care": 16}


def test_midnights_are_london_midnights_across_the_clock_changes() -> None:
    spring = list(
        delayed_midnights(
            datetime(2026, 3, 28, 12, tzinfo=UTC), datetime(2026, 3, 31, 12, tzinfo=UTC)
        )
    )
    assert [d.isoformat() for d, _ in spring] == ["2026-03-29", "2026-03-30", "2026-03-31"]
    assert spring[1][1] == datetime(2026, 3, 29, 23, 0, tzinfo=UTC)  # 00:00 BST on 30 March
    autumn = list(
        delayed_midnights(
            datetime(2026, 10, 24, 22, 30, tzinfo=UTC), datetime(2026, 10, 25, 23, 30, tzinfo=UTC)
        )
    )
    assert [d.isoformat() for d, _ in autumn] == [
        "2026-10-25"
    ]  # 23:30 BST on the 24th; 00:00 BST on the 25th = 23:00 UTC on the 24th
    at_midnight = list(
        delayed_midnights(
            datetime(2026, 1, 5, 0, 0, tzinfo=UTC), datetime(2026, 1, 5, 12, tzinfo=UTC)
        )
    )
    assert len(at_midnight) == 1  # ready exactly at midnight counts that midnight


def test_no_delay_until_all_three_decisions_are_made(client: FlaskClient, auth: Auth) -> None:
    ident = open_episode(client, auth, "2026-01-01T10:00:00Z", safe_to_transfer_at=None).json["id"]
    assert client.get(f"/api/v1/dtoc/{ident}", headers=auth["navigator"]).json["delayed_days"] == 0
    body = patch(
        client,
        auth,
        ident,
        safe_to_transfer_at="2026-01-03T10:00:00Z",
        transferred_at="2026-01-05T10:00:00Z",
    ).json
    assert body["ready_at"].startswith("2026-01-03T10:00") and body["delayed_days"] == 2


def test_children_and_unknown_ages_are_refused(client: FlaskClient, auth: Auth) -> None:
    child = ADULT | {"nhs_number": "4010232137", "date_of_birth": "2015-06-01"}
    assert open_episode(client, auth, "2026-01-30T10:00:00Z", patient=child).status_code == 422
    unknown = {"name": "No Date", "postcode": "MK42 9DJ"}
    assert (
        "patient.date_of_birth"
        in open_episode(client, auth, "2026-01-30T10:00:00Z", patient=unknown).json["errors"]
    )


def test_a_closed_episode_cannot_change(client: FlaskClient, auth: Auth) -> None:
    ident = open_episode(client, auth, "2026-01-30T10:00:00Z").json["id"]
    patch(client, auth, ident, transferred_at="2026-02-01T10:00:00Z")
    assert (
        patch(client, auth, ident, reason="G", effective_at="2026-01-31T10:00:00Z").status_code
        == 409
    )


def test_a_reason_change_needs_its_effective_time(client: FlaskClient, auth: Auth) -> None:
    ident = open_episode(client, auth, "2026-01-30T10:00:00Z").json["id"]
    response = patch(client, auth, ident, reason="G")
    assert response.status_code == 422 and "effective_at" in response.json["errors"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"reason": "Z"}, "reason"),
        ({"care_type": "ward"}, "care_type"),
        ({"responsible": "council"}, "responsible"),
    ],
)
def test_bad_codes_are_422(
    client: FlaskClient, auth: Auth, change: dict[str, Any], field: str
) -> None:
    response = open_episode(client, auth, "2026-01-30T10:00:00Z", **change)
    assert response.status_code == 422 and field in response.json["errors"]


def test_the_board_lists_open_delays_longest_first_by_place(
    client: FlaskClient, auth: Auth
) -> None:
    short = open_episode(client, auth, "2026-11-20T10:00:00Z").json["id"]
    long = open_episode(client, auth, "2026-11-01T10:00:00Z").json["id"]
    luton = ADULT | {"nhs_number": "4010232137", "postcode": "LU4 0DZ"}
    other = open_episode(client, auth, "2026-10-01T10:00:00Z", patient=luton).json["id"]
    board = client.get("/api/v1/dtoc?open=true&place=bedford", headers=auth["navigator"]).json[
        "items"
    ]
    assert [e["id"] for e in board] == [long, short]
    assert other in [
        e["id"]
        for e in client.get("/api/v1/dtoc?place=luton", headers=auth["navigator"]).json["items"]
    ]


def test_transition_and_dtoc_reads_and_writes_are_audited(client: FlaskClient, auth: Auth) -> None:
    episode = open_episode(client, auth, "2026-01-30T10:00:00Z").json
    client.get(f"/api/v1/dtoc/{episode['id']}", headers=auth["navigator"])
    patch(client, auth, episode["id"], transferred_at="2026-02-01T10:00:00Z")
    body = {
        "event_id": "e1",
        "type": "ae_attendance",
        "occurred_at": "2026-02-02T10:00:00Z",
        "patient_id": episode["patient_id"],
    }
    event = client.post("/api/v1/transitions", json=body, headers=auth["integrator"]).json
    client.get(f"/api/v1/transitions/{event['id']}", headers=auth["navigator"])
    log = client.get(
        f"/api/v1/audit?patient_id={episode['patient_id']}", headers=auth["admin"]
    ).json["items"]
    assert [(e["entity"], e["action"]) for e in log] == [
        ("patient", "create"),
        ("dtoc", "create"),
        ("dtoc", "read"),
        ("dtoc", "update"),
        ("patient", "read"),
        ("transition", "create"),
        ("transition", "read"),
    ]
