"""One person, one id, however the identifiers were typed (issue 13, section 5; hazard H15).

Protects: `POST /patients` with the same NHS number typed in ASCII, full-width and
Arabic-Indic digits finds one patient, not three; the postcode and GP practice code are stored
in ASCII; identifiers that are still not ASCII after folding are a 422 naming the field.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from navigator.patients.models import Patient

Auth = dict[str, dict[str, str]]
PATIENT = {"name": "Ada Example", "date_of_birth": "1941-03-02", "sex": "female"}


def create(client: FlaskClient, auth: Auth, body: dict[str, Any]) -> Any:
    return client.post("/api/v1/patients", json=PATIENT | body, headers=auth["navigator"])


def test_three_spellings_of_one_nhs_number_are_one_patient(
    client: FlaskClient, auth: Auth, session: Session
) -> None:
    """The issue's worked example: 9434765919, ９４３４７６５９１９ and ٩٤٣٤٧٦٥٩١٩."""
    first = create(client, auth, {"nhs_number": "9434765919", "postcode": "MK42 9DJ"})
    wide = create(
        client, auth, {"nhs_number": "９４３４７６５９１９", "postcode": "ＭＫ４２ ９ＤＪ"}
    )
    arabic = create(client, auth, {"nhs_number": "٩٤٣٤٧٦٥٩١٩", "postcode": "mk42 9dj"})
    assert first.status_code == 201 and first.json["nhs_number"] == "9434765919"
    assert (wide.status_code, arabic.status_code) == (200, 200)
    assert first.json["id"] == wide.json["id"] == arabic.json["id"]
    # Same postcode, however written: no "differs from the record held" warning.
    assert wide.json["warnings"] == [] and arabic.json["warnings"] == []
    assert session.scalar(select(func.count()).select_from(Patient)) == 1


def test_identifiers_are_stored_in_ascii(client: FlaskClient, auth: Auth) -> None:
    body = {
        "nhs_number": "٤٠١ ٠٢٣ ٢١٣٧",
        "postcode": "ＬＵ１ ２ＡＡ",
        "gp_practice_ods": "ｅ８１００１",
    }
    created = create(client, auth, body)
    assert created.status_code == 201, created.json
    assert (created.json["nhs_number"], created.json["postcode"]) == ("4010232137", "LU1 2AA")
    assert created.json["gp_practice_ods"] == "E81001" and created.json["place"] == "luton"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("nhs_number", "９４３４７６５９１８"),  # fails the check digit in any script
        ("nhs_number", "⑨434765919"),  # a circled digit is not a digit
        ("postcode", "MK42 9CI"),  # issue 13: impossible inward letters
        ("postcode", "QK1 1AA"),  # issue 13: Q is never first
        ("gp_practice_ods", "Е81001"),  # Cyrillic Е: not ASCII after folding
    ],
)
def test_identifiers_that_do_not_normalise_are_422_naming_the_field(
    client: FlaskClient, auth: Auth, field: str, value: str
) -> None:
    response = create(client, auth, {field: value})
    assert response.status_code == 422 and field in response.json["errors"]
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert value not in response.get_data(as_text=True)  # no patient data echoed back
