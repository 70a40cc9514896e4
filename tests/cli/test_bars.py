"""`navigator fake-bars-sender` and the BaRS example a newcomer sends (`scripts/run`, README).

Protects: the command serves the fake sender on the port asked for, on loopback, lists what it
accepted at `GET /_fake/messages`, and stops with status 0 on SIGTERM (what `scripts/run`'s
trap sends) and on SIGINT; `docs/examples/bars-referral.json` (the BaRS IG's REFREQ01 "111 to
ED", NHSDigital/NHSDigital-FHIR-BookingAndReferrals commit 0cf8fdaa, adapted as
tests/data/bars/requests/SOURCES.md describes; docs/examples/README.md) stays a valid FHIR R4B
Bundle that navigator takes with 200 for the BLMK directory's Bedford Hospital ED, that the demo
provider (RC9) can accept, queuing a status response to the example's sender; and
`scripts/bars-example` posts it with fresh ids, so running it twice makes two referrals.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from fhir.resources.R4B.bundle import Bundle
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func
from sqlalchemy import select as sql_select
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from navigator.bars.models import BarsReferral
from navigator.bars.shown import deliveries as responses_for
from tests.cli.conftest import run
from tests.conftest import PROJECT_ROOT
from tests.fhir.bars_messages import bars_headers, target_header

EXAMPLE = PROJECT_ROOT / "docs" / "examples" / "bars-referral.json"
SCRIPT = PROJECT_ROOT / "scripts" / "bars-example"
NAVIGATOR = Path(sys.executable).parent / "navigator"
# What scripts/run registers and where it runs the fake; the example's sender endpoint.
FAKE_SENDER = "http://127.0.0.1:8011"
SERVICE = "bedford-hospital-ed"  # BLMK directory; organisation bedfordshire-hospitals, RC9
SYSTEM = "http://localhost/fhir/Id/service"  # the tests' PUBLIC_BASE_URL + /fhir/Id/service
Auth = dict[str, dict[str, str]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def first_line(process: subprocess.Popen[str], seconds: float = 20.0) -> str:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], seconds)
    assert ready, "the command printed nothing"
    return process.stdout.readline()


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_the_fake_sender_serves_lists_and_stops_on_a_signal(stop: signal.Signals) -> None:
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - our own console script
        [str(NAVIGATOR), "fake-bars-sender", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        url = f"http://127.0.0.1:{port}"
        line = first_line(process)
        assert f"fake BaRS sender on {url}" in line
        assert f"GET {url}/_fake/messages" in line
        ids = {"X-Request-Id": str(uuid.uuid4()), "X-Correlation-Id": str(uuid.uuid4())}
        bundle = json.loads(EXAMPLE.read_text())  # any message Bundle will do
        sent = requests.post(
            f"{url}/bars/$process-message", data=json.dumps(bundle), headers=ids, timeout=5
        )
        assert sent.status_code == 200, sent.text
        listing = requests.get(f"{url}/_fake/messages", timeout=5).json()
        assert listing["attempts"] == 1
        [got] = listing["messages"]
        assert (got["request_id"], got["correlation_id"]) == (
            ids["X-Request-Id"],
            ids["X-Correlation-Id"],
        )
        assert (got["path"], got["event"]) == ("/bars/$process-message", "servicerequest-request")
        assert got["bundle"] == bundle
        process.send_signal(stop)
        out, err = process.communicate(timeout=10)
        assert process.returncode == 0, err
        assert "fake BaRS sender stopped" in out
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{url}/_fake/messages", timeout=2)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_the_fake_sender_refuses_a_port_in_use() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(  # noqa: S603 - our own console script
            [str(NAVIGATOR), "fake-bars-sender", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr


@pytest.fixture
def blmk(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real BLMK directory loaded and the fake sender registered, as scripts/run does."""
    run(app, "directory", "load", str(PROJECT_ROOT / "directory_of_services" / "blmk"))
    monkeypatch.setitem(app.config, "BARS_SENDER_ENDPOINTS", (FAKE_SENDER,))


def test_the_example_is_a_bundle_navigator_takes_and_the_demo_provider_accepts(
    client: FlaskClient, auth: Auth, session: Session, blmk: None
) -> None:
    example = json.loads(EXAMPLE.read_text())
    assert Bundle.model_validate(example).type == "message"
    header = example["entry"][0]["resource"]
    assert header["source"]["endpoint"].startswith(FAKE_SENDER)
    headers = bars_headers(auth["integrator"], target=None)
    headers["NHSD-Target-Identifier"] = target_header(SERVICE, SYSTEM)

    response = client.post("/fhir/$process-message", data=json.dumps(example), headers=headers)

    assert response.status_code == 200, response.get_data(as_text=True)
    answer = response.get_json(force=True)
    Bundle.model_validate(answer)
    service_request = next(
        e["resource"] for e in answer["entry"] if e["resource"]["resourceType"] == "ServiceRequest"
    )
    referral_id = service_request["id"]
    accepted = client.patch(
        f"/api/v1/referrals/{referral_id}", json={"status": "accepted"}, headers=auth["provider"]
    )
    assert accepted.status_code == 200, accepted.json
    [queued] = responses_for(session, referral_id)
    assert queued.referral_status == "accepted"
    bars = session.scalar(sql_select(BarsReferral).where(BarsReferral.referral_id == referral_id))
    assert bars is not None
    assert bars.sender_endpoint == header["source"]["endpoint"]


@pytest.fixture
def served(app: Flask) -> Iterator[str]:
    """The app on a free loopback port, as gunicorn serves it in scripts/run."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


def test_the_example_script_sends_a_new_referral_each_run(
    served: str, auth: Auth, session: Session, blmk: None
) -> None:
    key = auth["integrator"]["Authorization"].removeprefix("Bearer ")
    for _ in range(2):
        result = subprocess.run(  # noqa: S603 - our own interpreter and script
            [sys.executable, str(SCRIPT), key, SERVICE, "--base-url", served, "--system", SYSTEM],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "-> 200" in result.stdout
        assert "curl -X PATCH" in result.stdout
    session.expire_all()
    assert session.scalar(sql_select(func.count()).select_from(BarsReferral)) == 2
    ids = session.scalars(sql_select(BarsReferral.service_request_id)).all()
    assert len(set(ids)) == 2
    published = EXAMPLE.read_text()
    assert not [i for i in ids if i in published]  # fresh ids, not the example's
