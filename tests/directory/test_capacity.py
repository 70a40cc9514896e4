"""Capacity: provider ownership, auto-reset to green, staleness after 24 hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from navigator.directory.capacity import capacities, red_service_ids, set_capacity
from tests.builders import load_directory, organisation, service

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _set(session: Session, status: str, minutes: int | None = None) -> None:
    set_capacity(
        session,
        "s",
        status=status,
        note="n",
        reset_after_minutes=minutes,
        changed_by="t",
        now=T0,
        default_reset_minutes=240,
    )


def test_red_resets_to_green_after_the_chosen_time(session: Session) -> None:
    load_directory(services=[service(id="s")])
    _set(session, "red", 30)
    assert red_service_ids(session, T0 + timedelta(minutes=29)) == {"s"}
    assert red_service_ids(session, T0 + timedelta(minutes=30)) == set()
    after = capacities(session, ["s"], T0 + timedelta(minutes=31), 24)["s"]
    assert after.status == "green" and "automatically reset" in (after.note or "")


def test_amber_and_red_without_a_time_use_the_default_reset(session: Session) -> None:
    load_directory(services=[service(id="s")])
    _set(session, "amber")
    assert capacities(session, ["s"], T0 + timedelta(minutes=239), 24)["s"].status == "amber"
    assert capacities(session, ["s"], T0 + timedelta(minutes=240), 24)["s"].status == "green"


def test_capacity_older_than_24_hours_is_stale(session: Session) -> None:
    load_directory(services=[service(id="s")])
    _set(session, "green")
    assert not capacities(session, ["s"], T0 + timedelta(hours=24), 24)["s"].stale
    assert capacities(session, ["s"], T0 + timedelta(hours=24, seconds=1), 24)["s"].stale


def test_never_reported_capacity_is_green_but_stale(session: Session) -> None:
    load_directory(services=[service(id="s")])
    capacity = capacities(session, ["s"], T0, 24)["s"]
    assert (capacity.status, capacity.stale, capacity.updated_at) == ("green", True, None)


def test_provider_may_update_only_its_own_organisations_services(
    client: FlaskClient, auth: dict[str, dict[str, str]], app_ctx: Any
) -> None:
    load_directory(
        organisations=[
            organisation(id="rc9", ods_code="RC9"),
            organisation(id="other", ods_code="RD8"),
        ],
        services=[
            service(id="mine", organisation="rc9"),
            service(id="theirs", organisation="other"),
        ],
    )
    ok = client.put(
        "/api/v1/services/mine/capacity",
        json={"status": "amber", "reset_after_minutes": 60},
        headers=auth["provider"],
    )
    assert ok.status_code == 200 and ok.json["status"] == "amber" and not ok.json["stale"]
    denied = client.put(
        "/api/v1/services/theirs/capacity", json={"status": "red"}, headers=auth["provider"]
    )
    assert denied.status_code == 403


def test_reset_time_outside_15_minutes_to_24_hours_is_422(
    client: FlaskClient, auth: dict[str, dict[str, str]], app_ctx: Any
) -> None:
    load_directory(services=[service(id="s")])
    for minutes in (5, 1441):
        response = client.put(
            "/api/v1/services/s/capacity",
            json={"status": "red", "reset_after_minutes": minutes},
            headers=auth["navigator"],
        )
        assert response.status_code == 422 and "reset_after_minutes" in response.json["errors"]
    bad_status = client.put(
        "/api/v1/services/s/capacity", json={"status": "purple"}, headers=auth["navigator"]
    )
    assert bad_status.status_code == 422 and "status" in bad_status.json["errors"]
