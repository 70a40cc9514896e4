"""Roles are enforced on the server: a hidden link is not the control, the 403 is."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from navigator.console.access import PERMISSIONS
from tests.console.conftest import post_form


@pytest.mark.usefixtures("bedford_directory")
def test_navigator_cannot_see_the_dashboard_confirm_or_edit(
    sign_in: Callable[[str], FlaskClient],
) -> None:
    client = sign_in("navigator")
    assert client.get("/dashboard").status_code == 403
    assert client.get("/dashboard.csv").status_code == 403
    assert client.get("/directory/ucr-one/edit").status_code == 403
    confirm = post_form(client, "/directory/ucr-one/confirm", {}, page="/directory/ucr-one")
    assert confirm.status_code == 403
    assert "Dashboard" not in client.get("/calls").text  # and the menu does not offer it


@pytest.mark.usefixtures("bedford_directory")
def test_supervisor_may_confirm_and_see_the_dashboard_but_not_edit(
    sign_in: Callable[[str], FlaskClient],
) -> None:
    client = sign_in("supervisor")
    assert client.get("/dashboard").status_code == 200
    confirm = post_form(client, "/directory/ucr-one/confirm", {}, page="/directory/ucr-one")
    assert confirm.status_code == 302
    assert client.get("/directory/ucr-one/edit").status_code == 403


def test_the_permissions_table_names_only_known_roles() -> None:
    for action, roles in PERMISSIONS.items():
        assert set(roles) <= {"navigator", "supervisor", "admin"}, action
    assert PERMISSIONS["edit_directory"] == ("admin",)


def test_api_posts_need_no_csrf_token_but_a_key(client: FlaskClient) -> None:
    response = client.post("/api/v1/navigations", json={})
    assert response.status_code == 401
    assert response.content_type == "application/problem+json"
