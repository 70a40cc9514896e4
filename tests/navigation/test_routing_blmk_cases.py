"""Fixed routing cases on the shipped BLMK directory and rule set, with the worked values of
issue 13 (§2 "Never a far-away A&E for a non-emergency", §4 "What 'open' means in a
navigation's answer") as the source of each expected answer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from flask.testing import FlaskClient

from navigator.core.db import transaction
from navigator.core.extensions import current_session
from navigator.core.places import parse_postcode
from navigator.core.reference import VOCABULARY
from navigator.directory.loader import load_path
from navigator.directory.reference import directory_index
from tests.conftest import PROJECT_ROOT

Auth = dict[str, dict[str, str]]
MONDAY_10 = "2026-11-23T10:00:00Z"


@pytest.fixture
def blmk(app_ctx: Any) -> None:
    session = current_session()
    with transaction(session):
        load_path(
            session,
            PROJECT_ROOT / "directory_of_services" / "blmk",
            vocab=VOCABULARY.get(),
            changed_by="test",
        )


def navigate(client: FlaskClient, auth: Auth, **body: Any) -> dict[str, Any]:
    response = client.post("/api/v1/navigations", json=body, headers=auth["integrator"])
    assert response.status_code == 201, response.json
    return dict(response.json)


def items(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The recommended service, then the alternatives."""
    return [result["recommendation"]["service"], *(a["service"] for a in result["alternatives"])]


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


def test_a_gp_network_social_prescriber_is_not_recommended_to_a_public_caller(
    client: FlaskClient, auth: Auth, blmk: None
) -> None:
    """Issue 13 §2: the Bedford Town PCN link workers take referrals from practice (and 111)
    clinicians only. A public caller gets a service they can reach; a professional still gets
    the link workers; the public call records the near miss as a caller-role gap."""
    public = navigate(
        client,
        auth,
        caller_role="public",
        need="loneliness",
        age=80,
        postcode="MK42 9DJ",
        at=MONDAY_10,
    )
    assert "bedford-town-pcn-social-prescribing" not in [s["id"] for s in items(public)]
    assert {
        "service_id": "bedford-town-pcn-social-prescribing",
        "criterion": "caller_role",
    }.items() <= (
        next(g for g in public["gaps"] if g["service_id"] == "bedford-town-pcn-social-prescribing")
    ).items()
    for service in items(public):
        contact = service["contact"]
        assert (
            contact["public_phone"]
            or contact["website"]
            or service["referral_method"]
            in (
                "self_referral",
                "walk_in",
            )
        )
    professional = navigate(
        client,
        auth,
        caller_role="professional",
        need="loneliness",
        age=80,
        postcode="MK42 9DJ",
        at=MONDAY_10,
    )
    assert professional["recommendation"]["service"]["id"] == "bedford-town-pcn-social-prescribing"


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


# --- Clinical review of issue 13 (§2, second round): caller roles that match what services
# take, positions only where known, an honest catch-all by nation, and A&E advice kept. ---


def test_samaritans_is_offered_only_to_the_person_themselves(
    client: FlaskClient, auth: Auth, blmk: None
) -> None:
    """Clinical review of issue 13 (F3): "The person calls themselves; Samaritans do not take
    third-party referrals", yet a professional calling about a 4-year-old was offered it."""
    professional = navigate(
        client,
        auth,
        caller_role="professional",
        need="mental_health_crisis",
        age=4,
        postcode="MK9 1AA",
        at=MONDAY_10,
    )
    assert "samaritans-listening-line" not in [s["id"] for s in items(professional)]
    assert (
        professional["recommendation"]["service"]["contact"]["public_phone"]
        or (professional["recommendation"]["service"]["contact"]["professional_phone"])
    )
    public = navigate(
        client,
        auth,
        caller_role="public",
        need="mental_health_crisis",
        age=30,
        postcode="MK9 1AA",
        at="2026-11-24T02:00:00Z",
    )
    samaritans = [s for s in items(public) if s["id"] == "samaritans-listening-line"]
    assert samaritans and samaritans[0]["eligibility"]["caller_roles"] == ["public"]


@pytest.mark.parametrize(
    ("postcode", "advice", "food_bank"),
    [
        ("LU1 2AA", "citizens-advice-luton-money-advice", "luton-foodbank-emergency-food"),
        ("MK9 1AA", "citizens-advice-milton-keynes-money-advice", "mk-food-bank-emergency-food"),
        ("MK42 9DJ", "citizens-advice-bedford-money-advice", "bedford-foodbank-emergency-food"),
        (
            "LU5 5AA",
            "citizens-advice-central-bedfordshire-money-advice",
            "dunstable-foodbank-emergency-food",
        ),
    ],
)
def test_food_banks_take_referral_agencies_and_the_public_get_a_voucher_route(
    client: FlaskClient, auth: Auth, blmk: None, postcode: str, advice: str, food_bank: str
) -> None:
    """Clinical review of issue 13 (F4): food banks give food by voucher from referral
    agencies, yet were recommended to the public. A public or relative caller now gets Citizens
    Advice (which issues vouchers), never a food bank; a professional still gets the food bank."""
    for role in ("public", "relative"):
        result = navigate(
            client,
            auth,
            caller_role=role,
            need="money_or_food",
            age=40,
            postcode=postcode,
            at=MONDAY_10,
        )
        assert result["recommendation"]["service"]["id"] == advice, (role, postcode)
        assert result["recommendation"]["fallback"] is None
        assert not [s["id"] for s in items(result) if "food" in s["id"]], (role, postcode)
    professional = navigate(
        client,
        auth,
        caller_role="professional",
        need="money_or_food",
        age=40,
        postcode=postcode,
        at=MONDAY_10,
    )
    assert food_bank in [s["id"] for s in items(professional)]


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
