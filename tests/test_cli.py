"""The `navigator` command: exact names operators and acceptance checks rely on."""

from __future__ import annotations

import json
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from navigator.auth.keys import authenticate
from navigator.auth.models import ApiClient, User
from navigator.auth.passwords import password_matches
from navigator.core.extensions import db
from tests.builders import directory_document, load_directory, organisation, service
from tests.conftest import PROJECT_ROOT


def run(app: Flask, *args: str, input: str | None = None) -> str:
    result = app.test_cli_runner().invoke(args=list(args), input=input)
    assert result.exit_code == 0, result.output
    return result.output


def test_api_client_create_prints_the_key_alone_on_the_last_line_and_stores_a_hash(
    app: Flask,
) -> None:
    output = run(app, "api-client", "create", "NHS 111 test", "--role", "integrator")
    key = output.strip().splitlines()[-1]
    assert key.startswith("nav_") and " " not in key
    with app.app_context():
        client = db.session.scalar(select(ApiClient))
        assert client is not None and key not in client.key_hash and len(client.key_hash) == 64
        caller = authenticate(db.session(), key)
        assert caller is not None and caller.role == "integrator"


def test_provider_client_needs_an_organisation(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["api-client", "create", "x", "--role", "provider"])
    assert result.exit_code != 0 and "--organisation" in result.output


def test_api_client_organisation_must_be_in_the_directory(app: Flask) -> None:
    """Issue 12, §7: an ODS code no organisation in the directory has is refused (a typo would
    make a provider key for nobody, or for another organisation); a known one, in any case, is
    accepted and stored upper-case."""
    with app.app_context():
        load_directory(organisations=[organisation(id="rc9", ods_code="RC9")], services=[])
        db.session.remove()
    refused = app.test_cli_runner().invoke(
        args=["api-client", "create", "x", "--role", "provider", "--organisation", "ZZ9"]
    )
    assert refused.exit_code != 0
    assert "no organisation in the directory has the ODS code 'ZZ9'" in refused.output
    run(app, "api-client", "create", "y", "--role", "provider", "--organisation", "rc9")
    with app.app_context():
        clients = db.session.scalars(select(ApiClient)).all()
        assert [(c.name, c.organisation_ods) for c in clients] == [("y", "RC9")]


def test_api_client_organisation_is_normalised_to_ascii(app: Flask) -> None:
    """Issue 13, section 5: a full-width ODS code is the same organisation's code, stored in
    ASCII capitals; text that is not an ODS code even after folding is refused."""
    with app.app_context():
        load_directory(organisations=[organisation(id="rc9", ods_code="RC9")], services=[])
        db.session.remove()
    run(app, "api-client", "create", "wide", "--role", "provider", "--organisation", "ｒｃ９")
    refused = app.test_cli_runner().invoke(
        args=["api-client", "create", "x", "--role", "provider", "--organisation", "R C9"]
    )
    assert refused.exit_code != 0 and "is not an ODS code" in refused.output
    with app.app_context():
        clients = db.session.scalars(select(ApiClient)).all()
        assert [(c.name, c.organisation_ods) for c in clients] == [("wide", "RC9")]


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
    assert "unchanged" in run(app, "directory", "load", str(out))
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


def test_user_create_reads_the_password_from_standard_input(app: Flask) -> None:
    run(
        app,
        "user",
        "create",
        "Nav@Example.org",
        "--role",
        "navigator",
        input="a long enough password\n",
    )
    with app.app_context():
        user = db.session.scalar(select(User))
        assert user is not None and user.email == "nav@example.org"
        assert password_matches(user, "a long enough password")
        assert "a long enough password" not in user.password_hash


def test_demo_prints_a_key_per_role_and_a_login_per_role_and_revokes_old_keys(app: Flask) -> None:
    first = run(app, "demo")
    second = run(app, "demo")
    assert first.count("API key (") == 4 and second.count("login (") == 3
    old_key = next(
        line.split(": ")[-1] for line in first.splitlines() if "API key (integrator" in line
    )
    with app.app_context():
        assert authenticate(db.session(), old_key) is None


def test_db_upgrade_is_idempotent(app: Flask) -> None:
    assert "latest migration" in run(app, "db", "upgrade")


def test_text_longer_than_its_column_is_refused_with_a_message(app: Flask) -> None:
    """Issue 12 §5: `api-client create` with a 300-character name crashed with a traceback
    on PostgreSQL (`StringDataRightTruncation`, name is String(200)); a user's email is
    String(254). Too long is a usage error naming the argument, exit code 2, nothing made;
    the longest that fits is accepted."""
    runner = app.test_cli_runner()
    long_name = runner.invoke(args=["api-client", "create", "n" * 201, "--role", "integrator"])
    assert long_name.exit_code == 2, long_name.output
    assert "NAME" in long_name.output and "at most 200 characters" in long_name.output
    assert long_name.exception is None or isinstance(long_name.exception, SystemExit)
    long_email = "e" * 246 + "@nhs.net"  # 254 characters: fits
    refused = runner.invoke(
        args=["user", "create", "x" + long_email, "--role", "navigator"], input="a long password\n"
    )
    assert refused.exit_code == 2 and "at most 254 characters" in refused.output
    with app.app_context():
        assert db.session.scalars(select(ApiClient)).all() == []
        assert db.session.scalars(select(User)).all() == []
    run(app, "api-client", "create", "n" * 200, "--role", "integrator")
    run(app, "user", "create", long_email, "--role", "navigator", input="a long password\n")
