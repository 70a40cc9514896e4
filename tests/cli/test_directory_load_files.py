"""`navigator directory load PATH`: `--trust-classification` (hazard H30: navigator's own
classification is taken from a feed only when the operator says the feed is navigator's) and
files nested too deeply to parse (one line, exit 1, no traceback). Review of issue 15,
findings 1 and 8."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from navigator.directory.store import read_services
from tests.builders import load_directory, service
from tests.cli.conftest import run
from tests.directory.test_oruk_import import FAKE_999


def test_navigators_own_terms_count_only_with_trust_classification(
    app: Flask, session: Session, tmp_path: Path
) -> None:
    path = tmp_path / "fake999.json"
    path.write_text(json.dumps([FAKE_999]))
    output = run(app, "directory", "load", str(path))
    assert "services: created 1, updated 0, unchanged 0, rejected 0" in output
    assert (
        "  aaa-fake-999: attributes: navigator's own classification is not trusted from this "
        "feed (use --trust-classification for navigator's own export); classified from its "
        "other terms"
    ) in output.splitlines()
    assert "unclassified (never routed to until classified): 1" in output
    assert read_services(session)["aaa-fake-999"]["service_type"] == "unclassified"
    session.close()

    trusted = run(app, "directory", "load", str(path), "--trust-classification")
    assert "services: created 0, updated 1, unchanged 0, rejected 0" in trusted
    assert "not trusted" not in trusted
    assert read_services(session)["aaa-fake-999"]["service_type"] == "ambulance_999"


def test_the_option_is_documented_in_the_help(app: Flask) -> None:
    output = run(app, "directory", "load", "--help")
    assert "--trust-classification" in output and "navigator's own export" in output


def test_navigators_own_export_round_trips_only_when_trusted(
    app: Flask, session: Session, tmp_path: Path
) -> None:
    """Untrusted, navigator's own export is a third-party feed: the classifications it
    carries are not taken (the services become unclassified, warned)."""
    load_directory(services=[service(id="s")])
    out = tmp_path / "oruk.json"
    run(app, "directory", "export", "--format", "oruk", "--out", str(out))
    trusted = run(app, "directory", "load", str(out), "--trust-classification")
    assert "services: created 0, updated 0, unchanged 1, rejected 0" in trusted
    untrusted = run(app, "directory", "load", str(out))
    assert "services: created 1, updated 0, unchanged 0, rejected 0" in untrusted  # a UUID id
    assert "not trusted from this feed" in untrusted


@pytest.mark.parametrize(
    ("suffix", "text"),
    [(".json", "[" * 100_000 + "]" * 100_000), (".yaml", "[" * 100_000 + "]" * 100_000)],
)
def test_a_file_nested_too_deeply_is_one_line_and_exit_1(
    app: Flask, tmp_path: Path, suffix: str, text: str
) -> None:
    path = tmp_path / f"deep{suffix}"
    path.write_text(text)
    result = app.test_cli_runner().invoke(args=["directory", "load", str(path)])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # click's error, not a RecursionError
    assert result.output == (
        f"Error: {path}: cannot be read: deep{suffix}: nested too deeply to read (lists or "
        "objects hundreds of levels deep; a directory record is about 10)\n"
    )
