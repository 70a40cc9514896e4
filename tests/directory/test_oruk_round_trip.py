"""Round trip (issue 15, "Done when"): `navigator directory export --format oruk`, loaded into a
fresh database by `navigator directory load`, exports again byte for byte the same, for the
whole BLMK directory plus the awkward services of `oruk_samples.py` (a fractional age range,
an unclassified service with a council feed's ESD terms, hostile text, empty optional fields,
no location, ids that already are UUIDs). Both the full and the `--public` export round-trip.

The fresh database is a new SQLite file migrated from scratch behind a second app, as a
second navigator elsewhere would be; the first side is the test database (PostgreSQL when
NAVIGATOR_TEST_DATABASE_URL names one).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from navigator import create_app
from navigator.core.migrations import upgrade
from navigator.directory.oruk_terms import hsds_id
from tests.builders import load_directory
from tests.cli.conftest import run
from tests.conftest import PROJECT_ROOT
from tests.directory.oruk_samples import (
    SOURCE_TERMS,
    awkward_organisations,
    awkward_services,
    nulls,
)

BLMK = PROJECT_ROOT / "directory_of_services" / "blmk"


@pytest.fixture
def fresh_app(tmp_path: Path) -> Iterator[Flask]:
    """A second navigator on an empty, newly migrated database."""
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    upgrade(url)
    os.environ.setdefault("NAVIGATOR_INSTANCE_DIR", str(tmp_path / "instance"))
    other = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "test-only-secret",
            "LOG_LEVEL": "WARNING",
        }
    )
    yield other
    with other.app_context():
        other.extensions["sqlalchemy"].engines[None].dispose()


@pytest.fixture
def source_app(app: Flask) -> Flask:
    """The test app with the BLMK directory and the awkward services loaded."""
    run(app, "directory", "load", str(BLMK))
    with app.app_context():
        report = load_directory(organisations=awkward_organisations(), services=awkward_services())
    assert report.services["created"] == len(awkward_services()), report.lines()
    return app


@pytest.mark.parametrize("public", [False, True], ids=["full", "public"])
def test_export_load_export_is_byte_identical(
    source_app: Flask, fresh_app: Flask, tmp_path: Path, public: bool
) -> None:
    flags = ["--public"] if public else []
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    run(source_app, "directory", "export", "--format", "oruk", *flags, "--out", str(first))
    # navigator's own export: its classification is taken as given
    loaded = run(fresh_app, "directory", "load", str(first), "--trust-classification")
    services = json.loads(first.read_text())
    assert f"services: created {len(services)}, updated 0, unchanged 0, rejected 0" in loaded
    run(fresh_app, "directory", "export", "--format", "oruk", *flags, "--out", str(second))
    assert second.read_bytes() == first.read_bytes()
    # Loading the same file again changes nothing, and still exports the same bytes.
    again = run(fresh_app, "directory", "load", str(first), "--trust-classification")
    assert f"services: created 0, updated 0, unchanged {len(services)}, rejected 0" in again
    run(fresh_app, "directory", "export", "--format", "oruk", *flags, "--out", str(second))
    assert second.read_bytes() == first.read_bytes()


def test_the_round_tripped_file_carries_what_it_must(source_app: Flask, tmp_path: Path) -> None:
    """What the byte-identical round trip above is made of: the fractional ages written as
    decimals, the unclassified type and the ESD terms as attributes, UUID ids, and no null."""
    out = tmp_path / "export.json"
    run(source_app, "directory", "export", "--format", "oruk", "--out", str(out))
    exported = json.loads(out.read_text())
    assert list(nulls(exported)) == []  # (the navigator-details JSON is a string)
    by_id = {s["id"]: s for s in exported}
    toddlers = by_id[hsds_id("service", "awkward-toddlers")]
    assert (toddlers["minimum_age"], toddlers["maximum_age"]) == (1.5, 2.5)
    unclassified = by_id[hsds_id("service", "awkward-unclassified")]
    terms = [a["taxonomy_term"] for a in unclassified["attributes"]]
    assert {t.get("code") for t in terms} >= {"unclassified", *(t["code"] for t in SOURCE_TERMS)}
    esd = next(t for t in terms if t.get("code") == "http://id.esd.org.uk/service/242")
    assert (esd["taxonomy"], esd["name"], esd["term_uri"]) == (
        "esdServiceTypes",
        "Care at home",
        "http://id.esd.org.uk/service/242",
    )
