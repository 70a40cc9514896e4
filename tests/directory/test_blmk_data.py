"""The shipped BLMK directory: complete, valid, and safe to dial."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest
from sqlalchemy.orm import Session

from navigator.core.db import transaction
from navigator.core.places import load_gazetteer
from navigator.core.reference import VOCABULARY
from navigator.directory.loader import load_path, read_documents
from tests.conftest import PROJECT_ROOT

DATA = PROJECT_ROOT / "directory_of_services"
# Ofcom's drama ranges, plus the national short codes 111 and 999.
SAFE_NUMBER = re.compile(r"^(01632 960\d{3}|07700 900\d{3}|111|999)$")


@pytest.fixture(scope="module")
def services() -> list[dict[str, Any]]:
    return [s for _, doc in read_documents(DATA / "blmk") for s in doc.get("services") or []]


def test_every_record_loads_without_rejection(session: Session) -> None:
    with transaction(session):
        report = load_path(session, DATA / "blmk", vocab=VOCABULARY.get(), changed_by="test")
    assert report.rejections == []
    assert report.services["created"] >= 80


def test_at_least_80_services_and_12_care_homes_across_all_sectors_and_places(
    services: list[dict[str, Any]],
) -> None:
    care_homes = [s for s in services if s["service_type"] == "care_home"]
    others = [s for s in services if s["service_type"] != "care_home"]
    assert len(others) >= 80 and len(care_homes) >= 12
    assert {s["sector"] for s in others} == set(vocabulary_codes("sectors"))
    for place in vocabulary_codes("places"):
        assert any(place in s["coverage"]["places"] for s in care_homes), place
        assert sum(place in s["coverage"]["places"] for s in others) >= 15, place


def test_every_service_type_is_in_the_directory_and_none_is_unclassified(
    services: list[dict[str, Any]],
) -> None:
    """The hand-kept BLMK directory classifies every service; `unclassified` is only for
    services kept from other directories' feeds (issue 15)."""
    types = {s["service_type"] for s in services}
    assert set(vocabulary_codes("service_types")) - {"unclassified"} <= types
    assert "unclassified" not in types


def test_only_drama_range_phone_numbers(services: list[dict[str, Any]]) -> None:
    numbers = [
        s["contact"].get(k)
        for s in services
        for k in ("public_phone", "professional_phone")
        if s.get("contact", {}).get(k)
    ]
    unsafe = [n for n in numbers if not SAFE_NUMBER.match(n)]
    assert unsafe == []
    duplicated = [n for n, c in Counter(numbers).items() if c > 1 and n not in ("111", "999")]
    assert duplicated == []


def test_care_homes_text_only_drama_range_mobiles_with_recorded_consent(
    services: list[dict[str, Any]],
) -> None:
    care_homes = [s for s in services if s["service_type"] == "care_home"]
    sms = [s.get("sms") or {} for s in care_homes]
    assert [s["id"] for s, block in zip(care_homes, sms, strict=True) if not block] == []
    numbers = [block["number"] for block in sms]
    assert [n for n in numbers if not re.fullmatch(r"07700 900\d{3}", n)] == []
    assert len(set(numbers)) == len(numbers)
    assert all(block["consent"] and block["consent_recorded_at"] for block in sms)
    assert not [s["id"] for s in services if s.get("sms") and s["service_type"] != "care_home"]


def test_every_blmk_postcode_district_maps_to_a_place() -> None:
    gazetteer = load_gazetteer(str(DATA))
    places = set(vocabulary_codes("places"))
    assert {place for place, _, _ in gazetteer.districts.values()} - {None} == places
    for district in ("MK40", "MK42", "LU1", "LU4", "MK9", "SG18", "MK45"):
        assert gazetteer.districts[district][0] in places
    # Clinical review of issue 13: MK77 is non-geographic (large users), so no place; MK18
    # (Buckingham) is listed as a neighbour outside BLMK, with its own centroid.
    assert "MK77" not in gazetteer.districts
    assert gazetteer.districts["MK18"][0] is None


# Issue 13 §2: a GP-network social-prescribing service that takes referrals from practice staff
# only was recommended to a public caller. These read what each entry's own text says about who
# may refer, and check its caller roles agree, across the whole directory.
ONLY_THROUGH_OTHERS = re.compile(
    r"\b(?:only|solely)\b[^.;]*\b(?:through|via)\b"  # "accessed only through NHS 111"
    r"|\b(?:staff|professionals?|clinicians?|teams?|workers?)\s+only\b"  # "... staff only"
    r"|\breferral by (?:practice staff|any clinician)\b"
    r"|\b(?:clinicians?|professionals?) in the member practices\b",
    re.IGNORECASE,
)
NAMES_111_AS_REFERRER = re.compile(
    r"\b111\b[^.;]*\b(?:can|may)\b[^.;]*\b(?:refer|book)\b"
    r"|\b111\b(?: clinicians?)? (?:can |may )?(?:refer|book)\b",
    re.IGNORECASE,
)
LAY_ROLES = {"public", "relative"}
ON_BEHALF_ROLES = {"relative", "care_home", "professional", "nhs111"}
# Clinical review of issue 13: phrasings saying who may make contact, each with the caller roles
# it rules out. Samaritans ("the person calls themselves") was offered to professionals, and
# voucher-only food banks ("referral agencies issue vouchers") to the public.
REFERRER_PHRASES: list[tuple[re.Pattern[str], frozenset[str]]] = [
    (
        re.compile(
            r"\b(?:calls?|contacts?|phones?) (?:us |them )?themselves\b"
            r"|\b(?:no|not take|do not take|does not take|don't take) third[- ]party referrals?\b",
            re.IGNORECASE,
        ),
        frozenset(ON_BEHALF_ROLES),
    ),
    (
        re.compile(
            r"\breferral (?:agenc(?:y|ies)|partners?)\b"
            r"|\bby voucher\b|\bissue (?:e-)?vouchers?\b|\bto issue a voucher\b"
            r"|\bby referral from an agency\b"
            r"|\bprofessional referrals? only\b|\bonly (?:by|through|via) (?:a )?professional referral\b",
            re.IGNORECASE,
        ),
        frozenset(LAY_ROLES),
    ),
]


def _says(service: dict[str, Any]) -> str:
    return f"{(service.get('referral') or {}).get('info') or ''} | {service['description']}"


def test_no_service_reached_only_through_others_takes_public_or_relative_callers(
    services: list[dict[str, Any]],
) -> None:
    """An entry whose text says it is reached only through professionals, practice staff or
    NHS 111 must not list `public` or `relative` among its caller roles (they would be sent
    somewhere they cannot get in)."""
    wrong = [
        (s["id"], sorted(LAY_ROLES & set(s["eligibility"]["caller_roles"])))
        for s in services
        if ONLY_THROUGH_OTHERS.search(_says(s))
        and LAY_ROLES & set(s["eligibility"]["caller_roles"])
    ]
    assert wrong == []


def _referrer_mismatches(services: list[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    """(service id, roles its own text rules out but its caller roles list) for each entry."""
    wrong = []
    for service in services:
        listed = set(service["eligibility"]["caller_roles"])
        excluded: set[str] = set()
        for phrase, roles in REFERRER_PHRASES:
            if phrase.search(_says(service)):
                excluded |= roles
        if listed & excluded:
            wrong.append((service["id"], sorted(listed & excluded)))
    return wrong


def test_caller_roles_agree_with_what_the_text_says_about_who_may_refer(
    services: list[dict[str, Any]],
) -> None:
    """An entry that says the person must call themselves lists only `public`; one reached
    through referral agencies, vouchers or professional referral lists no lay caller."""
    assert _referrer_mismatches(services) == []


def test_the_referrer_phrases_catch_the_entries_the_clinical_review_found() -> None:
    """The Samaritans and food-bank entries as they were (clinical review of issue 13) fail
    the check; Citizens Advice, which gives foodbank vouchers to the public, does not."""
    samaritans = {
        "id": "samaritans-listening-line",
        "description": "Free, confidential listening support for anyone who is struggling.",
        "referral": {
            "info": "The person calls themselves; Samaritans do not take third-party referrals."
        },
        "eligibility": {"caller_roles": ["public", "relative", "care_home", "professional"]},
    }
    foodbanks = [
        {
            "id": service_id,
            "description": description,
            "referral": {"info": info},
            "eligibility": {"caller_roles": ["public", "relative", "professional"]},
        }
        for service_id, description, info in [
            (
                "luton-foodbank-emergency-food",
                "Three days of emergency food, by voucher from one of over a hundred agencies.",
                "Referral agencies issue vouchers; ask for delivery on the voucher.",
            ),
            (
                "bedford-foodbank-emergency-food",
                "Emergency food by voucher from a referral partner such as Citizens Advice.",
                "Registered referral agencies issue e-vouchers.",
            ),
            (
                "dunstable-foodbank-emergency-food",
                "Emergency food parcels given out at sessions in local churches.",
                "Referral agencies phone or email the foodbank to issue a voucher.",
            ),
            (
                "mk-food-bank-emergency-food",
                "Emergency food parcels, by referral from an agency such as the council.",
                "Referral agencies phone or email the food bank.",
            ),
        ]
    ]
    citizens_advice = {
        "id": "citizens-advice-luton-money-advice",
        "description": "Advice on benefits and debt, and foodbank vouchers for people in crisis.",
        "referral": {"info": "Professionals can make a supported referral online."},
        "eligibility": {"caller_roles": ["public", "relative", "professional"]},
    }
    assert _referrer_mismatches([samaritans, *foodbanks, citizens_advice]) == [
        ("samaritans-listening-line", ["care_home", "professional", "relative"]),
        *((f["id"], ["public", "relative"]) for f in foodbanks),
    ]
    professional_only = {**citizens_advice, "referral": {"info": "Professional referral only."}}
    assert _referrer_mismatches([professional_only]) == [
        ("citizens-advice-luton-money-advice", ["public", "relative"])
    ]


def test_every_service_taking_public_or_relative_callers_gives_them_a_way_in(
    services: list[dict[str, Any]],
) -> None:
    """A lay caller is only shown the public phone and website (never the professional line),
    so a service taking `public` or `relative` callers needs one of them, or must take
    self-referrals or walk-ins."""
    no_way_in = [
        s["id"]
        for s in services
        if LAY_ROLES & set(s["eligibility"]["caller_roles"])
        and s["status"] == "active"
        and not (s.get("contact") or {}).get("public_phone")
        and not (s.get("contact") or {}).get("website")
        and (s.get("referral") or {}).get("method") not in ("self_referral", "walk_in")
    ]
    assert no_way_in == []


def test_every_service_whose_text_names_111_as_a_referrer_takes_nhs111_callers(
    services: list[dict[str, Any]],
) -> None:
    """ "NHS 111 clinicians can refer" in the text means the `nhs111` caller role."""
    wrong = [
        s["id"]
        for s in services
        if NAMES_111_AS_REFERRER.search(_says(s))
        and "nhs111" not in s["eligibility"]["caller_roles"]
    ]
    assert wrong == []


def test_the_caller_role_checks_catch_the_mismatches_issue_13_found() -> None:
    """The checks above would have caught the entries as they were (so they can fail)."""
    pcn = {
        "description": "Link workers based in Bedford GP practices.",
        "referral": {
            "method": "email",
            "info": "Referral by practice staff or other professionals via the PCN inbox.",
        },
        "contact": {"public_phone": None, "website": None},
    }
    assert ONLY_THROUGH_OTHERS.search(_says(pcn))
    assert ONLY_THROUGH_OTHERS.search("Accessed only through NHS 111.")
    assert NAMES_111_AS_REFERRER.search("Any practice clinician or NHS 111 clinician can refer")
    assert not ONLY_THROUGH_OTHERS.search("Self-referral or professional referral online.")


def test_the_national_111_entry_takes_every_caller_at_any_hour(
    services: list[dict[str, Any]],
) -> None:
    """Routing's non-emergency catch-all outside BLMK (issue 13, hazard H29) is a real entry:
    NHS 111, dialled as 111, for every caller, always open, and covering no BLMK place (so it
    never competes with the area's own 111 inside BLMK)."""
    national = next(s for s in services if s["id"] == "nhs-111-national")
    assert national["service_type"] == "nhs_111" and national["status"] == "active"
    assert national["contact"]["public_phone"] == "111"
    assert set(national["eligibility"]["caller_roles"]) == set(vocabulary_codes("caller_roles"))
    assert national["eligibility"]["min_age_days"] == 0
    assert national["eligibility"]["max_age_days"] is None
    assert national["opening"] == {"open_all_hours": True}
    assert national["coverage"]["places"] == [] and national["coverage"]["postcode_districts"] == []
    local = [
        s for s in services if s["service_type"] == "nhs_111" and s["id"] != "nhs-111-national"
    ]
    covered = {p for s in local for p in s["coverage"]["places"]}
    assert covered == set(vocabulary_codes("places"))


def vocabulary_codes(scheme: str) -> tuple[str, ...]:
    from navigator.core.vocabulary import load_vocabulary

    return load_vocabulary(str(DATA)).codes(scheme)
