"""Issue 12 §5 (and §1's escaping): a console URL that reaches no console view — one that
matches no route, or an id out of the `<int:>` range (`POST /worklist/2147483648`) — got
the API's `application/problem+json`. A browser path gets the console's HTML error page,
with the path never echoed as markup; `/api/`, `/oruk/` and `/webhooks/` keep problem+json."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from navigator.core.errors import PROBLEM_JSON
from navigator.web.edge import MAX_INT_ID
from tests.web.test_edge import concrete

MARKUP = "<b>x</b>"


def assert_console_page(response, status: int) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status
    assert response.mimetype == "text/html"
    assert "<!DOCTYPE html>" in response.text
    assert MARKUP not in response.text  # never echoed raw (hazard H26)


@pytest.mark.parametrize("signed_in", [False, True])
def test_console_ids_out_of_range_get_the_html_error_page(
    app: Flask, client: FlaskClient, sign_in: Callable[[str], FlaskClient], signed_in: bool
) -> None:
    """Every console `<int:>` route, walked from the URL map (so routes added later are
    covered), with ids just past the range, far past it, and zero."""
    if signed_in:
        client = sign_in("admin")
    rules = [
        r
        for r in app.url_map.iter_rules()
        if r.endpoint.startswith("console.") and "<int:" in r.rule
    ]
    assert {r.rule for r in rules} >= {"/worklist/<int:task_id>", "/users/<int:user_id>/unlock"}
    for rule in rules:
        method = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})[0]
        for value in (str(MAX_INT_ID + 1), str(2**63), "0"):
            response = client.open(concrete(rule.rule, int_value=value), method=method)
            assert_console_page(response, 404)
            assert "Page not found" in response.text


@pytest.mark.parametrize(
    "path",
    [
        "/no-such-page",
        "/calls/%3Cb%3Ex%3C%2Fb%3E%2Fmore",  # %2F: a slash, so no console route matches
        "/%3Cb%3Ex%3C/b%3E",
        "/console/assets/nope.css",
    ],
)
def test_a_console_url_matching_no_route_gets_the_html_error_page(
    client: FlaskClient, sign_in: Callable[[str], FlaskClient], path: str
) -> None:
    for who in (client, sign_in("navigator")):
        response = who.get(path)
        assert_console_page(response, 404)


def test_a_method_the_console_does_not_allow_gets_html_with_allow(client: FlaskClient) -> None:
    response = client.delete("/login")
    assert_console_page(response, 405)
    assert "POST" in response.headers["Allow"]


@pytest.mark.parametrize(
    "path", ["/api/v1/no-such", "/api/nope", "/oruk/no-such", "/webhooks/no", "/static/no.css"]
)
def test_machine_paths_keep_problem_json(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.mimetype == PROBLEM_JSON
    assert response.json["status"] == 404


def test_api_ids_out_of_range_keep_problem_json(client: FlaskClient) -> None:
    response = client.post(f"/api/v1/worklist/{MAX_INT_ID + 1}/complete", json={})
    assert response.status_code == 404
    assert response.mimetype == PROBLEM_JSON
