"""`navigator demo` (run by scripts/run): a key and a login per role, earlier demo keys revoked."""

from __future__ import annotations

from flask import Flask

from navigator.auth.keys import authenticate
from navigator.core.extensions import db
from tests.cli.conftest import run


def test_demo_prints_a_key_per_role_and_a_login_per_role_and_revokes_old_keys(app: Flask) -> None:
    first = run(app, "demo")
    second = run(app, "demo")
    assert first.count("API key (") == 4 and second.count("login (") == 3
    old_key = next(
        line.split(": ")[-1] for line in first.splitlines() if "API key (integrator" in line
    )
    with app.app_context():
        assert authenticate(db.session(), old_key) is None
