"""The shipped BLMK directory: complete, valid, and safe to dial."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest
from sqlalchemy.orm import Session

from navigator.db import transaction
from navigator.directory.context import vocabulary
from navigator.directory.loader import load_path, read_documents
from navigator.directory.places import load_gazetteer
from tests.conftest import PROJECT_ROOT

DATA = PROJECT_ROOT / "directory_of_services"
# Ofcom's drama ranges, plus the national short codes 111 and 999.
SAFE_NUMBER = re.compile(r"^(01632 960\d{3}|07700 900\d{3}|111|999)$")


@pytest.fixture(scope="module")
def services() -> list[dict[str, Any]]:
    return [s for _, doc in read_documents(DATA / "blmk") for s in doc.get("services") or []]


def test_every_record_loads_without_rejection(session: Session) -> None:
    with transaction(session):
        report = load_path(session, DATA / "blmk", vocab=vocabulary(), changed_by="test")
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


def test_every_service_type_is_in_the_directory(services: list[dict[str, Any]]) -> None:
    assert set(vocabulary_codes("service_types")) <= {s["service_type"] for s in services}


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
    assert {place for place, _, _ in gazetteer.districts.values()} == places
    for district in ("MK40", "MK42", "LU1", "LU4", "MK9", "SG18", "MK45"):
        assert district in gazetteer.districts


def vocabulary_codes(scheme: str) -> tuple[str, ...]:
    from navigator.directory.vocabulary import load_vocabulary

    return load_vocabulary(str(DATA)).codes(scheme)
