"""`navigator api-client create` and `user create`: the names and messages operators rely on."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from navigator.auth.keys import authenticate
from navigator.auth.models import ApiClient, User
from navigator.auth.passwords import password_matches
from navigator.core.extensions import db
from tests.builders import load_directory, organisation
from tests.cli.conftest import run


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
