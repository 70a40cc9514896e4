"""Benchmark: routing, in-process and over HTTP under gunicorn.

In-process: rules + directory matching + live capacity reads for random calls (p50/p99), on
the BLMK directory and a synthetic one (default 100,000 services). Target: p99 < 5 ms at 100k.
Over HTTP: requests per second of POST /api/v1/navigations against a trivial JSON endpoint of
the same app and server (GET /oruk/), measured in the same run with wrk. Target: ratio >= 50%.

    .venv/bin/python bench/routing.py [--services 100000] [--calls 2000] [--seconds 10]
        [--database-url postgresql+psycopg://...] [--skip-http]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from common import BLMK_POSTCODES, ROOT, blmk_documents, fresh_app, load, summary, timed

from navigator.auth.keys import create_api_client
from navigator.core.db import transaction, utcnow
from navigator.core.extensions import current_session
from navigator.core.places import parse_postcode
from navigator.core.reference import GAZETTEER, VOCABULARY
from navigator.directory.capacity import capacities, red_service_ids
from navigator.directory.reference import directory_index, stale_hours
from navigator.directory.synth import synthesise
from navigator.navigation.criteria import Call
from navigator.navigation.routing import route
from navigator.navigation.service import facts_for
from navigator.rules.reference import RULESET
from navigator.rules.ruleset import evaluate


def random_calls(rng: random.Random, postcodes: list[str], count: int) -> list[dict[str, Any]]:
    vocab = VOCABULARY.get()
    needs, roles = (
        vocab.codes("needs"),
        ["nhs111", "professional", "relative", "public", "care_home"],
    )
    start = datetime(2026, 11, 23, tzinfo=UTC)
    return [
        {
            "caller_role": rng.choice(roles),
            "need": rng.choice(needs),
            "red_flags": ["chest_pain"] if rng.random() < 0.05 else [],
            "age": rng.randint(0, 99),
            "sex": rng.choice(["female", "male"]),
            "postcode": rng.choice(postcodes),
            "at": (start + timedelta(minutes=rng.randint(0, 7 * 24 * 60))).isoformat(),
            "lives_in_care_home": rng.random() < 0.2,
        }
        for _ in range(count)
    ]


def in_process(label: str, calls: list[dict[str, Any]]) -> None:
    session, index, ruleset, vocab = (
        current_session(),
        directory_index(),
        RULESET.get(),
        VOCABULARY.get(),
    )
    prepared = []
    for body in calls:
        located = GAZETTEER.get().locate(parse_postcode(body["postcode"]))  # type: ignore[arg-type]
        prepared.append(
            (located, facts_for(body | {"at": datetime.fromisoformat(body["at"])}, located))
        )
    it = iter(prepared * 2)

    def one() -> None:
        located, facts = next(it)
        now = utcnow()
        route(
            index=index,
            ruleset=ruleset,
            decision=evaluate(ruleset, facts),
            call=Call(facts, located),
            red=red_service_ids(session, now),
            capacities=lambda ids: capacities(session, ids, now, stale_hours()),
            vocab=vocab,
        )

    timed(one, min(100, len(prepared)))
    print(f"{label} in-process routing: {summary(timed(one, len(prepared)))}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wrk(url: str, seconds: int, script: Path | None = None) -> float:
    args = ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", url]
    if script:
        args[1:1] = ["-s", str(script)]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    line = next(line for line in out.splitlines() if line.startswith("Requests/sec:"))
    non2xx = [line for line in out.splitlines() if "Non-2xx" in line]
    if non2xx:
        raise SystemExit(f"wrk saw errors: {non2xx}")
    return float(line.split()[1])


def over_http(
    database_url: str,
    key: str,
    calls: list[dict[str, Any]],
    seconds: int,
    label: str,
    threads: int,
    workers: int,
) -> None:
    if not shutil.which("wrk"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True)
    port = free_port()
    env = os.environ | {"DATABASE_URL": database_url, "LOG_LEVEL": "WARNING"}
    env.setdefault("SECRET_KEY", secrets.token_urlsafe(32))  # every worker signs alike
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = [str(gunicorn), "--preload", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    command += ["--threads", str(threads), "--timeout", "120", "--log-level", "warning"]
    server = subprocess.Popen([*command, "wsgi:app"], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(1800):
            try:
                urllib.request.urlopen(f"{base}/api/v1/health", timeout=1)  # noqa: S310 - our own loopback server
                break
            except OSError:
                time.sleep(0.1)
        bodies = [json.dumps(c) for c in calls[:200]]
        script = Path(tempfile.mkdtemp()) / "navigations.lua"
        script.write_text(
            "bodies = {" + ",".join(json.dumps(b) for b in bodies) + "}\n"
            "i = 0\n"
            'wrk.method = "POST"\n'
            f'wrk.headers["Authorization"] = "Bearer {key}"\n'
            'wrk.headers["Content-Type"] = "application/json"\n'
            "request = function()\n  i = i % #bodies + 1\n"
            "  return wrk.format(nil, '/api/v1/navigations', nil, bodies[i])\nend\n"
        )
        wrk(f"{base}/oruk/", 2)  # warm up both workers
        wrk(f"{base}/api/v1/navigations", 5, script)  # warm-up: each worker builds its index
        trivial = wrk(f"{base}/oruk/", seconds)
        navigations = wrk(f"{base}/api/v1/navigations", seconds, script)
        print(
            f"{label} HTTP (gunicorn, {workers} workers x {threads} threads, wrk -c16): "
            f"trivial GET /oruk/ {trivial:.0f} req/s; "
            f"POST /api/v1/navigations {navigations:.0f} req/s; ratio {navigations / trivial:.0%}"
        )
    finally:
        server.terminate()
        server.wait(timeout=30)


def run(args: argparse.Namespace) -> None:
    rng = random.Random(11)
    for name in ("BLMK",) if args.services_only_blmk else ("BLMK", "synthetic"):
        app, url = fresh_app(args.database_url)
        backend = url.split(":", 1)[0]
        if name == "BLMK":
            load(app, blmk_documents())
            postcodes, label = BLMK_POSTCODES, f"[{backend}] BLMK"
        else:
            data = synthesise(
                args.services, seed=2026, data_dir=app.config["NAVIGATOR_DIRECTORY_DATA"]
            )
            load(app, [("synth", data)])
            postcodes = [s["locations"][0]["postcode"] for s in data["services"][:2000]]
            label = f"[{backend}] {args.services} synthetic"
        with app.app_context():
            with transaction(current_session()):
                _, key = create_api_client(current_session(), name="bench", role="integrator")
            calls = random_calls(rng, postcodes, args.calls)
            directory_index()
            in_process(label, calls)
        if not args.skip_http:
            over_http(url, key, calls, args.seconds, label, args.threads, args.workers)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker")
    parser.add_argument("--services-only-blmk", action="store_true", help="skip the synthetic run")
    run(parser.parse_args())
