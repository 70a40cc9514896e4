"""`navigator directory load|export|synth`: counts, rejections and round trips."""

from __future__ import annotations

import json
from pathlib import Path

from flask import Flask

from tests.builders import directory_document, service
from tests.cli.conftest import run
from tests.conftest import PROJECT_ROOT


def test_directory_load_prints_counts_and_rejections(app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "dir.json"
    path.write_text(
        json.dumps(
            directory_document(services=[service(id="ok"), service(id="bad", status="gone")])
        )
    )
    output = run(app, "directory", "load", str(path))
    assert "services: created 1, updated 0, unchanged 0, rejected 1" in output
    assert "rejected service bad (dir.json): status:" in output
    assert "services: created 0, updated 0, unchanged 1, rejected 1" in run(
        app, "directory", "load", str(path)
    )


def test_export_oruk_writes_a_file_that_loads_back(app: Flask, tmp_path: Path) -> None:
    run(app, "directory", "load", str(PROJECT_ROOT / "directory_of_services" / "blmk"))
    out = tmp_path / "oruk.json"
    run(app, "directory", "export", "--format", "oruk", "--out", str(out))
    exported = json.loads(out.read_text())
    assert len(exported) >= 80 and exported[0]["organization"]["id"]
    reloaded = run(app, "directory", "load", str(out), "--trust-classification")
    assert f"services: created 0, updated 0, unchanged {len(exported)}, rejected 0" in reloaded
    public = tmp_path / "public.json"
    run(app, "directory", "export", "--format", "oruk", "--public", "--out", str(public))
    assert '"professional_phone": "01632' not in public.read_text()


def test_synth_writes_a_loadable_directory(app: Flask, tmp_path: Path) -> None:
    out = tmp_path / "synth.json"
    assert "wrote 300 services" in run(
        app, "directory", "synth", "--services", "300", "--out", str(out)
    )
    assert "services: created 300, updated 0, unchanged 0, rejected 0" in run(
        app, "directory", "load", str(out)
    )
