"""Every endpoint says who may call it (issue 14, guard rails): a role requirement, a signed
sender or a deliberate "public" mark with its reason (`navigator.web.access`). A new route with
none fails here, so nothing becomes open by forgetting a decorator. GOV.UK Notify's
`tests/app/test_route_authentication.py` is the model; navigator checks each view rather than
each blueprint, because one blueprint holds views with different rules (the console's sign-in
page beside its pages).

Each endpoint's rule is also pinned in `ROUTE_RULES` below: widening or narrowing who may call
an endpoint (`require_roles("navigator", "admin")` becoming `require_roles()`, a role added to a
console action) fails here until the table is edited too, a second, deliberate change that
review will see. And the access decorator must be the outermost (`declarations`): a decorator
placed above it would run before the check, or skip it, while `functools.wraps` still showed
the rule on the view.

The declared rule is also checked against behaviour: signed out, every API endpoint answers 401
problem+json, every console page sends the browser to sign in, and the webhooks answer 403
without Twilio's signature.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import partial, wraps
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Blueprint, Flask, url_for
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from navigator import create_app
from navigator.core.errors import PROBLEM_JSON
from navigator.fhir.outcome import FHIR_JSON
from navigator.web.access import AccessRule, access_rule, declarations, public
from navigator.web.auth import require_roles

# Endpoints that navigator does not define itself (Flask's and flask-smorest's own views, which
# cannot carry a mark), open on purpose. None holds data.
NOT_OURS = {
    "static": "Flask's static folder (navigator/static): the console's built CSS, scripts, fonts",
    "console.static": "the console's assets (/console/assets): the sign-in page needs them too",
    "api-docs.openapi_json": "flask-smorest's OpenAPI document: describes the API, holds no data",
}

API_KEY = partial(AccessRule, "api_key")  # the roles, or "any role"
CONSOLE = partial(AccessRule, "console")  # the action (the roles its permission allows)
SIGNED = partial(AccessRule, "signed")  # who signs the requests
PUBLIC = partial(AccessRule, "public")  # why anyone may call it
NONE = None  # no rule: only the endpoints in NOT_OURS

TWILIO = "Twilio: X-Twilio-Signature with TWILIO_AUTH_TOKEN over PUBLIC_BASE_URL"
ORUK = (
    "Open Referral UK open data: the UK profile requires no authentication; public directory "
    "fields only, no patient data and no professional-only details"
)
HEALTH = "liveness for load balancers and monitors: says only ok or unavailable, no data"
DOCS = "the API reference, drawn from the public OpenAPI document: no data"
FHIR_METADATA = "the FHIR API's CapabilityStatement: describes the API, no data"
FHIR_CODESYSTEMS = "navigator's vocabularies as FHIR CodeSystems: published codes, no data"
LOGIN = "the sign-in page: throttled per source address, locked per account"
LOGOUT = "signing out needs no sign-in: ends the session sent, if any; CSRF-checked POST"
HOME = "only redirects to the new-call page, which requires sign-in"

# Who may call each endpoint ("endpoint METHODS" -> the rule its view declares). Changing an
# endpoint's access means editing this line as well as the decorator.
ROUTE_RULES: dict[str, AccessRule | None] = {
    "api-docs.openapi_json GET": NONE,
    "api_docs.docs GET": PUBLIC(DOCS),
    "health.health GET": PUBLIC(HEALTH),
    "fhir_directory.metadata GET": PUBLIC(FHIR_METADATA),
    "fhir_directory.read_codesystem GET": PUBLIC(FHIR_CODESYSTEMS),
    "fhir_directory.read_healthcare_service GET": API_KEY("any role"),
    "fhir_directory.read_organization GET": API_KEY("any role"),
    "fhir_directory.search_healthcare_services GET": API_KEY("any role"),
    "fhir_directory.search_organizations GET": API_KEY("any role"),
    "fhir_messaging.process_message POST": API_KEY("integrator"),
    "fhir_messaging.read_service_request_view GET": API_KEY(
        "integrator, navigator, admin, provider"
    ),
    "metrics.cisp_metrics GET": API_KEY("any role"),
    "navigations.create_navigation POST": API_KEY("integrator, navigator, admin"),
    "navigations.gaps GET": API_KEY("navigator, admin"),
    "navigations.read_navigation GET": API_KEY("integrator, navigator, admin"),
    "patients.audit_log GET": API_KEY("admin"),
    "patients.create_patient POST": API_KEY("integrator, navigator, admin"),
    "patients.get_patient GET": API_KEY("integrator, navigator, admin, provider"),
    "referrals.get_referral GET": API_KEY("integrator, navigator, admin, provider"),
    "referrals.list_referrals GET": API_KEY("navigator, admin, provider"),
    "referrals.patch_referral PATCH": API_KEY("navigator, admin, provider"),
    "referrals.post_referral POST": API_KEY("integrator, navigator, admin"),
    "services.get_service GET": API_KEY("any role"),
    "services.list_services GET": API_KEY("any role"),
    "services.put_capacity PUT": API_KEY("provider, navigator, admin"),
    "transitions.get_dtoc GET": API_KEY("navigator, provider, admin"),
    "transitions.list_dtoc GET": API_KEY("navigator, provider, admin"),
    "transitions.patch_dtoc PATCH": API_KEY("navigator, provider, admin"),
    "transitions.post_dtoc POST": API_KEY("navigator, provider, admin"),
    "transitions.post_transition POST": API_KEY("integrator, navigator, provider, admin"),
    "transitions.read_transition GET": API_KEY("integrator, navigator, provider, admin"),
    "worklist.complete POST": API_KEY("navigator, admin"),
    "worklist.worklist GET": API_KEY("navigator, admin"),
    "oruk.organization GET": PUBLIC(ORUK),
    "oruk.organizations GET": PUBLIC(ORUK),
    "oruk.root GET": PUBLIC(ORUK),
    "oruk.service GET": PUBLIC(ORUK),
    "oruk.service_at_location GET": PUBLIC(ORUK),
    "oruk.service_at_locations GET": PUBLIC(ORUK),
    "oruk.services GET": PUBLIC(ORUK),
    "oruk.taxonomies GET": PUBLIC(ORUK),
    "oruk.taxonomy GET": PUBLIC(ORUK),
    "oruk.taxonomy_term GET": PUBLIC(ORUK),
    "oruk.taxonomy_terms GET": PUBLIC(ORUK),
    "twilio_webhooks.inbound POST": SIGNED(TWILIO),
    "twilio_webhooks.status_callback POST": SIGNED(TWILIO),
    "static GET": NONE,
    "console.static GET": NONE,
    "console.home GET": PUBLIC(HOME),
    "console.login GET,POST": PUBLIC(LOGIN),
    "console.logout POST": PUBLIC(LOGOUT),
    "console.call GET": CONSOLE("take_calls (navigator, supervisor, admin)"),
    "console.calls GET,POST": CONSOLE("take_calls (navigator, supervisor, admin)"),
    "console.complete_task POST": CONSOLE("take_calls (navigator, supervisor, admin)"),
    "console.decide_call POST": CONSOLE("take_calls (navigator, supervisor, admin)"),
    "console.find_patient POST": CONSOLE("take_calls (navigator, supervisor, admin)"),
    "console.new_call GET,POST": CONSOLE("take_calls (navigator, supervisor, admin)"),
    "console.worklist GET": CONSOLE("take_calls (navigator, supervisor, admin)"),
    "console.completed_tasks GET": CONSOLE("take_calls (navigator, supervisor, admin)"),
    "console.link_task POST": CONSOLE("take_calls (navigator, supervisor, admin)"),
    "console.dashboard GET": CONSOLE("view_dashboard (supervisor, admin)"),
    "console.dashboard_csv GET": CONSOLE("view_dashboard (supervisor, admin)"),
    "console.directory GET": CONSOLE("view_directory (navigator, supervisor, admin)"),
    "console.service GET": CONSOLE("view_directory (navigator, supervisor, admin)"),
    "console.service_capacity POST": CONSOLE("update_capacity (navigator, supervisor, admin)"),
    "console.service_confirm POST": CONSOLE("confirm_details (supervisor, admin)"),
    "console.service_edit GET,POST": CONSOLE("edit_directory (admin)"),
    "console.service_texts POST": CONSOLE("care_home_texts (navigator, supervisor, admin)"),
    "console.service_classify GET,POST": CONSOLE("classify_services (supervisor, admin)"),
    "console.to_classify GET": CONSOLE("classify_services (supervisor, admin)"),
    "console.dtoc_board GET": CONSOLE("manage_dtoc (navigator, supervisor, admin)"),
    "console.dtoc_episode GET": CONSOLE("manage_dtoc (navigator, supervisor, admin)"),
    "console.dtoc_open POST": CONSOLE("manage_dtoc (navigator, supervisor, admin)"),
    "console.dtoc_update POST": CONSOLE("manage_dtoc (navigator, supervisor, admin)"),
    "console.referral GET": CONSOLE("update_referrals (navigator, supervisor, admin)"),
    "console.referral_status POST": CONSOLE("update_referrals (navigator, supervisor, admin)"),
    "console.referrals GET": CONSOLE("update_referrals (navigator, supervisor, admin)"),
    "console.user_create POST": CONSOLE("manage_users (admin)"),
    "console.user_set_password POST": CONSOLE("manage_users (admin)"),
    "console.user_unlock POST": CONSOLE("manage_users (admin)"),
    "console.users GET": CONSOLE("manage_users (admin)"),
}

METHODS_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
CSRF_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def routes(app: Flask) -> Iterator[tuple[Rule, AccessRule | None]]:
    """Each URL rule of the app with the access rule its view declares (None when none)."""
    for rule in app.url_map.iter_rules():
        yield rule, access_rule(app.view_functions[rule.endpoint])


def declared_rules(app: Flask) -> dict[str, AccessRule | None]:
    """{"endpoint METHODS": the rule its view declares}, as ROUTE_RULES writes them."""
    return {
        f"{rule.endpoint} {','.join(methods(rule))}": declared for rule, declared in routes(app)
    }


def misplaced(app: Flask) -> list[str]:
    """The endpoints whose access decorator is not the outermost and only one (a decorator
    above it would run first, or skip it through `__wrapped__`, while showing its rule)."""
    found = set()
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if access_rule(view) is not None and declarations(view) != [view]:
            found.add(rule.endpoint)
    return sorted(found)


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


def test_each_endpoint_is_open_to_whom_the_table_says(app: Flask) -> None:
    declared = declared_rules(app)
    # {endpoint: (what its view declares, what the table says)} where they differ
    changed = {
        endpoint: (declared.get(endpoint, "no such endpoint"), ROUTE_RULES.get(endpoint, "none"))
        for endpoint in sorted(declared.keys() | ROUTE_RULES.keys())
        if declared.get(endpoint, "no such endpoint") != ROUTE_RULES.get(endpoint, "none")
    }
    assert changed == {}, (
        "who may call these endpoints differs from ROUTE_RULES: if the change is meant, make "
        "it in the table too (and say why in review)"
    )
    # Only the endpoints that are not ours go without a rule, and each still exists (a stale
    # entry would hide a future endpoint of that name).
    assert {e.split()[0] for e, rule in ROUTE_RULES.items() if rule is None} == set(NOT_OURS)


def test_the_access_decorator_is_the_outermost(app: Flask) -> None:
    assert misplaced(app) == [], (
        "put the access decorator (require_roles/requires/signed/public) directly under the "
        "route decorator, above every other decorator"
    )


def _no_rule(view: Callable[..., Any]) -> Callable[..., Any]:
    """A decorator that, like most, knows nothing of access rules."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return view(*args, **kwargs)

    return wrapper


def test_a_route_added_without_a_rule_is_caught(app: Flask) -> None:
    """The checks are not vacuous: unmarked routes added to a fresh app are named, and so is
    a rule that a decorator placed above its access decorator carries (functools.wraps copies
    it, so the view looks declared while that decorator runs before the check)."""
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

    @extra.route("/throwaway/twice")
    @require_roles("admin")
    @require_roles()
    def twice() -> str:
        return "two rules, the inner one wider"

    fresh.register_blueprint(extra)
    assert undeclared(fresh) == ["throwaway", "throwaway_pages.wrapped"]
    assert misplaced(fresh) == ["throwaway_pages.marked", "throwaway_pages.twice"]
    assert set(declared_rules(fresh)) - set(ROUTE_RULES) == {
        "throwaway GET",
        "throwaway_pages.marked GET",
        "throwaway_pages.twice GET",
        "throwaway_pages.wrapped GET",
    }
    with pytest.raises(ValueError, match="reason"):
        public(" ")


def test_signed_out_every_api_endpoint_answers_401(app: Flask, client: FlaskClient) -> None:
    wrong = []
    for rule, method, url in of_kind(app, "api_key"):
        body = {} if method in METHODS_WITH_BODY else None
        response = client.open(url, method=method, json=body)
        # Under /fhir/ every error is an OperationOutcome (navigator.fhir.outcome).
        expected = FHIR_JSON if url.startswith("/fhir/") else PROBLEM_JSON
        if response.status_code != 401 or response.mimetype != expected:
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
