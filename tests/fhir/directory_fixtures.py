"""A small directory for the FHIR directory tests, and helpers to read its answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from navigator.core.db import utcnow
from navigator.directory.capacity import set_capacity
from tests.builders import load_directory, organisation, service

Auth = dict[str, dict[str, str]]
BASE = "http://localhost/fhir"  # PUBLIC_BASE_URL in tests/conftest.py, + /fhir
ODS = "https://fhir.nhs.uk/Id/ods-organization-code"
FHIR_JSON = "application/fhir+json"

WEEKDAY_HOURS = [["08:00", "18:30"]]
GP_OPENING = {
    "weekly": {
        "monday": WEEKDAY_HOURS,
        "tuesday": WEEKDAY_HOURS,
        "wednesday": WEEKDAY_HOURS,
        "thursday": WEEKDAY_HOURS,
        "friday": WEEKDAY_HOURS,
        "saturday": [["22:00", "02:00"]],
    },
    "bank_holidays": [],
    "specified_dates": [
        {"date": "2099-12-24", "closed": True},
        {"date": "2099-12-31", "sessions": [["09:00", "12:00"]]},
    ],
}


def load_fhir_directory() -> None:
    """Seven services of three organisations (one without an ODS code): five active, one
    temporarily closed, one defunct. Needs an app context."""
    load_directory(
        organisations=[
            organisation(),  # test-trust, RC9
            organisation(id="luton-trust", ods_code="RD8"),
            organisation(id="helping-hands", ods_code=None, sector="voluntary"),
        ],
        services=[
            service(id="bedford-ucr"),
            service(
                id="luton-ucr",
                organisation="luton-trust",
                places=["luton"],
                postcode="LU4 0DZ",
                lat=51.892,
                lng=-0.473,
            ),
            service(
                id="bedford-gp",
                service_type="gp_practice",
                needs=["unwell_needs_gp"],
                opening=GP_OPENING,
            ),
            service(
                id="adults-only",
                eligibility={
                    "min_age_days": 6575,
                    "max_age_days": 23741,
                    "sex": "female",
                    "caller_roles": ["professional", "nhs111"],
                    "places": ["bedford"],
                    "gp_practices": ["E81001"],
                },
                needs=["loneliness"],
            ),
            service(id="closed-ucr", status="temporarily_closed"),
            service(
                id="gone-pharmacy",
                organisation="luton-trust",
                service_type="community_pharmacy",
                status="defunct",
                places=["luton"],
                postcode="LU4 0DZ",
                lat=51.892,
                lng=-0.473,
            ),
            service(
                id="befriending",
                organisation="helping-hands",
                service_type="community_pharmacy",
                sector="voluntary",
                contact={"public_phone": "01632 960003", "website": "https://example.org/"},
            ),
        ],
    )


# A search gives the active services unless it says `active=false` (then only the others); a
# read by id gives any of them.
ACTIVE_IDS = {"bedford-ucr", "luton-ucr", "bedford-gp", "adults-only", "befriending"}
INACTIVE_IDS = {"closed-ucr", "gone-pharmacy"}
ALL_IDS = ACTIVE_IDS | INACTIVE_IDS


def report_capacity(
    session: Session,
    service_id: str,
    status: str,
    *,
    now: datetime | None = None,
    reset_after_minutes: int = 120,
) -> None:
    """Record a capacity status as the service would (committed: the next request reads it).
    `now`: when it was reported (default: now); a red or amber status resets to green
    `reset_after_minutes` later."""
    set_capacity(
        session,
        service_id,
        status=status,
        note=f"Reported {status} by the tests",
        reset_after_minutes=reset_after_minutes,
        changed_by="tests",
        now=now or utcnow(),
        default_reset_minutes=240,
    )
    session.commit()


def search(client: FlaskClient, auth: Auth, query: str, role: str = "integrator") -> Any:
    return follow(client, auth, f"/fhir/HealthcareService?{query}", role)


def follow(client: FlaskClient, auth: Auth, url: str, role: str = "integrator") -> Any:
    """GET a path (with its query) under /fhir/: a 200 searchset, as JSON."""
    response = client.get(url, headers=auth[role])
    assert response.status_code == 200, response.get_json()
    assert response.mimetype == FHIR_JSON
    return response.get_json()


def ids(client: FlaskClient, auth: Auth, query: str) -> list[str]:
    return [e["resource"]["id"] for e in search(client, auth, query).get("entry", [])]


def local(url: str) -> str:
    """A link's path and query, for the test client."""
    parts = urlsplit(url)
    assert url.startswith(BASE), url
    return f"{parts.path}?{parts.query}"


def link(bundle: dict[str, Any], relation: str) -> str | None:
    return next((lk["url"] for lk in bundle["link"] if lk["relation"] == relation), None)
