"""Keyword-only builders for test data, always going through the real services."""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy.orm import Session

from navigator.auth.keys import create_api_client
from navigator.auth.passwords import create_user
from navigator.core.db import transaction, utcnow
from navigator.core.extensions import db
from navigator.core.places import parse_postcode
from navigator.core.reference import GAZETTEER, VOCABULARY
from navigator.directory.loader import LoadReport, load_documents
from navigator.directory.reference import directory_index, stale_hours
from navigator.navigation.service import navigate
from navigator.rules.reference import RULESET

ALL_ROLES = ["public", "relative", "care_home", "professional", "nhs111"]


def organisation(
    *, id: str = "test-trust", ods_code: str | None = "RC9", **extra: Any
) -> dict[str, Any]:
    return {"id": id, "name": f"Organisation {id}", "ods_code": ods_code, "sector": "acute"} | extra


def service(
    *,
    id: str = "test-service",
    organisation: str = "test-trust",
    service_type: str = "urgent_community_response",
    needs: list[str] | None = None,
    places: list[str] | None = None,
    postcode: str = "MK42 9DJ",
    lat: float = 52.126,
    lng: float = -0.472,
    opening: dict[str, Any] | None = None,
    eligibility: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A valid navigator-format service (24/7, all ages and roles, covering Bedford)."""
    record = {
        "id": id,
        "organisation": organisation,
        "name": f"Service {id}",
        "description": f"Test service {id}",
        "service_type": service_type,
        "sector": "community",
        "needs": needs if needs is not None else ["fall_no_injury"],
        "status": "active",
        "eligibility": {
            "min_age_days": 0,
            "max_age_days": None,
            "sex": "any",
            "caller_roles": ALL_ROLES,
        }
        | (eligibility or {}),
        "coverage": {
            "places": places if places is not None else ["bedford"],
            "postcode_districts": [],
            "radius_km": None,
        },
        "locations": [
            {
                "name": "Base",
                "address": "1 Test Street, Bedford",
                "postcode": postcode,
                "lat": lat,
                "lng": lng,
            }
        ],
        "contact": {"public_phone": "01632 960001", "professional_phone": "01632 960002"},
        "referral": {"method": "phone", "info": "Ring the professional line."},
        "opening": opening if opening is not None else {"open_all_hours": True},
        "assured_at": "2026-10-01T09:00:00Z",
        "assured_by": "tests",
    }
    return record | extra


def directory_document(
    *, organisations: list[dict[str, Any]] | None = None, services: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "format": "navigator-directory/1",
        "organisations": organisations if organisations is not None else [organisation()],
        "services": copy.deepcopy(services),
    }


def load_directory(
    *, organisations: list[dict[str, Any]] | None = None, services: list[dict[str, Any]]
) -> LoadReport:
    """Load services through the real loader (so the index revision moves). Needs an app context."""
    with transaction(db.session):
        return load_documents(
            db.session,
            [("test", directory_document(organisations=organisations, services=services))],
            vocab=VOCABULARY.get(),
            changed_by="tests",
        )


def api_key_for(*, role: str, organisation_ods: str | None = None, name: str | None = None) -> str:
    with transaction(db.session):
        _, key = create_api_client(
            db.session, name=name or f"test-{role}", role=role, organisation_ods=organisation_ods
        )
    return key


def console_user(
    *,
    role: str,
    email: str | None = None,
    password: str = "a-long-test-password",  # noqa: S107
) -> tuple[str, str]:
    """A console user (argon2-hashed like any other); returns (email, password)."""
    email = email or f"{role}@test.navigator.example"
    with transaction(db.session):
        create_user(db.session, email=email, password=password, role=role)
    return email, password


def navigate_fall(session: Session, *, created_by: str) -> dict[str, Any]:
    """Route one call (a relative, a fall without injury, aged 80, MK42 9DJ, now) with the
    app's directory, rules and vocabulary, in the caller's unit of work; the API's answer."""
    located = GAZETTEER.get().locate(parse_postcode("MK42 9DJ", allow_outward=False))
    return navigate(
        session,
        {
            "caller_role": "relative",
            "need": "fall_no_injury",
            "age": 80,
            "postcode": located,
            "at": utcnow(),
        },
        created_by=created_by,
        index=directory_index(),
        ruleset=RULESET.get(),
        vocab=VOCABULARY.get(),
        now=utcnow(),
        stale_hours=stale_hours(),
    )
