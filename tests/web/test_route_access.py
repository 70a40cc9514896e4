"""Every endpoint says who may call it (issue 14, guard rails): a role requirement, a signed
sender or a deliberate "public" mark with its reason (`navigator.web.access`). A new route with
none fails here, so nothing becomes open by forgetting a decorator. GOV.UK Notify's
`tests/app/test_route_authentication.py` is the model; navigator checks each view rather than
each blueprint, because one blueprint holds views with different rules (the console's sign-in
page beside its pages).

The declared rule is also checked against behaviour: signed out, every API endpoint answers 401
problem+json, every console page sends the browser to sign in, and the webhooks answer 403
without Twilio's signature.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Blueprint, Flask, url_for
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from navigator import create_app
from navigator.core.errors import PROBLEM_JSON
from navigator.web.access import AccessRule, access_rule, public

# Endpoints that navigator does not define itself (Flask's and flask-smorest's own views, which
# cannot carry a mark), open on purpose. None holds data.
NOT_OURS = {
    "static": "Flask's static folder (navigator/static): the console's built CSS, scripts, fonts",
    "console.static": "the console's assets (/console/assets): the sign-in page needs them too",
    "api-docs.openapi_json": "flask-smorest's OpenAPI document: describes the API, holds no data",
}

# Every endpoint anyone may call, ours (`@public`) and not ours. Opening one more endpoint
# means adding it here as well as marking it: a second, deliberate step that review will see.
OPEN_TO_ANYONE = {
    *NOT_OURS,
    "health.health",
    "api_docs.docs",
    "console.login",
    "console.logout",
    "console.home",
    "oruk.root",
    "oruk.services",
    "oruk.service",
    "oruk.taxonomies",
    "oruk.taxonomy",
    "oruk.taxonomy_terms",
    "oruk.taxonomy_term",
}

METHODS_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
CSRF_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def routes(app: Flask) -> Iterator[tuple[Rule, AccessRule | None]]:
    """Each URL rule of the app with the access rule its view declares (None when none)."""
    for rule in app.url_map.iter_rules():
        yield rule, access_rule(app.view_functions[rule.endpoint])


def undeclared(app: Flask) -> list[str]:
    """The endpoints that declare no access rule and are not allowed in NOT_OURS."""
    return sorted(
        {rule.endpoint for rule, declared in routes(app) if declared is None}.difference(NOT_OURS)
    )


def methods(rule: Rule) -> list[str]:
    return sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})


def dummy_url(app: Flask, rule: Rule) -> str:
    """The rule's URL with its defaults and a dummy for each variable (1 for `<int:…>`)."""
    values: dict[str, Any] = dict(rule.defaults or {})
    for converter, name in re.findall(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", rule.rule):
        values.setdefault(name, 1 if converter == "int" else "dummy-id")
    with app.test_request_context():
        return url_for(rule.endpoint, **values)


def of_kind(app: Flask, kind: str) -> list[tuple[Rule, str, str]]:
    """(rule, method, dummy URL) for every method of every endpoint declaring `kind`."""
    found = [
        (rule, method, dummy_url(app, rule))
        for rule, declared in routes(app)
        if declared is not None and declared.kind == kind
        for method in methods(rule)
    ]
    assert found, f"no {kind} endpoints: the walk is broken"
    return found


def test_every_endpoint_declares_who_may_call_it(app: Flask) -> None:
    assert undeclared(app) == [], (
        "these endpoints declare no access rule: add require_roles/requires/signed, or "
        "@public('why') (navigator.web.access)"
    )


def test_only_the_known_endpoints_are_open_to_anyone(app: Flask) -> None:
    open_ = {rule.endpoint for rule, declared in routes(app) if declared is None}
    open_ |= {r.endpoint for r, declared in routes(app) if declared and declared.kind == "public"}
    assert open_ == OPEN_TO_ANYONE
    # Each exemption still exists (a stale entry would hide a future endpoint of that name).
    assert set(NOT_OURS) <= {rule.endpoint for rule in app.url_map.iter_rules()}


def _no_rule(view: Callable[..., Any]) -> Callable[..., Any]:
    """A decorator that, like most, knows nothing of access rules."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return view(*args, **kwargs)

    return wrapper


def test_a_route_added_without_a_rule_is_caught(app: Flask) -> None:
    """The check is not vacuous: unmarked routes added to a fresh app are named, and a mark
    survives decorators placed above it (functools.wraps carries it)."""
    fresh = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})
    assert undeclared(fresh) == []
    fresh.add_url_rule("/throwaway", "throwaway", lambda: "open by mistake")
    extra = Blueprint("throwaway_pages", __name__)

    @extra.route("/throwaway/wrapped")
    @_no_rule
    def wrapped() -> str:
        return "open by mistake too"

    @extra.route("/throwaway/marked")
    @_no_rule
    @public("a test page")
    def marked() -> str:
        return "open on purpose"

    fresh.register_blueprint(extra)
    assert undeclared(fresh) == ["throwaway", "throwaway_pages.wrapped"]
    with pytest.raises(ValueError, match="reason"):
        public(" ")


def test_signed_out_every_api_endpoint_answers_401(app: Flask, client: FlaskClient) -> None:
    wrong = []
    for rule, method, url in of_kind(app, "api_key"):
        body = {} if method in METHODS_WITH_BODY else None
        response = client.open(url, method=method, json=body)
        if response.status_code != 401 or response.mimetype != PROBLEM_JSON:
            wrong.append((rule.endpoint, method, url, response.status_code, response.mimetype))
    assert wrong == []


def test_signed_out_every_console_page_sends_the_browser_to_sign_in(
    app: Flask, client: FlaskClient
) -> None:
    # A real token from the sign-in page, so the refusal is not the CSRF check's.
    token = CSRF_TOKEN.search(client.get("/login").text)
    assert token is not None
    with app.test_request_context():
        sign_in = url_for("console.login")
    wrong = []
    for rule, method, url in of_kind(app, "console"):
        data = {"csrf_token": token.group(1)} if method in METHODS_WITH_BODY else None
        response = client.open(url, method=method, data=data)
        location = urlsplit(response.headers.get("Location", ""))
        if response.status_code != 302 or location.path != sign_in:
            wrong.append((rule.endpoint, method, url, response.status_code, location.path))
    assert wrong == []


def test_unsigned_webhooks_are_refused(app: Flask, client: FlaskClient) -> None:
    wrong = []
    for rule, method, url in of_kind(app, "signed"):
        response = client.open(
            url, method=method, data={"MessageSid": "SM1", "From": "+447700900123"}
        )
        if response.status_code != 403 or response.mimetype != PROBLEM_JSON:
            wrong.append((rule.endpoint, method, url, response.status_code))
    assert wrong == []
