"""Web nodes are stateless (issue 18 §1): a console session made on one node is used on
another, failed sign-ins on one node throttle the same source on another, and an API key works
on every node. Each node is reached directly here (not through the balancer), so the test
knows which node answered.

The throttle counts failures per source address (navigator.auth.throttle). Straight to a node
every request comes from 127.0.0.1, so the throttle test sends an `X-Forwarded-For` of its own:
the cluster trusts one proxy (`TRUSTED_PROXIES=1`, as behind HAProxy), so each test's failures
count under an address of the documentation range (RFC 5737) that no other test uses.
"""

from __future__ import annotations

import re
import secrets

import requests

from tests.cluster.conftest import CONSOLE_THROTTLE_FAILURES, Cluster

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(session: requests.Session, node: str) -> str:
    page = session.get(f"{node}/login", timeout=30)
    assert page.status_code == 200, page.status_code
    found = CSRF.search(page.text)
    assert found, "no CSRF token on the sign-in page"
    return found.group(1)


def sign_in(
    session: requests.Session, node: str, email: str, password: str, *, token: str, **headers: str
) -> requests.Response:
    return session.post(
        f"{node}/login",
        data={"email": email, "password": password, "csrf_token": token},
        headers=headers,
        allow_redirects=False,
        timeout=30,
    )


def test_a_console_session_made_on_one_node_is_used_on_another(whole_cluster: Cluster) -> None:
    node_a, node_b = whole_cluster.node_urls[:2]
    email, password = whole_cluster.create_user()
    browser = requests.Session()  # cookies are per host, not per port: one jar for both nodes

    signed_in = sign_in(browser, node_a, email, password, token=csrf_token(browser, node_a))
    assert signed_in.status_code == 302, signed_in.text[:500]

    page = browser.get(f"{node_b}/calls/new", allow_redirects=False, timeout=30)
    assert page.status_code == 200, (page.status_code, page.headers.get("Location"))
    assert "csrf_token" in page.text  # the new-call form itself, not a sign-in redirect
    # The control: without the session node B sends the browser to sign in.
    stranger = requests.get(f"{node_b}/calls/new", allow_redirects=False, timeout=30)
    assert stranger.status_code == 302 and "/login" in stranger.headers["Location"]


def test_failed_sign_ins_through_one_node_throttle_the_source_on_another(
    whole_cluster: Cluster,
) -> None:
    node_a, node_b = whole_cluster.node_urls[:2]
    email, _ = whole_cluster.create_user()
    source = {"X-Forwarded-For": f"198.51.100.{secrets.randbelow(250) + 1}"}
    browser = requests.Session()
    token = csrf_token(browser, node_a)

    failures = [
        sign_in(browser, node_a, email, "not-the-password", token=token, **source).status_code
        for _ in range(CONSOLE_THROTTLE_FAILURES)
    ]
    assert failures == [401] * CONSOLE_THROTTLE_FAILURES

    # The CSRF token and session from node A are good on node B too (one SECRET_KEY).
    throttled = sign_in(browser, node_b, email, "not-the-password", token=token, **source)
    assert throttled.status_code == 429, throttled.status_code
    assert int(throttled.headers["Retry-After"]) > 0
    # Another source is not throttled by them: the limit is the source's, not node B's.
    other = {"X-Forwarded-For": "192.0.2.1"}
    assert sign_in(browser, node_b, email, "nope", token=token, **other).status_code == 401


def test_an_api_key_works_on_every_node(whole_cluster: Cluster, integrator_key: str) -> None:
    auth = {"Authorization": f"Bearer {integrator_key}"}
    call = {
        "caller_role": "professional",
        "need": "fall_no_injury",
        "age": 80,
        "postcode": "MK42 9AA",
    }
    made = []
    for node in whole_cluster.node_urls:
        response = requests.post(f"{node}/api/v1/navigations", json=call, headers=auth, timeout=30)
        assert response.status_code == 201, (node, response.status_code, response.text[:300])
        made.append(response.json()["id"])
    # Each call is read back through a different node from the one that recorded it.
    for node, navigation_id in zip(reversed(whole_cluster.node_urls), made, strict=True):
        read = requests.get(f"{node}/api/v1/navigations/{navigation_id}", headers=auth, timeout=30)
        assert read.status_code == 200, (node, read.status_code)
    bad = {"Authorization": "Bearer not-a-key"}
    for node in whole_cluster.node_urls:
        refused = requests.post(f"{node}/api/v1/navigations", json=call, headers=bad, timeout=30)
        assert refused.status_code == 401
