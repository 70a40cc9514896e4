"""Benchmark: `POST /fhir/$process-message`, a BaRS referral from NHS 111 received end to end.

Each request is the standard's REFREQ01 (111 to ED, tests/data/bars/requests, adapted as in the
tests: a registered sender endpoint, the BLMK emergency department `bedford-hospital-ed` as
`NHSD-Target-Identifier`) with a fresh X-Request-Id and ServiceRequest id, so each one is a new
referral: parse and validate the Bundle with fhir.resources, claim the request id (its own
commit), match or create the patient (half with an NHS number, half without), route and record
the navigation, create the referral, keep the Bundle, audit, commit, answer. Through the full
Flask stack in-process (no HTTP server), on the BLMK directory. Target: p99 < 50 ms.

    .venv/bin/python bench/bars_process_message.py [--requests 1000] [--database-url URL]
        [--profile]

`--profile` runs the timed requests under cProfile and prints the top functions by cumulative
and own time, and the SQL statements each request sends (what to look at first on PostgreSQL,
where each round trip costs about 1 ms).
"""

from __future__ import annotations

import argparse
import base64
import copy
import cProfile
import json
import pstats
import uuid
from collections import Counter
from typing import Any

from common import ROOT, blmk_documents, fresh_app, load, summary, timed
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import event

from navigator.auth.keys import create_api_client
from navigator.core.db import transaction
from navigator.core.extensions import current_session
from navigator.fhir.codesystems import service_id_system

REFREQ01 = (
    ROOT / "tests/data/bars/requests/REFREQ01 - Referral Service Request New Full - 111 to ED.xml"
)
TARGET = "bedford-hospital-ed"
SENDER = "https://ems.example.nhs.uk/bars/"
SR_URL = "urn:uuid:236bb75d-90ef-461f-b71e-fde7f899802c"


def message_template() -> dict[str, Any]:
    bundle = Bundle.model_validate_xml(REFREQ01.read_bytes())
    data = bundle.model_dump(mode="json", exclude_none=True)
    data["entry"][0]["resource"]["source"]["endpoint"] = SENDER
    return data


def message(template: dict[str, Any], i: int) -> str:
    """A new referral: another ServiceRequest id; every other one without an NHS number."""
    data = copy.deepcopy(template)
    sr_url = f"urn:uuid:{uuid.uuid4()}"
    for entry in data["entry"]:
        if entry.get("fullUrl") == SR_URL:
            entry["fullUrl"] = sr_url
        if entry["resource"]["resourceType"] == "Patient":
            if i % 2:
                entry["resource"].pop("identifier", None)
            else:  # REFREQ01's own number fails its check digit; a valid test number
                entry["resource"]["identifier"][0]["value"] = "9434765919"
    data["entry"][0]["resource"]["focus"][0]["reference"] = sr_url
    return json.dumps(data)


def run(database_url: str | None, requests: int, profile: bool = False) -> None:
    backend = "postgresql" if database_url else "sqlite"
    app, _ = fresh_app(database_url)
    app.config["BARS_SENDER_ENDPOINTS"] = (SENDER,)
    print(f"[{backend}] BLMK load: {load(app, blmk_documents()):.1f} s")
    with app.app_context(), transaction(current_session()):
        _, key = create_api_client(current_session(), name="bench-111", role="integrator")
    with app.test_request_context():
        system = service_id_system()
    target = base64.b64encode(json.dumps({"value": TARGET, "system": system}).encode()).decode()
    template = message_template()
    bodies = iter([message(template, i) for i in range(requests + 60)])
    client = app.test_client()
    failures: list[int] = []

    def one() -> None:
        response = client.post(
            "/fhir/$process-message",
            data=next(bodies),
            headers={
                "Authorization": f"Bearer {key}",
                "X-Request-Id": str(uuid.uuid4()),
                "X-Correlation-Id": str(uuid.uuid4()),
                "NHSD-Target-Identifier": target,
                "Accept": "application/fhir+json; version=1.4.0",
                "Content-Type": "application/fhir+json",
            },
        )
        if response.status_code != 200:
            failures.append(response.status_code)

    timed(one, 50)  # warm up: the directory index, the rule set, fhir.resources' models
    if profile:
        _profile(app, one, requests)
        return
    samples = timed(one, requests)
    assert not failures, f"non-200 answers: {sorted(set(failures))}"
    print(
        f"[{backend}] $process-message, BLMK, new referral each (target p99 < 50 ms): "
        f"{summary(samples)}"
    )


def _profile(app: Any, one: Any, requests: int) -> None:
    """The SQL statements of two requests (one of each kind), then cProfile over `requests`
    requests."""
    statements: Counter[str] = Counter()
    with app.app_context():
        engine = current_session().get_bind()

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements[" ".join(statement.split())[:110]] += 1

    event.listen(engine, "before_cursor_execute", count)
    for kind in ("with an NHS number", "without"):  # the bench alternates the two
        statements.clear()
        one()
        print(f"SQL statements of one request {kind}: {sum(statements.values())}")
        for statement, n in statements.most_common():
            print(f"  {n} x {statement}")
    event.remove(engine, "before_cursor_execute", count)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        one()
    profiler.disable()
    stats = pstats.Stats(profiler).strip_dirs()
    stats.sort_stats("cumulative").print_stats(60)
    stats.sort_stats("tottime").print_stats(30)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--profile", action="store_true", help="cProfile and SQL statements")
    args = parser.parse_args()
    run(args.database_url, args.requests, args.profile)
