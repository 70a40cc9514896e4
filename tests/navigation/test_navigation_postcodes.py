"""A navigation's postcode in any script is the same place; a valid but non-geographic
postcode is out of area, never an error (issue 13, section 5; hazard H15).

Protects: `POST /navigations` with a full-width postcode routes exactly as its ASCII spelling
and stores it in ASCII; GIR 0AA and BFPO are 201 with the out-of-area reason; impossible
postcodes (`MK42 9CI`, `QK1 1AA`) are 422 naming `postcode`.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from navigator.navigation.models import Navigation

Auth = dict[str, dict[str, str]]
CALL = {
    "caller_role": "public",
    "need": "fall_no_injury",
    "age": 80,
    "sex": "female",
    "at": "2026-11-23T10:00:00Z",
}


def post(client: FlaskClient, auth: Auth, body: dict[str, Any]) -> Any:
    return client.post("/api/v1/navigations", json=CALL | body, headers=auth["integrator"])


def test_a_full_width_postcode_is_the_same_place_as_its_ascii_spelling(
    client: FlaskClient, auth: Auth, session: Session
) -> None:
    ascii_ = post(client, auth, {"postcode": "MK42 9DJ", "gp_practice_ods": "E81001"})
    wide = post(client, auth, {"postcode": "ＭＫ４２ ９ＤＪ", "gp_practice_ods": "ｅ８１００１"})
    assert (ascii_.status_code, wide.status_code) == (201, 201), wide.json
    for key in ("urgency", "recommendation", "alternatives", "gaps"):
        assert wide.json[key] == ascii_.json[key]
    stored = session.get(Navigation, wide.json["id"])
    assert stored is not None and (stored.postcode, stored.gp_practice_ods) == (
        "MK42 9DJ",
        "E81001",
    )


@pytest.mark.parametrize("postcode", ["GIR 0AA", "BFPO 61", "STHL 1ZZ"])
def test_a_non_geographic_postcode_is_out_of_area_not_an_error(
    client: FlaskClient, auth: Auth, postcode: str
) -> None:
    response = post(client, auth, {"postcode": postcode})
    assert response.status_code == 201, response.json
    recommendation = response.json["recommendation"]
    assert recommendation["service"]["service_type"] == "nhs_111"  # never a far-away A&E
    outside = f"The postcode {postcode} is outside Bedfordshire, Luton and Milton Keynes"
    assert any(reason.startswith(outside) for reason in recommendation["reasons"])


@pytest.mark.parametrize("postcode", ["MK42 9CI", "MK42 9OV", "QK1 1AA"])
def test_impossible_postcodes_are_422_naming_the_postcode(
    client: FlaskClient, auth: Auth, postcode: str
) -> None:
    response = post(client, auth, {"postcode": postcode})
    assert response.status_code == 422 and "postcode" in response.json["errors"]
