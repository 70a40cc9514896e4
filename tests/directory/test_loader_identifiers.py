"""The directory loader stores identifiers in ASCII (issue 13, section 5).

Protects: a record typed with full-width or Arabic-Indic characters loads with its ODS code,
GP practices, postcode districts, location postcode and phone numbers in their one ASCII
spelling, so it matches a caller's ASCII postcode and a provider's ODS code; an impossible
postcode is rejected with the field named.
"""

from __future__ import annotations

from flask import Flask

from navigator.core.extensions import db
from navigator.directory.store import read_organisations, read_services
from tests.builders import load_directory, organisation, service


def test_full_width_and_arabic_indic_identifiers_load_as_ascii(app_ctx: Flask) -> None:
    record = service(
        postcode="ＭＫ４２ ９ＤＪ",
        eligibility={"gp_practices": ["ｅ８１００１"]},
        coverage={"places": [], "postcode_districts": ["ｍｋ４２"], "radius_km": None},
        contact={"public_phone": "٠١٦٣٢ ٩٦٠٠٠١", "professional_phone": "０１６３２-９６０００２"},
    )
    report = load_directory(organisations=[organisation(ods_code="ｒｃ９")], services=[record])
    assert report.rejections == [] and report.services["created"] == 1
    (org,) = read_organisations(db.session).values()
    (loaded,) = read_services(db.session).values()
    assert org["ods_code"] == "RC9"
    assert loaded["eligibility"]["gp_practices"] == ["E81001"]
    assert loaded["coverage"]["postcode_districts"] == ["MK42"]
    assert loaded["locations"][0]["postcode"] == "MK42 9DJ"
    assert loaded["contact"]["public_phone"] == "01632 960001"
    assert loaded["contact"]["professional_phone"] == "01632 960002"


def test_an_impossible_location_postcode_is_rejected_naming_the_field(app_ctx: Flask) -> None:
    report = load_directory(services=[service(postcode="MK42 9CI")])
    assert [r.reason for r in report.rejections] == [
        "locations.0.postcode: Not a valid UK postcode"
    ]
