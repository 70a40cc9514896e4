"""The per-service DoS criteria (`navigation.criteria`): a service is offered only if it
passes every one for the call, and one failing exactly one is recorded as a gap. Cases on the
shipped BLMK directory and rule set, from issue 13 §2 and its clinical review (caller roles
that match what services take)."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta

import pytest
from flask.testing import FlaskClient

from navigator.core.clock import age_in_days
from navigator.core.places import parse_postcode
from navigator.directory.reference import directory_index
from navigator.navigation.criteria import Call, Memo, assess
from navigator.rules.ruleset import Facts
from tests.navigation.conftest import MONDAY_10, Auth, items, navigate

PCN_LINK_WORKERS = "bedford-town-pcn-social-prescribing"


def test_one_failed_criterion_is_a_gap_and_two_are_no_near_miss(blmk: None) -> None:
    """`assess` directly, on the Bedford Town PCN link workers (professional referrals only),
    open at 10:00 on a Monday: a professional's call matches; a public caller's is a gap on
    `caller_role`; red capacity on top makes it no near miss at all (two criteria failed),
    while a professional's call is then a gap on `capacity`. A fresh memo per call: its answers
    belong to one call's facts."""
    index = directory_index()
    postcode = parse_postcode("MK42 9DJ")
    assert postcode is not None
    located = index.gazetteer.locate(postcode)
    entry = index.by_id[PCN_LINK_WORKERS]

    def call(role: str) -> Call:
        at = datetime.fromisoformat(MONDAY_10.replace("Z", "+00:00"))
        facts = Facts("loneliness", frozenset(), role, age_in_days(80), "female", located.place, at)
        return Call(facts, located)

    window = timedelta(0)  # open at the call's time, not merely opening later
    match = assess(entry, call("professional"), window, set(), Memo())
    assert match is not None and match.failures == ()
    gap = assess(entry, call("public"), window, set(), Memo())
    assert gap is not None and gap.failures == ("caller_role",)
    assert assess(entry, call("public"), window, {PCN_LINK_WORKERS}, Memo()) is None
    full = assess(entry, call("professional"), window, {PCN_LINK_WORKERS}, Memo())
    assert full is not None and full.failures == ("capacity",)


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


def test_an_unclassified_service_is_neither_a_match_nor_a_gap(blmk: None) -> None:
    """Issue 15 §2, hazard H30: the same entry as above, which matches a professional's call,
    is no answer at all once its type is `unclassified` — whatever routing asks for (rules
    cannot name the type, and this guard holds even if one did)."""
    index = directory_index()
    postcode = parse_postcode("MK42 9DJ")
    assert postcode is not None
    located = index.gazetteer.locate(postcode)
    at = datetime.fromisoformat(MONDAY_10.replace("Z", "+00:00"))
    facts = Facts(
        "loneliness", frozenset(), "professional", age_in_days(80), "female", located.place, at
    )
    call = Call(facts, located)
    entry = index.by_id[PCN_LINK_WORKERS]
    assert assess(entry, call, timedelta(0), set(), Memo()) is not None
    unclassified = copy.copy(entry)
    unclassified.service_type = "unclassified"
    assert assess(unclassified, call, timedelta(0), set(), Memo()) is None
