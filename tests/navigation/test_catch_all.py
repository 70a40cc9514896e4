"""The catch-all (`navigation.catch_all`): when nothing of the rule's types or fallbacks fits,
a non-emergency is never sent to a far-away emergency department but to the 111 entry for the
postcode (the area's inside BLMK, else the nation's own), and an NHS 111 A&E disposition from
outside BLMK to the nearest A&E. Cases on the shipped BLMK directory and rule set, from issue
13 §2 and its clinical review (an honest catch-all by nation, and A&E advice kept)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.navigation.conftest import MONDAY_10, Auth, items, navigate


def test_an_uninjured_fall_in_london_gets_national_111_not_a_far_away_emergency_department(
    client: FlaskClient, auth: Auth, blmk: None
) -> None:
    """Issue 13 §2: SW1A 1AA, fall without injury, 80, was sent to the Luton & Dunstable ED
    51.6 km away. A non-emergency never falls back to an ED: outside BLMK the catch-all is the
    national NHS 111 entry, and the caller is told the postcode is outside BLMK."""
    result = navigate(
        client,
        auth,
        caller_role="public",
        need="fall_no_injury",
        age=80,
        postcode="SW1A 1AA",
        at=MONDAY_10,
    )
    recommendation = result["recommendation"]
    assert result["urgency"] == "urgent"
    assert recommendation["service"]["id"] == "nhs-111-national"
    assert recommendation["service"]["contact"]["public_phone"] == "111"
    assert recommendation["fallback"] == "catch_all"
    assert "emergency_department" not in [s["service_type"] for s in items(result)]
    assert "lnd-ed" not in [s["id"] for s in items(result)]
    assert any(
        "SW1A 1AA is outside Bedfordshire, Luton and Milton Keynes" in r
        for r in recommendation["reasons"]
    )
    assert not any("covers this postcode" in r for r in recommendation["reasons"])


def test_an_edinburgh_postcode_also_gets_111_and_is_told_it_is_outside_blmk(
    client: FlaskClient, auth: Auth, blmk: None
) -> None:
    """Issue 13 §2: the Edinburgh postcode got NHS 111; it still does, now with the reason."""
    result = navigate(
        client,
        auth,
        caller_role="relative",
        need="fall_no_injury",
        age=80,
        postcode="EH1 1YZ",
        at=MONDAY_10,
    )
    assert result["recommendation"]["service"]["contact"]["public_phone"] == "111"
    assert result["recommendation"]["service"]["service_type"] == "nhs_111"
    assert any("outside Bedfordshire" in r for r in result["recommendation"]["reasons"])


def test_inside_blmk_the_non_emergency_catch_all_is_the_areas_own_111(
    client: FlaskClient, auth: Auth, blmk: None
) -> None:
    """Issue 13 §2: inside BLMK the catch-all is the area's 111 entry. A minor injury at 03:00
    (the urgent treatment centres are closed) falls back to it, no longer to an A&E."""
    result = navigate(
        client,
        auth,
        caller_role="public",
        need="minor_injury",
        age=40,
        postcode="MK42 9DJ",
        at="2026-11-24T03:00:00Z",
    )
    assert result["recommendation"]["service"]["id"] == "huc-nhs-111-blmk"
    assert "emergency_department" not in [s["service_type"] for s in items(result)]
    assert not any("outside Bedfordshire" in r for r in result["recommendation"]["reasons"])


@pytest.mark.parametrize(
    ("postcode", "service_id", "phone"),
    [
        ("EH1 1YZ", "nhs-24-111-scotland", "111"),
        ("AB10 1AA", "nhs-24-111-scotland", "111"),
        ("CF10 1AA", "nhs-111-wales", "111"),
        ("LL57 2AA", "nhs-111-wales", "111"),
        ("BT1 1AA", "no-nhs-111-contact-local-gp", None),
        ("JE2 3AA", "no-nhs-111-contact-local-gp", None),
        ("GY1 1AA", "no-nhs-111-contact-local-gp", None),
        ("IM1 1AA", "no-nhs-111-contact-local-gp", None),
        ("BFPO 123", "no-nhs-111-contact-local-gp", None),
        ("SW1A 1AA", "nhs-111-national", "111"),
        ("TD15 1AA", "nhs-111-national", "111"),  # Berwick-upon-Tweed is in England
    ],
)
def test_outside_england_the_non_emergency_catch_all_is_the_nations_own(
    client: FlaskClient, auth: Auth, blmk: None, postcode: str, service_id: str, phone: str | None
) -> None:
    """Clinical review of issue 13 (F6): outside England the catch-all was "NHS 111 - England".
    Scotland gets NHS 24 on 111, Wales NHS 111 Wales; Northern Ireland, the Channel Islands,
    the Isle of Man and BFPO, which have no NHS 111, get advice to contact the local GP or its
    out-of-hours service (no number we could not confirm), never "call 111"."""
    result = navigate(
        client,
        auth,
        caller_role="relative",
        need="fall_no_injury",
        age=80,
        postcode=postcode,
        at=MONDAY_10,
    )
    recommendation = result["recommendation"]
    assert recommendation["service"]["id"] == service_id
    assert recommendation["fallback"] == "catch_all"
    assert recommendation["service"]["contact"]["public_phone"] == phone
    if phone is None:
        assert not any("call 111" in r for r in recommendation["reasons"]), recommendation
        assert "999" in recommendation["service"]["description"]


def test_an_ae_disposition_from_outside_blmk_is_sent_to_the_nearest_ae_not_back_to_111(
    client: FlaskClient, auth: Auth, blmk: None
) -> None:
    """Clinical review of issue 13 (F7): a Dx03 ("A&E within 4 hours") call at SW1A 1AA was told
    to call 111, against its own safety-netting "Go to A&E within the next few hours". Out of
    area it now gets the nearest-A&E advice; inside BLMK, or within reach of a BLMK department,
    it still gets that department."""
    body = {"caller_role": "nhs111", "need": "fall_with_injury", "age": 70, "at": MONDAY_10}
    result = navigate(client, auth, postcode="SW1A 1AA", disposition="Dx03", **body)
    recommendation = result["recommendation"]
    assert recommendation["service"]["id"] == "nearest-emergency-department"
    assert "nhs_111" not in [s["service_type"] for s in items(result)]
    assert "Go to A&E" in result["safety_netting"]
    assert any("go to the nearest A&E" in r for r in recommendation["reasons"])
    inside = navigate(client, auth, postcode="MK42 9DJ", disposition="Dx03", **body)
    assert inside["recommendation"]["service"]["id"] == "bedford-hospital-ed"
    near = navigate(client, auth, postcode="MK18 1AA", disposition="Dx03", **body)
    assert near["recommendation"]["service"]["service_type"] == "emergency_department"
    assert near["recommendation"]["service"]["distance_km"] is not None
