"""`navigator directory load URL`: a whole directory from another navigator's open `/oruk/`
feed over real HTTP (every service arrives, records equal but for what the open feed never
publishes, a second load changes nothing), `--report`, one bad service in a feed costing only
itself, and the command's errors (JSON too deep to parse, a server that drips, a redirect off
https): one line and a non-zero exit, never a traceback."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from navigator import create_app
from navigator.core.db import transaction
from navigator.core.extensions import current_session, db
from navigator.core.migrations import upgrade
from navigator.core.reference import VOCABULARY
from navigator.directory.loader import load_path
from navigator.directory.oruk_export import public_record
from navigator.directory.store import read_organisations, read_services
from tests.builders import directory_document, service
from tests.cli.conftest import run
from tests.conftest import PROJECT_ROOT
from tests.directory.council_feed import council_feed
from tests.local_http import (
    PagedFeed,
    dripping,
    head_length,
    http_answer,
    json_response,
    serving,
    uk1_service,
)

BLMK = PROJECT_ROOT / "directory_of_services" / "blmk"


@pytest.fixture(scope="module")
def other_navigator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, str]]:
    """A second navigator, on its own database with the BLMK directory, serving on loopback:
    (its app, the base URL of its `/oruk/`)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('other') / 'other.db'}"
    upgrade(url)
    os.environ.setdefault("NAVIGATOR_INSTANCE_DIR", str(tmp_path_factory.mktemp("instance")))
    other = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "test-only-secret",
            "LOG_LEVEL": "WARNING",
        }
    )
    with other.app_context(), transaction(current_session()):
        report = load_path(current_session(), BLMK, vocab=VOCABULARY.get(), changed_by="test")
        assert not report.rejections, report.lines()
    with serving(other) as base:
        yield other, f"{base}/oruk/"


def _services(app: Flask) -> dict[str, Any]:
    with app.app_context():
        records = read_services(db.session())
        db.session.remove()
    return records


def test_another_navigators_oruk_feed_loads_every_service(
    app: Flask, session: Session, other_navigator: tuple[Flask, str], tmp_path: Path
) -> None:
    """Every BLMK service crosses /oruk/ (pages of 100, whole services, no per-service
    requests) and arrives equal to the source record with the professional-only fields the
    open feed leaves out (`public_record`): the `navigator-details` attribute carries the rest."""
    other, base = other_navigator
    source = _services(other)
    report_file = tmp_path / "report.json"
    output = run(
        app, "directory", "load", base, "--trust-classification", "--report", str(report_file)
    )
    n = len(source)
    assert f"services: created {n}, updated 0, unchanged 0, rejected 0" in output
    assert f"fetched {n} services from {base.rstrip('/')}/ in" in output
    loaded = read_services(session)
    assert loaded.keys() == source.keys()
    for sid, record in source.items():
        assert loaded[sid] == public_record(record), sid
    assert len(read_organisations(session)) >= 1
    written = json.loads(report_file.read_text())
    assert written["services"] == {"created": n, "updated": 0, "unchanged": 0, "rejected": 0}
    assert written["rejected"] == [] and written["unclassified"] == {}

    again = run(app, "directory", "load", base, "--trust-classification")
    assert f"services: created 0, updated 0, unchanged {n}, rejected 0" in again


def test_summaries_of_an_hsds_uk_feed_are_fetched_and_loaded(app: Flask, session: Session) -> None:
    """An HSDS-UK 1.0 feed listing summaries, with `"url": ""` and `"email": ""` as council
    feeds write them: each `/services/{id}` is fetched and every service is kept (issue 15 §1:
    only a service with no id or no name is rejected)."""
    services = [uk1_service(n) for n in range(12)]
    feed = PagedFeed(services, envelope="uk1", summaries=True, max_per_page=5)
    with serving(feed) as base:
        output = run(app, "directory", "load", base, "--timeout", "5", "--retries", "1")
    assert sum(p.startswith("/services/") for p in feed.seen) == 12
    assert "services: created 12, updated 0, unchanged 0, rejected 0" in output
    assert sorted(read_services(session)) == sorted(s["id"] for s in services)


def test_a_council_scale_feed_over_http_loads_with_none_rejected(
    app: Flask, session: Session, tmp_path: Path
) -> None:
    """A council-like HSDS-UK 1.0 feed (`tests/directory/council_feed.py`: upper-case and
    numeric ids, blank and malformed contacts, every schedule form) listed as summaries:
    every service is fetched by its id and kept, none rejected (issue 15 "Done when")."""
    feed_services = council_feed(150, seed=15, council="Bedford Borough Council")
    feed = PagedFeed(feed_services, envelope="uk1", summaries=True, max_per_page=50)
    report_file = tmp_path / "report.json"
    with serving(feed) as base:
        run(app, "directory", "load", base + "/", "--report", str(report_file))
    assert sum(p.startswith("/services/") for p in feed.seen) == 150
    written = json.loads(report_file.read_text())
    assert written["rejected"] == []
    assert written["services"]["created"] == len(read_services(session)) == 150


def test_report_file_for_a_path_load_lists_the_rejections(app: Flask, tmp_path: Path) -> None:
    """`--report` works for files too and holds what the terminal shows."""
    path = tmp_path / "dir.json"
    path.write_text(
        json.dumps(directory_document(services=[service(id="ok"), service(id="bad", status="x")]))
    )
    report_file = tmp_path / "report.json"
    run(app, "directory", "load", str(path), "--report", str(report_file))
    written = json.loads(report_file.read_text())
    assert written["services"] == {"created": 1, "updated": 0, "unchanged": 0, "rejected": 1}
    assert [(r["id"], r["source"]) for r in written["rejected"]] == [("bad", "dir.json")]


def test_a_missing_path_is_still_a_usage_error(app: Flask, tmp_path: Path) -> None:
    result = app.test_cli_runner().invoke(args=["directory", "load", str(tmp_path / "nope.json")])
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_a_file_that_is_not_json_is_one_line_and_exit_1(app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"services": [')
    result = app.test_cli_runner().invoke(args=["directory", "load", str(path)])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {path}: cannot be read: ")
    assert "Traceback" not in result.output


@pytest.mark.parametrize("url", ["http://example.org/oruk/", "ftp://127.0.0.1/"])
def test_a_url_that_is_not_https_or_loopback_is_refused(app: Flask, url: str) -> None:
    result = app.test_cli_runner().invoke(args=["directory", "load", url])
    assert result.exit_code == 2
    assert url in result.output and "Traceback" not in result.output


def test_a_feed_error_is_one_line_and_exit_1(app: Flask, session: Session) -> None:
    """HTML at the base: exit 1, `Error: <url>: … not an ORUK API`, nothing loaded."""

    def html(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "text/html")])
        return [b"<html>hello</html>"]

    with serving(html) as base:
        result = app.test_cli_runner().invoke(args=["directory", "load", base, "--retries", "0"])
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert errors == [
        f"Error: {base}/services?page=1&per_page=100: answered HTML, not JSON: not an ORUK API "
        "(give the API's base, the URL whose /services lists services)"
    ]
    assert "Traceback" not in result.output and not read_services(session)


def test_one_bad_service_in_a_url_feed_costs_only_itself(
    app: Flask, session: Session, tmp_path: Path
) -> None:
    """Review 15 findings 7, 8 and 14 over real HTTP: a summary with `"id": ""`, a
    `/services/{id}` answering another service, a service nested 900 levels deep and a second,
    different copy of an id each cost that one service (rejected, left out or warned, by id),
    and the rest of the feed loads with exit 0. Before, the first two stopped the whole load."""
    services = [uk1_service(n) for n in range(1, 5)]
    feed = PagedFeed(services, summaries=True)
    feed.by_id["svc-0002"] = uk1_service(9)
    extra = [
        {"id": "", "name": "   ", "status": "active"},
        dict(uk1_service(5), extra=json.loads("[" * 900 + "]" * 900)),
        dict(uk1_service(1), name="A second svc-0001"),
    ]
    real_page = feed.page

    def page(number: int, per_page: int) -> dict[str, Any]:
        body = real_page(number, per_page)
        return body | {"contents": [*body["contents"], *extra], "total_items": 7}

    feed.page = page  # type: ignore[method-assign]
    report_file = tmp_path / "report.json"
    with serving(feed) as base:
        output = run(app, "directory", "load", base, "--report", str(report_file))
    assert "/services/" not in feed.seen  # the blank id was never fetched as a service
    assert (
        f"warning: {base}/services/svc-0002: answered the service with id 'svc-0009'; "
        "service 'svc-0002' left out"
    ) in output
    assert (
        f"warning: {base}/services: service 'svc-0001' is listed twice with different content"
    ) in output
    assert sorted(read_services(session)) == ["svc-0001", "svc-0003", "svc-0004"]
    assert read_services(session)["svc-0001"]["name"] == "Service 1"
    written = json.loads(report_file.read_text())
    assert written["services"]["created"] == 3 and written["services"]["rejected"] == 2
    assert any("nested" in r["reason"] for r in written["rejected"]), written["rejected"]


def _one_line_error(result: Any, expected: str) -> None:
    assert result.exit_code == 1, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert errors == [expected]
    assert "Traceback" not in result.output


def test_json_too_deep_to_parse_is_one_line_and_exit_1(app: Flask, session: Session) -> None:
    """Review 15 finding 8 (URL): `[`×100000 was a RecursionError traceback."""

    def deep(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b"[" * 100_000]

    with serving(deep) as base:
        result = app.test_cli_runner().invoke(args=["directory", "load", base])
    _one_line_error(
        result,
        f"Error: {base}/services?page=1&per_page=100: the answer is nested too deeply: "
        "not an ORUK API",
    )
    assert not read_services(session)


def test_a_server_that_drips_stops_at_timeout(app: Flask, session: Session) -> None:
    """Review 15 finding 11: a byte every 0.05 s kept `directory load URL --timeout 2` going
    for ever; `--timeout` is now the longest one answer may take, start to finish (the body
    is checked as it arrives: a read that blocks may end it up to one read timeout late)."""
    body = json.dumps({"contents": [uk1_service(n) for n in range(5)], "last_page": True})
    started = time.perf_counter()
    answer = http_answer(body.encode())
    with dripping(answer, 0.05, at_once=head_length(answer)) as (base, calls):
        result = app.test_cli_runner().invoke(
            args=["directory", "load", base, "--timeout", "1", "--retries", "0"]
        )
    assert time.perf_counter() - started < 5 and len(calls) == 1
    _one_line_error(
        result,
        f"Error: {base}/services?page=1&per_page=100: no complete answer within 1 s, "
        "no retries (--timeout)",
    )
    assert not read_services(session)


def test_a_redirect_off_https_is_refused_before_it_is_followed(app: Flask) -> None:
    """Review 15 finding 12: a 302 to plain http elsewhere was followed (the error was the
    DNS lookup's); it is refused, naming the target, without connecting to it."""

    def moved(environ: dict[str, Any], start_response: Any) -> Any:
        response = json_response({}, 302, Location="http://example.com/services")
        return response(environ, start_response)

    with serving(moved) as base:
        result = app.test_cli_runner().invoke(args=["directory", "load", base])
    _one_line_error(
        result,
        f"Error: {base}/services?page=1&per_page=100: redirect to http://example.com/services "
        "refused: plain http is allowed only to this machine (127.0.0.1, ::1, localhost); a "
        "real feed must be fetched over https so that what is loaded is what was published",
    )
