"""Shared by the routing tests: the shipped BLMK directory, and a navigation over the API."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from navigator.core.db import transaction
from navigator.core.extensions import current_session
from navigator.core.reference import VOCABULARY
from navigator.directory.loader import load_path
from tests.conftest import PROJECT_ROOT

Auth = dict[str, dict[str, str]]
MONDAY_10 = "2026-11-23T10:00:00Z"


def load_blmk() -> None:
    """Load the shipped BLMK directory (directory_of_services/blmk); needs an app context."""
    session = current_session()
    with transaction(session):
        load_path(
            session,
            PROJECT_ROOT / "directory_of_services" / "blmk",
            vocab=VOCABULARY.get(),
            changed_by="test",
        )


@pytest.fixture
def blmk(app_ctx: Any) -> None:
    load_blmk()


def navigate(client: FlaskClient, auth: Auth, **body: Any) -> dict[str, Any]:
    """POST /api/v1/navigations as an integrator; the created navigation as JSON."""
    response = client.post("/api/v1/navigations", json=body, headers=auth["integrator"])
    assert response.status_code == 201, response.json
    return dict(response.json)


def items(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The recommended service, then the alternatives."""
    return [result["recommendation"]["service"], *(a["service"] for a in result["alternatives"])]
