"""Benchmark: GET /api/v1/services with postcode + need + open_now.

On the BLMK directory and on a synthetic England-wide one (default 100,000 services),
through the full Flask stack (test client: routing, auth, argument parsing, search, JSON).
Target (issue 2): p99 under 20 ms at 100,000 services.

    .venv/bin/python bench/directory_search.py [--services 100000] [--requests 2000]
        [--database-url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import random
import time

from common import BLMK_POSTCODES, blmk_documents, fresh_app, load, peak_rss_mb, summary, timed

from navigator.auth.keys import create_api_client
from navigator.core.db import transaction
from navigator.core.extensions import current_session
from navigator.directory.reference import directory_index
from navigator.directory.synth import synthesise


def run(database_url: str | None, services: int, requests: int) -> None:
    app, url = fresh_app(database_url)
    backend = url.split(":", 1)[0]
    with app.app_context(), transaction(current_session()):
        _, key = create_api_client(current_session(), name="bench", role="integrator")
    headers = {"Authorization": f"Bearer {key}"}
    client = app.test_client()
    rng = random.Random(7)
    needs = [
        "fall_no_injury",
        "unwell_needs_gp",
        "loneliness",
        "carer_support",
        "wound_or_catheter_care",
        "mental_health_crisis",
        "memory_concerns",
    ]

    def bench(postcodes: list[str], label: str) -> None:
        def one() -> None:
            query = {
                "postcode": rng.choice(postcodes),
                "need": rng.choice(needs),
                "open_now": "true",
            }
            response = client.get("/api/v1/services", query_string=query, headers=headers)
            assert response.status_code == 200, response.json

        timed(one, 50)  # warm-up: index build, caches
        print(f"[{backend}] {label}: {summary(timed(one, requests))}")

    print(f"[{backend}] BLMK load: {load(app, blmk_documents()):.2f} s")
    bench(BLMK_POSTCODES, "BLMK directory, postcode+need+open_now")

    app, url = fresh_app(database_url)
    with app.app_context(), transaction(current_session()):
        _, key = create_api_client(current_session(), name="bench", role="integrator")
    headers = {"Authorization": f"Bearer {key}"}
    client = app.test_client()
    data = synthesise(services, seed=2026, data_dir=app.config["NAVIGATOR_DIRECTORY_DATA"])
    print(
        f"[{backend}] synthetic load of {services} services: {load(app, [('synth', data)]):.1f} s"
    )
    with app.app_context():
        started = time.perf_counter()
        directory_index()
        took = time.perf_counter() - started
        print(f"[{backend}] index build: {took:.1f} s; peak RSS {peak_rss_mb():.0f} MB")
    postcodes = [s["locations"][0]["postcode"] for s in data["services"][:2000]] + BLMK_POSTCODES
    bench(postcodes, f"{services} synthetic services, postcode+need+open_now")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    run(args.database_url, args.services, args.requests)
