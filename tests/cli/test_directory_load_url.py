"""`navigator directory load URL`: a whole directory from another navigator's open `/oruk/`
feed over real HTTP (every service arrives, records equal but for what the open feed never
publishes, a second load changes nothing), `--report`, and the command's errors: one line and
a non-zero exit, never a traceback."""

from __future__ import annotations

import json
import os
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
from tests.local_http import PagedFeed, serving, uk1_service

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
    output = run(app, "directory", "load", base, "--report", str(report_file))
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

    again = run(app, "directory", "load", base)
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
