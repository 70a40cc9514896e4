"""`navigator db upgrade` (run by scripts/run on every start): safe to repeat."""

from __future__ import annotations

from flask import Flask

from tests.cli.conftest import run


def test_db_upgrade_is_idempotent(app: Flask) -> None:
    assert "latest migration" in run(app, "db", "upgrade")
