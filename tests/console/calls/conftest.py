"""What the call pages' tests share: a finished fall call as the new-call form sends it,
taking one, and counting rows."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import func, select

from navigator.core.extensions import db
from tests.console.conftest import post_form

FALL = {
    "caller_role": "relative",
    "caller_name": "Sam Caller",
    "caller_phone": "07700 900123",
    "need": "fall_no_injury",
    "name": "Pat Example",
    "date_of_birth": "15/3/1940",
    "sex": "female",
    "postcode": "MK42 9DJ",
    "nhs_number": "9434765919",
    "notes": "Found on the floor, got up alone.",
}


def take_call(client: FlaskClient, **overrides: object) -> str:
    """Post the new-call form (FALL with `overrides`); the recorded call's navigation id."""
    response = post_form(client, "/calls/new", FALL | overrides)
    assert response.status_code == 302, re.findall(r"Error:</span>(.*?)<", response.text, re.S)
    return response.location.rsplit("/", 1)[1]


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0
