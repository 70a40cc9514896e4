"""Fixed routing cases on the shipped BLMK directory and rule set, with the worked values of
issue 13 (§2 "Never a far-away A&E for a non-emergency", §4 "What 'open' means in a
navigation's answer") as the source of each expected answer: which services are considered
for the call's need, how each offered service is described at the call's time, and where a
postcode is. The per-service criteria are tested in `test_criteria.py`, the catch-all in
`test_catch_all.py`."""

from __future__ import annotations

from datetime import datetime

import pytest
from flask.testing import FlaskClient

from navigator.core.places import parse_postcode
from navigator.core.reference import VOCABULARY
from navigator.directory.reference import directory_index
from tests.navigation.conftest import MONDAY_10, Auth, items, navigate


def test_loneliness_is_not_offered_a_bereavement_charity(
    client: FlaskClient, auth: Auth, blmk: None
) -> None:
    """Issue 13 §2: loneliness offered Cruse Bereavement, which does not list loneliness. Every
    service offered lists the call's need (or says why it is offered anyway)."""
    for postcode in ("MK42 9DJ", "LU1 2BQ", "MK9 3EJ", "SG18 8AA"):
        result = navigate(
            client,
            auth,
            caller_role="public",
            need="loneliness",
            age=80,
            postcode=postcode,
            at=MONDAY_10,
        )
        offered = items(result)
        assert "cruse-bereavement-support-blmk" not in [s["id"] for s in offered], postcode
        assert all("loneliness" in s["needs"] for s in offered), postcode


def test_a_service_not_listing_the_need_is_offered_only_with_a_reason_saying_why(
    client: FlaskClient, auth: Auth, blmk: None
) -> None:
    """No GP practice lists "fall without injury", yet the rule sends a younger adult's fall to
    the GP: the recommendation says it does not list the need and why it is offered."""
    result = navigate(
        client,
        auth,
        caller_role="relative",
        need="fall_no_injury",
        age=40,
        postcode="MK42 9DJ",
        at=MONDAY_10,
    )
    service = result["recommendation"]["service"]
    assert service["service_type"] == "gp_practice" and "fall_no_injury" not in service["needs"]
    assert any(
        r.startswith(
            f"Does not list the need {VOCABULARY.get().label('needs', 'fall_no_injury')!r}"
        )
        for r in result["recommendation"]["reasons"]
    ), result["recommendation"]["reasons"]


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@pytest.mark.parametrize(
    ("at", "open_at_at"),
    [
        ("2026-12-01T10:00:00", True),  # the value: a Tuesday, London time, open
        ("2026-12-01T07:30:00", False),  # closed at `at`, whatever the server's clock says
    ],
)
def test_every_service_item_describes_the_service_at_the_calls_time(
    client: FlaskClient, auth: Auth, blmk: None, at: str, open_at_at: bool
) -> None:
    """Issue 13 §4: `"at":"2026-12-01T10:00:00"` gave `open_now: false` with `next_open` 08:00,
    before `at`, and "Open now" in the reasons. Every item now describes the service at `at`."""
    result = navigate(
        client,
        auth,
        caller_role="public",
        need="loneliness",
        age=80,
        postcode="LU1 2BQ",
        at=at,
    )
    call_at = _at(result["recommendation"]["service"]["opens_at"] or "1970-01-01T00:00:00Z")
    index = directory_index()
    instant = _at(at + "+00:00")  # December: London is on GMT
    service = result["recommendation"]["service"]
    assert service["id"] == "luton-total-wellbeing"
    assert service["open_now"] is open_at_at
    if open_at_at:
        assert service["next_open"] is None
        assert _at(service["closes_at"]) > instant
        assert "Open now and not closing within 30 minutes." in result["recommendation"]["reasons"]
    else:
        assert service["closes_at"] is None
        assert _at(service["next_open"]) > instant
        assert service["opens_at"] == service["next_open"] and call_at > instant
        assert not any(r.startswith("Open now") for r in result["recommendation"]["reasons"])
    for item in items(result):
        entry = index.by_id[item["id"]]
        assert item["open_now"] == entry.schedule.is_open(instant), item["id"]
        if item["next_open"] is not None:
            assert _at(item["next_open"]) > instant, item["id"]
        if item["closes_at"] is not None:
            assert item["open_now"] and _at(item["closes_at"]) > instant, item["id"]


# --- Clinical review of issue 13 (§2, second round): positions only where known. ---


def test_a_district_we_do_not_know_gets_no_distance_and_no_radius_coverage(
    client: FlaskClient, auth: Auth, blmk: None
) -> None:
    """Clinical review of issue 13 (F5): MK18 (Buckingham) fell back to the MK area centroid and
    was shown 4.3 km from the MK urgent treatment centre (really about 17 km, outside its 15 km
    radius). MK18 is now a listed neighbour with its own centroid; a district that is not
    listed (NN1) gets no position at all: no distance, no radius coverage, no distance reason."""
    mk18 = navigate(
        client,
        auth,
        caller_role="public",
        need="minor_injury",
        age=40,
        postcode="MK18 1AA",
        at=MONDAY_10,
    )
    assert "mk-utc" not in [s["id"] for s in items(mk18)]
    index = directory_index()
    postcode = parse_postcode("MK18 1AA")
    assert postcode is not None
    located = index.gazetteer.locate(postcode)
    assert located.place is None
    distance = index.by_id["mk-utc"].distance_to(located)
    assert distance is not None and 15 < distance < 20
    for postcode in ("NN1 1AA", "OX1 1AA", "CB1 1AA"):
        result = navigate(
            client,
            auth,
            caller_role="public",
            need="minor_injury",
            age=40,
            postcode=postcode,
            at=MONDAY_10,
        )
        assert [s["distance_km"] for s in items(result)] == [None] * len(items(result)), postcode
        assert not any("km from" in r for r in result["recommendation"]["reasons"]), postcode
        assert any("outside Bedfordshire" in r for r in result["recommendation"]["reasons"])


def test_the_non_geographic_mk77_district_is_out_of_area(
    client: FlaskClient, auth: Auth, blmk: None
) -> None:
    """Clinical review of issue 13 (F5): MK77 (large users, no geography) was placed in Milton
    Keynes; it is out of area, with no distance."""
    result = navigate(
        client,
        auth,
        caller_role="public",
        need="minor_injury",
        age=40,
        postcode="MK77 1AA",
        at=MONDAY_10,
    )
    assert any("MK77 1AA is outside Bedfordshire" in r for r in result["recommendation"]["reasons"])
    assert [s["distance_km"] for s in items(result)] == [None] * len(items(result))
