"""Benchmark: how long a failed console sign-in takes, per branch, through the full Flask stack.

An unknown email, a known account with a wrong password, and a locked account (wrong and right
password) must take the same time, so that timing does not reveal which accounts exist or are
locked (issue 12 §3: a locked account answered in ~6 ms, an unknown email in ~160 ms). The
deterministic control is `tests/auth/test_login.py` (one argon2 verification per branch); this
is the rough check that the times agree.

    .venv/bin/python bench/sign_in_timing.py [--attempts 20] [--database-url URL]
"""

from __future__ import annotations

import argparse
import re
from datetime import timedelta

from common import fresh_app, summary, timed
from sqlalchemy import select

from navigator.auth.models import User
from navigator.auth.passwords import create_user
from navigator.core.db import transaction, utcnow
from navigator.core.extensions import current_session

EMAIL, PASSWORD = "known@bench.example", "the-right-password"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=20)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    app, url = fresh_app(args.database_url)
    # The per-address throttle would answer 429 long before the end; it is not measured here.
    app.config["AUTH_THROTTLE"] = {"api_key": (10**9, 300), "console": (10**9, 300)}
    with app.app_context(), transaction(current_session()):
        create_user(current_session(), email=EMAIL, password=PASSWORD, role="navigator")
    client = app.test_client()
    match = TOKEN.search(client.get("/login").text)
    assert match
    token = match.group(1)

    def attempt(email: str, password: str) -> None:
        response = client.post(
            "/login", data={"csrf_token": token, "email": email, "password": password}
        )
        assert response.status_code == 401, response.status_code

    def lock(until: timedelta | None) -> None:
        with app.app_context(), transaction(current_session()):
            user = current_session().scalar(select(User).where(User.email == EMAIL))
            assert user is not None
            user.failed_logins, user.locked_until = 0, (utcnow() + until) if until else None

    print(f"sign-in failures through POST /login on {url.split(':')[0]}:")
    attempt("warm@bench.example", "warming-up")
    cases = (
        ("unknown email", "nobody@bench.example", "a-wrong-guess", None),
        ("known, wrong password", EMAIL, "a-wrong-guess", None),
        ("locked, wrong password", EMAIL, "a-wrong-guess", timedelta(hours=1)),
        ("locked, right password", EMAIL, PASSWORD, timedelta(hours=1)),
    )
    # Interleaved, one attempt per case per round, so that load on the machine drifting over
    # the run falls on every case alike. Setting the lock state is not timed.
    samples: dict[str, list[float]] = {label: [] for label, *_ in cases}
    for _ in range(args.attempts):
        for label, email, password, locked in cases:
            lock(locked)
            samples[label] += timed(lambda e=email, p=password: attempt(e, p), 1)  # type: ignore[misc]
    for label, values in samples.items():
        print(f"  {label:<24} {summary(values)}")


if __name__ == "__main__":
    main()
