"""SECRET_KEY on more than one node (issue 18 §1): required and shared on a database server,
generated per instance only for the embedded SQLite database."""

from __future__ import annotations

from pathlib import Path

import pytest

from navigator import create_app
from navigator.core.settings import SettingsError

POSTGRES = "postgresql+psycopg://navigator@127.0.0.1:1/navigator"  # never connected to here


@pytest.fixture(autouse=True)
def _no_key_in_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("NAVIGATOR_INSTANCE_DIR", str(tmp_path))


def test_a_database_server_without_secret_key_refuses_to_start_saying_why() -> None:
    with pytest.raises(SettingsError) as refused:
        create_app({"SQLALCHEMY_DATABASE_URI": POSTGRES})
    assert "SECRET_KEY is not set" in str(refused.value)
    assert "same" in str(refused.value) and "every node" in str(refused.value)


def test_database_url_in_the_environment_is_held_to_the_same_rule(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://navigator@127.0.0.1:1/navigator")
    with pytest.raises(SettingsError):
        create_app()
    monkeypatch.setenv("SECRET_KEY", "a-shared-key-set-on-every-node-" + "x" * 20)
    assert create_app().config["SECRET_KEY"] == "a-shared-key-set-on-every-node-" + "x" * 20


def test_embedded_sqlite_generates_one_key_per_instance_and_keeps_it(tmp_path: Path) -> None:
    first = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/one.db"})
    again = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/one.db"})
    assert first.config["SECRET_KEY"] == again.config["SECRET_KEY"]
    assert len(first.config["SECRET_KEY"]) >= 48
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0  # readable by the owner only


def test_a_key_given_in_config_wins(tmp_path: Path) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": POSTGRES, "SECRET_KEY": "given"})
    assert app.config["SECRET_KEY"] == "given"
    assert not (tmp_path / "secret_key").exists()
