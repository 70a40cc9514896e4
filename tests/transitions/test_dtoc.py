"""DTOC: delayed days by the national SitRep's midnight convention, across months, clock
changes and reason changes; stored days agree with the API; adults only; the live board.

The convention and the worked values are from ../shared/domain/dtoc-and-cisp.md ("Delayed
transfer of care") and NHS England's monthly DTOC SitRep guidance, as issue 13 (section 7)
restates them: the midnight that *ends* date D (24:00 on D, Europe/London) counts as a delayed
day for D, in D's month, under the reason and responsibility in force at that instant.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from navigator.transitions.dtoc import (
    REASONS,
    RESPONSIBLE,
    delay_summary,
    delayed_midnights,
)
from navigator.transitions.models import DtocDay, DtocEpisode, DtocInterval

Auth = dict[str, dict[str, str]]
LONDON = ZoneInfo("Europe/London")
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


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def days(start: str, end: str) -> list[str]:
    return [d.isoformat() for d, _ in delayed_midnights(utc(start), utc(end))]


def test_the_worked_example_from_the_domain_notes(client: FlaskClient, auth: Auth) -> None:
    """Ready 30 Jan 10:00 (E); Di from 1 Feb 09:00; transferred 3 Feb 11:00: the ends of 30 Jan,
    31 Jan, 1 Feb and 2 Feb are delayed -> 4 days; January 2, February 2; E 2, Di 2.
    Source: ../shared/domain/dtoc-and-cisp.md and the DTOC SitRep guidance (issue 13, section 7).
    The midnight ending 31 Jan (00:00 on 1 Feb) is before the 09:00 change, so it is E's."""
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
    assert body["delayed_days_by_month"] == {"2026-01": 2, "2026-02": 2}
    assert body["delayed_days_by_reason"] == {"Di": 2, "E": 2}
    assert body["delayed_days_by_responsible"] == {"social_care": 4}
    assert body["open"] is False


def test_ready_31_january_transferred_1_february_is_one_january_day(
    client: FlaskClient, auth: Auth
) -> None:
    """The second worked value (same sources): one midnight, the one that ends 31 January."""
    ident = open_episode(client, auth, "2026-01-31T10:00:00Z").json["id"]
    body = patch(client, auth, ident, transferred_at="2026-02-01T10:00:00Z").json
    assert body["delayed_days"] == 1
    assert body["delayed_days_by_month"] == {"2026-01": 1}
    assert body["delayed_days_by_reason"] == {"E": 1}


def test_stored_days_are_the_same_days_the_api_reports(
    client: FlaskClient, auth: Auth, session: Session
) -> None:
    """The `dtoc_days` rows the CISP measures aggregate are exactly the API's days: one per
    date D, dated D (not D + 1), with the reason in force at the midnight ending D."""
    ident = open_episode(client, auth, "2026-01-30T10:00:00Z").json["id"]
    patch(client, auth, ident, reason="Di", effective_at="2026-02-01T09:00:00Z")
    body = patch(client, auth, ident, transferred_at="2026-02-03T11:00:00Z").json
    rows = session.execute(
        select(DtocDay.day, DtocDay.local_month, DtocDay.reason, DtocDay.responsible)
        .where(DtocDay.episode_id == ident)
        .order_by(DtocDay.day)
    ).all()
    assert [(r.day.isoformat(), r.local_month, r.reason) for r in rows] == [
        ("2026-01-30", "2026-01", "E"),
        ("2026-01-31", "2026-01", "E"),
        ("2026-02-01", "2026-02", "Di"),
        ("2026-02-02", "2026-02", "Di"),
    ]
    assert dict(Counter(r.local_month for r in rows)) == body["delayed_days_by_month"]
    assert dict(Counter(r.reason for r in rows)) == body["delayed_days_by_reason"]
    assert dict(Counter(r.responsible for r in rows)) == body["delayed_days_by_responsible"]


def test_a_delay_spanning_three_months_and_a_responsibility_change(
    client: FlaskClient, auth: Auth
) -> None:
    ident = open_episode(client, auth, "2026-03-30T18:00:00+01:00").json["id"]
    patch(client, auth, ident, responsible="both", effective_at="2026-04-15T12:00:00+01:00")
    body = patch(client, auth, ident, transferred_at="2026-05-02T10:00:00+01:00").json
    # the ends of 30 Mar .. 1 May: 2 in March, 30 in April, 1 in May (the end of 2 May is after
    # the transfer). Social care for the ends of 30 Mar .. 14 Apr (16); the end of 15 Apr is
    # after the 12:00 change, so both from 15 Apr to 1 May (17).
    assert body["delayed_days_by_month"] == {"2026-03": 2, "2026-04": 30, "2026-05": 1}
    assert body["delayed_days_by_responsible"] == {"both": 17, "social_care": 16}


def test_midnights_are_london_midnights_across_the_clock_changes() -> None:
    """Each day ends at London 00:00 of the next date, however long the day (23 h on the
    Sunday the clocks go forward, 25 h when they go back). Dates: 29 March and 25 October
    2026, 31 March 2024 (a month end), 31 October 2027 (a month end)."""
    spring = list(delayed_midnights(utc("2026-03-28T12:00Z"), utc("2026-03-31T12:00Z")))
    assert [d.isoformat() for d, _ in spring] == ["2026-03-28", "2026-03-29", "2026-03-30"]
    assert spring[0][1] == utc("2026-03-29T00:00Z")  # 00:00 GMT on the 29th ends the 28th
    assert spring[1][1] == utc("2026-03-29T23:00Z")  # 00:00 BST on the 30th ends the 29th
    # 00:30 BST on the 30th to 00:30 BST on the 31st: only the London midnight ending the 30th
    # (23:00 UTC); UTC's own midnight at 00:00Z on the 30th is no London midnight.
    assert days("2026-03-29T23:30Z", "2026-03-30T23:30Z") == ["2026-03-30"]
    # 23:30 BST on the 24th; 00:00 BST on the 25th (23:00 UTC on the 24th) ends the 24th, and
    # the end of the 25-hour 25th (00:00 GMT on the 26th) is after the transfer.
    assert days("2026-10-24T22:30Z", "2026-10-25T23:30Z") == ["2026-10-24"]
    assert days("2026-10-25T23:30Z", "2026-10-26T00:30Z") == ["2026-10-25"]
    # Inside the repeated hour of 25 October: no midnight, whichever 01:30 it is.
    assert days("2026-10-25T00:30Z", "2026-10-25T01:30Z") == []
    # Month end on the spring-forward day: 23:30 BST on 31 March 2024 is a March day; 00:30
    # BST on 1 April (23:30 UTC on 31 March) is not in March at all.
    assert days("2024-03-31T22:30Z", "2024-04-01T10:00Z") == ["2024-03-31"]
    assert days("2024-03-31T23:30Z", "2024-04-01T23:30Z") == ["2024-04-01"]
    # Month end on the fall-back day: from 23:30 BST on 30 October 2027, the 25-hour 31st
    # ends at 00:00 GMT on 1 November (00:00 UTC).
    assert days("2027-10-30T22:30Z", "2027-11-01T00:30Z") == ["2027-10-30", "2027-10-31"]


def test_the_edges_of_a_delay_at_exactly_midnight() -> None:
    """The patient is delayed on [ready, transfer): ready exactly at a midnight counts the day
    it ends; transferred exactly at a midnight does not count it; same instant is no delay."""
    assert days("2026-01-05T00:00Z", "2026-01-05T12:00Z") == ["2026-01-04"]
    assert days("2026-01-04T12:00Z", "2026-01-05T00:00Z") == []
    assert days("2026-01-04T12:00Z", "2026-01-05T00:00:01Z") == ["2026-01-04"]
    assert days("2026-01-05T00:00Z", "2026-01-05T00:00Z") == []
    assert list(delayed_midnights(None, utc("2026-01-05T00:00Z"))) == []


def test_a_change_effective_exactly_at_a_midnight_governs_the_day_it_ends() -> None:
    """ "In force at that instant": a change from 00:00 on 1 Feb is in force at the midnight
    ending 31 Jan, so that day is the new reason's."""
    episode = DtocEpisode(
        ready_at=utc("2026-01-30T10:00Z"), transferred_at=utc("2026-02-01T10:00Z")
    )
    intervals = [
        DtocInterval(effective_at=None, reason="E", responsible="nhs"),
        DtocInterval(effective_at=utc("2026-02-01T00:00Z"), reason="G", responsible="both"),
    ]
    summary = delay_summary(episode, intervals, now=utc("2030-01-01T00:00Z"))
    assert summary["delayed_days_by_reason"] == {"E": 1, "G": 1}
    assert summary["delayed_days_by_responsible"] == {"both": 1, "nhs": 1}
    assert summary["delayed_days_by_month"] == {"2026-01": 2}


def test_an_open_delay_counts_the_midnights_already_past() -> None:
    episode = DtocEpisode(ready_at=utc("2026-01-30T10:00Z"), transferred_at=None)
    intervals = [DtocInterval(effective_at=None, reason="E", responsible="nhs")]
    assert delay_summary(episode, intervals, now=utc("2026-01-31T23:59Z"))["delayed_days"] == 1
    assert delay_summary(episode, intervals, now=utc("2026-02-01T00:00Z"))["delayed_days"] == 1
    assert delay_summary(episode, intervals, now=utc("2026-02-01T00:01Z"))["delayed_days"] == 2


# --- property: the splits always add up, and the days are exactly the ends of delayed days --

# Instants from 2023 to 2028, weighted towards the edges that have gone wrong: London
# midnights, the clock-change nights and month ends.
FIRST, LAST = date(2023, 1, 1), date(2028, 12, 31)
CLOCK_CHANGES = [
    date(2023, 3, 26), date(2023, 10, 29), date(2024, 3, 31), date(2024, 10, 27),
    date(2025, 3, 30), date(2025, 10, 26), date(2026, 3, 29), date(2026, 10, 25),
    date(2027, 3, 28), date(2027, 10, 31), date(2028, 3, 26), date(2028, 10, 29),
]  # fmt: skip


def london_midnight(day: date) -> datetime:
    """00:00 Europe/London on `day` as UTC, straight from zoneinfo (the oracle's own clock)."""
    return datetime.combine(day, time(0), tzinfo=LONDON).astimezone(UTC)


anywhere = st.datetimes(
    min_value=datetime.combine(FIRST, time(0)), max_value=datetime.combine(LAST, time(0))
).map(lambda d: d.replace(tzinfo=UTC))
near_edges = st.builds(
    lambda day, minutes: london_midnight(day) + timedelta(minutes=minutes),
    st.one_of(
        st.sampled_from(CLOCK_CHANGES),
        st.dates(FIRST, LAST).map(lambda d: d.replace(day=1)),
    ),
    st.integers(-26 * 60, 26 * 60),
)
at_midnight = st.dates(FIRST, LAST).map(london_midnight)
instants = st.one_of(anywhere, near_edges, at_midnight)
durations = st.one_of(
    st.timedeltas(timedelta(0), timedelta(days=120)),
    st.integers(0, 72).map(lambda hours: timedelta(hours=hours)),
)
changes = st.lists(
    st.tuples(
        st.one_of(
            st.timedeltas(timedelta(days=-2), timedelta(days=122)),
            st.integers(-2, 122).map(lambda n: timedelta(days=n)),  # often exactly on the hour
        ),
        st.sampled_from(REASONS),
        st.sampled_from(RESPONSIBLE),
    ),
    max_size=4,
)


@settings(max_examples=400, deadline=None)
@given(
    ready=instants,
    duration=durations,
    open_until=st.none() | st.timedeltas(timedelta(0), timedelta(days=120)),
    reason=st.sampled_from(REASONS),
    responsible=st.sampled_from(RESPONSIBLE),
    history=changes,
)
def test_every_split_adds_up_to_the_ends_of_delayed_days(
    ready: datetime,
    duration: timedelta,
    open_until: timedelta | None,
    reason: str,
    responsible: str,
    history: list[tuple[timedelta, str, str]],
) -> None:
    """For random delays (closed, or open until a random now) and reason/responsibility
    histories: total = sum by month = sum by reason = sum by responsibility = the number of
    London dates D whose ending midnight M (00:00 London on D + 1) has ready <= M < end; and
    each split equals the split an independent count gives, the reason being the last change
    effective at or before M. Rule: ../shared/domain/dtoc-and-cisp.md (issue 13, section 7)."""
    transferred = None if open_until is not None else ready + duration
    now = ready + (open_until if open_until is not None else timedelta(days=400))
    end = transferred or now
    episode = DtocEpisode(ready_at=ready, transferred_at=transferred)
    initial = DtocInterval(effective_at=None, reason=reason, responsible=responsible)
    # Changes by effective time (ties in recording order), as `_ordered` gives them.
    plan = sorted((ready + offset, n, r, s) for n, (offset, r, s) in enumerate(history))
    later = [DtocInterval(id=n, effective_at=at, reason=r, responsible=s) for at, n, r, s in plan]
    summary = delay_summary(episode, [initial, *later], now)

    # The oracle: walk every London date around the delay and test its ending midnight.
    expected_days = []
    day = ready.astimezone(LONDON).date() - timedelta(days=2)
    while day <= end.astimezone(LONDON).date() + timedelta(days=1):
        if ready <= london_midnight(day + timedelta(days=1)) < end:
            expected_days.append(day)
        day += timedelta(days=1)

    def in_force(day: date) -> tuple[str, str]:
        midnight = london_midnight(day + timedelta(days=1))
        effective = [(r, s) for at, _, r, s in plan if at <= midnight]
        return effective[-1] if effective else (reason, responsible)

    total = summary["delayed_days"]
    assert total == len(expected_days)
    assert total == sum(summary["delayed_days_by_month"].values())
    assert total == sum(summary["delayed_days_by_reason"].values())
    assert total == sum(summary["delayed_days_by_responsible"].values())
    assert summary["delayed_days_by_month"] == dict(
        Counter(d.strftime("%Y-%m") for d in expected_days)
    )
    assert summary["delayed_days_by_reason"] == dict(Counter(in_force(d)[0] for d in expected_days))
    assert summary["delayed_days_by_responsible"] == dict(
        Counter(in_force(d)[1] for d in expected_days)
    )
    assert [d for d, _ in delayed_midnights(ready, end)] == expected_days


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
    # A navigator, who may see the patient: an integrator may name only patients it sent
    # itself (issue 12 §2).
    event = client.post("/api/v1/transitions", json=body, headers=auth["navigator"]).json
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


def soon(minutes: int) -> str:
    """An instant `minutes` from the real now (the API checks against its own clock)."""
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()


@pytest.mark.parametrize("field", ["clinically_ready_at", "mdt_ready_at", "safe_to_transfer_at"])
def test_a_ready_time_in_the_future_or_before_2000_is_refused(
    client: FlaskClient, auth: Auth, field: str
) -> None:
    """Issue 13 §7 (review): a ready time after now (beyond 5 minutes' skew) or before
    1 January 2000 is 422 naming it; a ready date near 1900 wrote 35,000 day rows."""
    for when in (soon(60), "2031-06-01T10:00:00Z", "1999-12-31T23:59:59Z", "1900-01-02T12:00:00Z"):
        response = open_episode(client, auth, "2026-01-30T10:00:00Z", **{field: when})
        assert response.status_code == 422 and list(response.json["errors"]) == [field]
    assert open_episode(client, auth, soon(-1), **{field: soon(4)}).status_code == 201


@pytest.mark.parametrize(
    "field", ["transferred_at", "effective_at", "receiving_accepted_at", "mdt_ready_at"]
)
def test_an_update_time_in_the_future_or_before_2000_is_refused(
    client: FlaskClient, auth: Auth, session: Session, field: str
) -> None:
    """The review: `PATCH {"transferred_at":"2031-06-01T10:00:00Z"}` was accepted and counted
    1654 delayed days into future months of the CISP. Every event time in an update is bounded
    like the ready times; nothing is stored for a refused update."""
    ident = open_episode(client, auth, "2026-01-30T10:00:00Z").json["id"]
    before = session.scalars(select(DtocDay.day).where(DtocDay.episode_id == ident)).all()
    extra = {"reason": "G"} if field == "effective_at" else {}
    for when in ("2031-06-01T10:00:00Z", soon(6), "1999-06-01T10:00:00Z"):
        response = patch(client, auth, ident, **{field: when}, **extra)
        assert response.status_code == 422 and list(response.json["errors"]) == [field]
    session.expire_all()
    after = session.scalars(select(DtocDay.day).where(DtocDay.episode_id == ident)).all()
    assert after == before and max(after) < datetime.now(UTC).date()
    assert patch(client, auth, ident, **{field: soon(4)}, **extra).status_code == 200
