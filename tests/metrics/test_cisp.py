"""CISP measures against a small hand-computed fixture (every expected number worked out).

Period 2026-01 .. 2026-03. Populations (ONS mid-2020): Bedford 174,687 (18+: 133,514);
Luton 213,528; BLMK 952,514 (18+: 718,762).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from navigator.auth.keys import Caller
from navigator.core.db import transaction
from navigator.core.reference import GAZETTEER
from navigator.directory.reference import directory_index
from navigator.referrals.models import Referral
from navigator.referrals.service import change_status, create_referral
from tests.builders import load_directory, service

Auth = dict[str, dict[str, str]]
BEDFORD = {
    "nhs_number": "9434765919",
    "name": "Bedford Patient",
    "date_of_birth": "1940-01-01",
    "postcode": "MK42 9DJ",
}
LUTON = {
    "nhs_number": "4010232137",
    "name": "Luton Patient",
    "date_of_birth": "1950-01-01",
    "postcode": "LU4 0DZ",
}
AWAY = {
    "nhs_number": "9876543210",
    "name": "Visitor",
    "date_of_birth": "1960-01-01",
    "postcode": "SW1A 1AA",
}
CENTRAL = {"name": "Central Patient", "date_of_birth": "1945-01-01", "postcode": "SG18 8AA"}
ACK = {"emergency": 15, "urgent": 30, "same_day": 120, "within_72h": 480, "routine": 1440}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def fixture(client: FlaskClient, auth: Auth, app: Flask, session: Session) -> None:
    load_directory(
        services=[
            service(id="ucr", places=["bedford", "luton", "central_bedfordshire", "milton_keynes"])
        ]
    )
    n = 0

    def event(patient: dict[str, Any], type: str, when: str, **extra: Any) -> None:
        nonlocal n
        n += 1
        body = {"event_id": f"e{n}", "type": type, "occurred_at": when, "patient": patient} | extra
        assert (
            client.post("/api/v1/transitions", json=body, headers=auth["integrator"]).status_code
            == 201
        )

    # Bedford: A&E twice in January; admitted 5 Jan (no earlier discharge: not a readmission),
    # discharged 10 Jan; readmitted 8 Feb (29 days: a readmission), discharged 12 Feb;
    # admitted 14 Mar (30 days: not a readmission).
    event(BEDFORD, "ae_attendance", "2026-01-05T08:00:00Z")
    event(BEDFORD, "ae_attendance", "2026-01-20T08:00:00Z")
    event(BEDFORD, "nel_admission", "2026-01-05T12:00:00Z", specialty="general_medicine")
    event(BEDFORD, "discharge", "2026-01-10T12:00:00Z", pathway=1)
    event(BEDFORD, "nel_admission", "2026-02-08T12:00:00Z")
    event(BEDFORD, "discharge", "2026-02-12T12:00:00Z", pathway=0)
    event(BEDFORD, "nel_admission", "2026-03-14T12:00:00Z")
    # Bedford care home: 2 call-outs and 1 conveyance in January, none in February, 1 call-out in March.
    event(BEDFORD, "care_home_call_out", "2026-01-07T02:00:00Z")
    event(BEDFORD, "care_home_call_out", "2026-01-07T05:00:00Z")
    event(BEDFORD, "care_home_conveyance", "2026-01-07T05:30:00Z")
    event(BEDFORD, "care_home_call_out", "2026-03-03T05:00:00Z")
    # Luton: discharged 1 Feb, admitted 10 Feb under obstetrics: a readmission, but excluded.
    event(LUTON, "discharge", "2026-02-01T12:00:00Z", pathway=0)
    event(LUTON, "nel_admission", "2026-02-10T12:00:00Z", specialty="obstetrics")
    # Luton care home: 1 call-out, 1 conveyance in March.
    event(LUTON, "care_home_call_out", "2026-03-03T05:00:00Z")
    event(LUTON, "care_home_conveyance", "2026-03-03T06:00:00Z")
    # Out of area: one A&E attendance in February (counts only in out_of_area).
    event(AWAY, "ae_attendance", "2026-02-14T08:00:00Z")
    # Central Bedfordshire: one admission in March, and no care-home events at all.
    event(CENTRAL, "nel_admission", "2026-03-20T12:00:00Z")

    # DTOC (Bedford, acute, social care): ready 30 Jan 10:00, reason E; Di from 1 Feb 09:00;
    # transferred 2 Mar 11:00. By the SitRep (the midnight ending a day counts for that day,
    # under the reason in force then; ../shared/domain/dtoc-and-cisp.md): 30, 31 Jan (E: the
    # end of 31 Jan is 00:00 on 1 Feb, before the change) | 1-28 Feb (Di: 28) | 1 Mar (Di; the
    # end of 2 Mar is after the transfer).
    dtoc = {
        "patient": BEDFORD,
        "provider_ods": "RC9",
        "care_type": "acute",
        "reason": "E",
        "responsible": "social_care",
        "clinically_ready_at": "2026-01-30T10:00:00Z",
        "mdt_ready_at": "2026-01-30T10:00:00Z",
        "safe_to_transfer_at": "2026-01-30T10:00:00Z",
    }
    ident = client.post("/api/v1/dtoc", json=dtoc, headers=auth["navigator"]).json["id"]
    client.patch(
        f"/api/v1/dtoc/{ident}",
        json={"reason": "Di", "effective_at": "2026-02-01T09:00:00Z"},
        headers=auth["navigator"],
    )
    client.patch(
        f"/api/v1/dtoc/{ident}",
        json={"transferred_at": "2026-03-02T11:00:00Z"},
        headers=auth["navigator"],
    )

    # Navigations in January for Bedford: a red flag (recommends 999), a care-home fall
    # (recommends the UCR) and loneliness (nothing fits: national 111). Away from ED: 2 of 3.
    for body in (
        {"need": "loneliness", "red_flags": ["chest_pain"]},
        {"need": "fall_no_injury", "lives_in_care_home": True, "caller_role": "care_home"},
        {"need": "loneliness"},
    ):
        call = {
            "caller_role": "relative",
            "age": 80,
            "postcode": "MK42 9DJ",
            "at": "2026-01-15T10:00:00Z",
        } | body
        assert (
            client.post("/api/v1/navigations", json=call, headers=auth["integrator"]).status_code
            == 201
        )

    # Referrals for Bedford in January: accepted after 20 and 60 minutes (the second late:
    # urgent is due in 30), one rejected, one never answered (overdue). Median to accept: 40.
    caller = Caller(99, "fixture", "navigator", None)
    with app.app_context():
        index, places = directory_index(), GAZETTEER.get()
        created = []
        for day, urgency in ((10, "urgent"), (11, "urgent"), (12, "routine"), (13, "urgent")):
            body = {
                "service_id": "ucr",
                "patient": BEDFORD,
                "reason": "r",
                "urgency": urgency,
                "consent": True,
            }
            referral, _ = create_referral(
                session,
                body,
                caller=caller,
                idempotency_key=None,
                index=index,
                gazetteer=places,
                ack_minutes=ACK,
                now=at(f"2026-01-{day}T10:00:00"),
            )
            created.append(referral.id)
        with transaction(session):
            for ident, change, when in (
                (created[0], {"status": "accepted"}, "2026-01-10T10:20:00"),
                (created[1], {"status": "accepted"}, "2026-01-11T11:00:00"),
                (
                    created[2],
                    {"status": "rejected", "reason": "no_capacity"},
                    "2026-01-12T12:00:00",
                ),
            ):
                referral = session.get(Referral, ident)
                assert referral is not None
                change_status(session, referral, change, actor="fixture", now=at(when))


def rows(
    client: FlaskClient, auth: Auth, query: str = "from=2026-01&to=2026-03"
) -> dict[tuple[str, str], dict[str, Any]]:
    body = client.get(f"/api/v1/metrics/cisp?{query}", headers=auth["navigator"]).json
    return {(r["place"], r["month"]): r for r in body["rows"]}


def test_transitions_measures(client: FlaskClient, auth: Auth, fixture: None) -> None:
    r = rows(client, auth)
    jan, feb, mar = (r[("bedford", m)] for m in ("2026-01", "2026-02", "2026-03"))
    assert jan["ae_attendances"] == 2
    assert jan["ae_rate_per_1000"] == 0.01  # 2 / 174,687 x 1,000 = 0.0114
    assert (jan["nel_admissions"], feb["nel_admissions"], mar["nel_admissions"]) == (1, 1, 1)
    assert feb["nel_rate_per_100k"] == 0.57  # 1 / 174,687 x 100,000 = 0.5725
    assert (jan["discharges"], feb["discharges"]) == (1, 1)
    assert (jan["readmissions_30d"], feb["readmissions_30d"], mar["readmissions_30d"]) == (0, 1, 0)
    assert feb["readmission_pct"] == 100.0  # 1 readmission / 1 discharge in February
    assert (
        jan["readmission_pct"] == 0.0 and mar["readmission_pct"] is None
    )  # no discharges in March
    luton_feb = r[("luton", "2026-02")]
    assert (
        luton_feb["nel_admissions"],
        luton_feb["readmissions_30d"],
        luton_feb["readmission_pct"],
    ) == (1, 0, 0.0)  # obstetrics excluded
    assert r[("out_of_area", "2026-02")]["ae_attendances"] == 1
    assert r[("blmk", "2026-02")]["ae_attendances"] == 0  # the visitor never counts in BLMK
    blmk_mar = r[("blmk", "2026-03")]
    assert blmk_mar["nel_admissions"] == 2  # Bedford + Central Bedfordshire
    assert blmk_mar["nel_rate_per_1000"] == 0.0  # 2 / 952,514 x 1,000 = 0.0021
    assert blmk_mar["nel_rate_per_100k"] == 0.21  # 2 / 952,514 x 100,000 = 0.2100


def test_dtoc_measures(client: FlaskClient, auth: Auth, fixture: None) -> None:
    r = rows(client, auth)
    jan, feb, mar = (r[("bedford", m)] for m in ("2026-01", "2026-02", "2026-03"))
    assert (jan["dtoc_delayed_days"], feb["dtoc_delayed_days"], mar["dtoc_delayed_days"]) == (
        2,
        28,
        1,
    )
    assert (jan["dtoc_beds"], feb["dtoc_beds"], mar["dtoc_beds"]) == (
        0.06,
        1.0,
        0.03,
    )  # 2/31 = 0.0645, 28/28, 1/31 = 0.0323
    assert jan["dtoc_rate_per_100k_18plus"] == 1.50  # 2 / 133,514 x 100,000 = 1.4980
    assert feb["dtoc_rate_per_100k_18plus"] == 20.97  # 28 / 133,514 x 100,000 = 20.9716
    assert jan["dtoc_delayed_days_by_reason"] == {
        c: (2 if c == "E" else 0) for c in jan["dtoc_delayed_days_by_reason"]
    }
    assert (feb["dtoc_delayed_days_by_reason"]["E"], feb["dtoc_delayed_days_by_reason"]["Di"]) == (
        0,
        28,
    )
    assert mar["dtoc_delayed_days_by_reason"] == {
        c: (1 if c == "Di" else 0) for c in mar["dtoc_delayed_days_by_reason"]
    }
    assert (
        feb["dtoc_delayed_days_social_care"],
        feb["dtoc_delayed_days_nhs"],
        feb["dtoc_delayed_days_both"],
    ) == (28, 0, 0)
    assert (feb["dtoc_delayed_days_acute"], feb["dtoc_delayed_days_non_acute"]) == (28, 0)
    assert (
        r[("blmk", "2026-02")]["dtoc_rate_per_100k_18plus"] == 3.90
    )  # 28 / 718,762 x 100,000 = 3.8956


def test_dtoc_measures_agree_with_each_episode(
    client: FlaskClient, auth: Auth, fixture: None
) -> None:
    """The CISP DTOC figures and splits are the episode's own delayed days, month by month."""
    episodes = client.get("/api/v1/dtoc?open=false&place=bedford", headers=auth["navigator"]).json[
        "items"
    ]
    assert len(episodes) == 1
    episode = episodes[0]
    r = rows(client, auth)
    months = ("2026-01", "2026-02", "2026-03")
    assert {m: r[("bedford", m)]["dtoc_delayed_days"] for m in months} == {
        m: episode["delayed_days_by_month"].get(m, 0) for m in months
    }
    reasons = {
        code: sum(r[("bedford", m)]["dtoc_delayed_days_by_reason"][code] for m in months)
        for code in episode["delayed_days_by_reason"]
    }
    assert reasons == episode["delayed_days_by_reason"]
    social_care = sum(r[("bedford", m)]["dtoc_delayed_days_social_care"] for m in months)
    assert {"social_care": social_care} == episode["delayed_days_by_responsible"]
    assert sum(r[("blmk", m)]["dtoc_delayed_days"] for m in months) == episode["delayed_days"]


def test_dtoc_days_belong_to_the_month_of_the_day_they_end(client: FlaskClient, auth: Auth) -> None:
    """Month ends by the SitRep (../shared/domain/dtoc-and-cisp.md, issue 13 section 7): ready
    31 Jan 10:00, transferred 1 Feb 10:00 is 1 day in January; from 00:30 BST on 1 April 2026
    (23:30 UTC on 31 March) to 00:30 BST on 2 April, the one London midnight ends 1 April, so
    the day is April's although its UTC instant is 31 March."""
    for patient, ready, transferred in (
        (LUTON, "2026-01-31T10:00:00Z", "2026-02-01T10:00:00Z"),
        (BEDFORD, "2026-03-31T23:30:00Z", "2026-04-01T23:30:00Z"),
    ):
        body = {
            "patient": patient,
            "provider_ods": "RC9",
            "care_type": "non_acute",
            "reason": "F",
            "responsible": "both",
            "clinically_ready_at": ready,
            "mdt_ready_at": ready,
            "safe_to_transfer_at": ready,
        }
        ident = client.post("/api/v1/dtoc", json=body, headers=auth["navigator"]).json["id"]
        client.patch(
            f"/api/v1/dtoc/{ident}",
            json={"transferred_at": transferred},
            headers=auth["navigator"],
        )
    r = rows(client, auth, "from=2026-01&to=2026-04")
    luton = [r[("luton", m)]["dtoc_delayed_days"] for m in ("2026-01", "2026-02")]
    assert luton == [1, 0]
    assert r[("luton", "2026-01")]["dtoc_delayed_days_by_reason"]["F"] == 1
    assert (
        r[("luton", "2026-01")]["dtoc_delayed_days_both"],
        r[("luton", "2026-01")]["dtoc_delayed_days_non_acute"],
    ) == (1, 1)
    bedford = [r[("bedford", m)]["dtoc_delayed_days"] for m in ("2026-03", "2026-04")]
    assert bedford == [0, 1]
    assert r[("blmk", "2026-01")]["dtoc_delayed_days"] == 1
    assert r[("blmk", "2026-04")]["dtoc_beds"] == 0.03  # 1 / 30 = 0.0333


def test_care_home_measures_and_summary(client: FlaskClient, auth: Auth, fixture: None) -> None:
    body = client.get(
        "/api/v1/metrics/cisp?from=2026-01&to=2026-03", headers=auth["navigator"]
    ).json
    r = {(x["place"], x["month"]): x for x in body["rows"]}
    assert (
        r[("bedford", "2026-01")]["care_home_call_outs"],
        r[("bedford", "2026-01")]["care_home_conveyances"],
    ) == (2, 1)
    assert r[("bedford", "2026-01")]["conveyance_rate"] == 0.5
    assert r[("bedford", "2026-02")]["conveyance_rate"] is None  # no call-outs
    assert r[("bedford", "2026-03")]["conveyance_rate"] == 0.0
    assert r[("luton", "2026-03")]["conveyance_rate"] == 1.0
    summary = {s["place"]: s for s in body["summary"]}
    bedford = summary["bedford"]
    # call-outs per month 2, 0, 1: average 1.0, min 0, max 2, total 3
    assert (
        bedford["care_home_call_outs_monthly_average"],
        bedford["care_home_call_outs_min"],
        bedford["care_home_call_outs_max"],
    ) == (1.0, 0, 2)
    assert bedford["care_home_call_outs_total"] == 3
    central = summary["central_bedfordshire"]  # a place with no care-home events: zeros
    assert (
        central["care_home_call_outs_total"],
        central["care_home_call_outs_max"],
        central["care_home_conveyances_monthly_average"],
    ) == (0, 0, 0.0)
    assert summary["blmk"]["care_home_conveyances_total"] == 2
    assert body["population_source"].startswith("ONS mid-year population estimates")


def test_navigation_and_referral_measures(client: FlaskClient, auth: Auth, fixture: None) -> None:
    jan = rows(client, auth)[("bedford", "2026-01")]
    assert jan["navigations"] == 3
    assert jan["navigations_by_urgency"] == {
        "emergency": 1,
        "urgent": 1,
        "same_day": 0,
        "within_72h": 0,
        "routine": 1,
    }
    assert jan["pct_away_from_ed"] == 66.67  # 2 / 3 x 100
    assert (
        jan["referrals_sent"],
        jan["referrals_accepted"],
        jan["referrals_rejected"],
        jan["referrals_overdue"],
    ) == (4, 2, 1, 2)
    assert jan["median_minutes_to_accept"] == 40.0  # median of 20 and 60
    assert rows(client, auth)[("blmk", "2026-01")]["median_minutes_to_accept"] == 40.0


def test_months_without_events_are_zero_rows_not_missing(client: FlaskClient, auth: Auth) -> None:
    body = client.get(
        "/api/v1/metrics/cisp?from=2025-11&to=2026-01&place=milton_keynes",
        headers=auth["navigator"],
    ).json
    assert [(r["place"], r["month"]) for r in body["rows"]] == [
        ("milton_keynes", m) for m in ("2025-11", "2025-12", "2026-01")
    ]
    assert all(
        r["ae_attendances"] == 0 and r["dtoc_delayed_days"] == 0 and r["navigations"] == 0
        for r in body["rows"]
    )


def test_csv_has_one_column_per_measure_with_flattened_splits(
    client: FlaskClient, auth: Auth, fixture: None
) -> None:
    response = client.get(
        "/api/v1/metrics/cisp?from=2026-01&to=2026-01&format=csv&place=bedford",
        headers=auth["navigator"],
    )
    assert response.mimetype == "text/csv"
    assert response.data.startswith("\ufeff".encode())  # so Excel reads it as UTF-8
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="cisp-bedford-2026-01-2026-01.csv"'
    )
    lines = response.data.decode("utf-8-sig").splitlines()
    header = lines[0].split(",")
    assert header[:3] == ["place", "month", "ae_attendances"]
    assert "dtoc_delayed_days_by_reason_A" in header and "navigations_by_urgency_routine" in header
    assert lines[1].startswith("bedford,2026-01,2,")


def test_bad_periods_are_422(client: FlaskClient, auth: Auth) -> None:
    for query in (
        "from=2026-13&to=2026-14",
        "from=2026-03&to=2026-01",
        "from=2026-01",
        "from=2026-01&to=2026-02&place=mars",
    ):
        response = client.get(f"/api/v1/metrics/cisp?{query}", headers=auth["navigator"])
        assert response.status_code == 422, query


def test_cli_prints_the_same_as_the_api(
    app: Flask, client: FlaskClient, auth: Auth, fixture: None
) -> None:
    import json

    result = app.test_cli_runner().invoke(
        args=["metrics", "cisp", "--from", "2026-01", "--to", "2026-03", "--place", "bedford"]
    )
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    api = client.get(
        "/api/v1/metrics/cisp?from=2026-01&to=2026-03&place=bedford", headers=auth["navigator"]
    ).json
    assert printed["rows"] == api["rows"]
    csv_result = app.test_cli_runner().invoke(
        args=["metrics", "cisp", "--from", "2026-01", "--to", "2026-01", "--csv"]
    )
    assert csv_result.output.startswith("place,month,")
