"""The migrations build exactly the schema the models describe, with one readable head, named
in `.current-alembic-head`, in one numbered chain; each migration is self-contained (no
`navigator` imports, however spelled). The tables named by string outside the models match
them."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import String, Table, create_engine, make_url, text

from navigator.core.migrations import alembic_config, include_object
from navigator.models import Base
from navigator.navigation.models import Navigation
from navigator.referrals.models import Referral
from navigator.referrals.service import NAVIGATIONS
from tests.conftest import PROJECT_ROOT


def test_migrated_database_matches_the_models(database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": include_object}
        )
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()


def test_the_navigations_columns_referrals_read_by_name_exist() -> None:
    """Referrals sit below navigation in the layers, so `referrals/service.py` reads the
    navigations table by name (`NAVIGATIONS`, untyped columns) instead of importing its model.
    A rename or change of type in `Navigation` must fail here, not in production: the id is
    compared with a referral's `navigation_id` (its foreign key), `created_by` with a caller's
    label (as `Referral.created_by` stores it)."""
    table, referrals = Navigation.__table__, Referral.__table__
    assert isinstance(table, Table) and isinstance(referrals, Table)
    assert NAVIGATIONS.name == table.name
    # A column added to NAVIGATIONS needs its own check here.
    assert {column.name for column in NAVIGATIONS.c} == {"id", "created_by"}
    assert table.c.id.primary_key and referrals.c.navigation_id.references(table.c.id)
    assert isinstance(table.c.id.type, String)
    assert table.c.id.type.python_type is referrals.c.navigation_id.type.python_type
    for column in (table.c.created_by, referrals.c.created_by):
        assert isinstance(column.type, String)
    assert table.c.created_by.type.length == referrals.c.created_by.type.length


VERSIONS = PROJECT_ROOT / "migrations" / "versions"
HEAD_FILE = PROJECT_ROOT / ".current-alembic-head"


def test_one_head_and_sequential_readable_names(database_url: str) -> None:
    scripts = ScriptDirectory.from_config(alembic_config(database_url))
    assert len(scripts.get_heads()) == 1
    names = sorted(p.name for p in VERSIONS.glob("*.py"))
    for number, name in enumerate(names, start=1):
        assert re.fullmatch(rf"{number:04d}_[a-z0-9_]+\.py", name), name


def test_the_head_file_names_the_single_head(database_url: str) -> None:
    """`.current-alembic-head` holds the head migration's file name (revision id and slug).
    Two branches that each add a migration both rewrite its one line, differently even when
    both picked the same next number, so merging them is a git conflict rather than two heads
    (GOV.UK Notify's `migrations/.current-alembic-head`)."""
    scripts = ScriptDirectory.from_config(alembic_config(database_url))
    (head,) = scripts.get_heads()
    script = scripts.get_revision(head)
    assert script is not None
    name = Path(script.path).stem
    assert name.startswith(f"{head}_")
    assert HEAD_FILE.read_text() == f"{name}\n", (
        f"write the new head migration's name into .current-alembic-head: {name}"
    )


def _imported_modules(path: Path) -> set[str]:
    """Every module a Python file imports, at any depth (functions included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_no_migration_imports_navigator() -> None:
    """A migration must keep doing what it did when it was written, whatever the app's code
    becomes: it restates the rules it needs (as 0005, 0009 and 0010 do) instead of importing
    them. `migrations/env.py` may import the models' metadata; the versions may not."""
    offenders = {
        path.name: sorted(m for m in _imported_modules(path) if m.split(".")[0] == "navigator")
        for path in sorted(VERSIONS.glob("*.py"))
    }
    assert {name: found for name, found in offenders.items() if found} == {}


# Run in a fresh interpreter where `navigator` cannot be imported (`sys.modules` holds None for
# it, so `import navigator…`, `importlib.import_module("navigator…")` and `__import__` all raise
# ImportError): import each migration by path, then run every upgrade and every downgrade in
# order on the database at argv[2]. Prints {"modules": {file: [revision, down_revision] or
# "error"}, "run": null or "error"} as JSON.
WITHOUT_NAVIGATOR = """
import importlib.util, json, sys
from pathlib import Path

sys.modules["navigator"] = None
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import create_engine

found, loaded, run = {}, [], None
for path in sorted(Path(sys.argv[1]).glob("*.py")):
    spec = importlib.util.spec_from_file_location(f"migration_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except ImportError as exc:
        found[path.name] = f"{type(exc).__name__}: {exc}"
        continue
    found[path.name] = [module.revision, module.down_revision]
    loaded.append(module)
engine = create_engine(sys.argv[2])
try:
    with engine.begin() as connection, Operations.context(MigrationContext.configure(connection)):
        for module in loaded:
            module.upgrade()
        for module in reversed(loaded):
            module.downgrade()
except ImportError as exc:
    run = f"{type(exc).__name__}: {exc}"
engine.dispose()
print(json.dumps({"modules": found, "run": run}))
"""


def without_navigator(versions: Path, url: str) -> dict[str, Any]:
    """The WITHOUT_NAVIGATOR report for the migrations in `versions`, run on `url`."""
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", WITHOUT_NAVIGATOR, str(versions), url],
        capture_output=True,
        text=True,
        check=True,
        cwd=PROJECT_ROOT,
    )
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def test_every_migration_imports_and_runs_without_navigator(scratch_url: str) -> None:
    """The statement check above cannot see `importlib.import_module("navigator…")`: this
    imports each file, and runs every upgrade and downgrade, where navigator cannot be
    imported. Each file's `revision` is its number and `down_revision` the one before, so the
    chain is the files' order (0001 starts it)."""
    report = without_navigator(VERSIONS, scratch_url)
    assert report["run"] is None
    names = sorted(p.name for p in VERSIONS.glob("*.py"))
    expected = {
        name: [name[:4], names[number - 1][:4] if number else None]
        for number, name in enumerate(names)
    }
    assert report["modules"] == expected


def test_a_migration_reaching_navigator_by_any_spelling_is_caught(tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    versions.mkdir()
    head = 'from alembic import op\nrevision = "{0}"\ndown_revision = {1}\n'
    (versions / "0001_at_import.py").write_text(
        head.format("0001", None)
        + 'import importlib\nclock = importlib.import_module("navigator.core.clock")\n'
    )
    (versions / "0002_when_run.py").write_text(
        head.format("0002", '"0001"')
        + "def upgrade():\n    __import__('navigator.models')\n"
        + "def downgrade():\n    pass\n"
    )
    report = without_navigator(versions, f"sqlite:///{tmp_path / 'probe.db'}")
    refused = report["modules"].pop("0001_at_import.py")
    assert refused.startswith("ModuleNotFoundError") and "navigator" in refused
    assert report["modules"] == {"0002_when_run.py": ["0002", "0001"]}
    assert report["run"].startswith("ModuleNotFoundError") and "navigator" in report["run"]


def test_0005_backfills_months_and_delayed_days_for_existing_rows(tmp_path: Path) -> None:
    """Rows written before 0005 get their London month and DTOC days (on a scratch SQLite)."""
    from sqlalchemy import text

    from navigator.core.migrations import upgrade

    url = f"sqlite:///{tmp_path / 'backfill.db'}"
    upgrade(url, "0004")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO patients (id, name, sex, place, created_at, updated_at) VALUES ('p', 'P', 'unknown', 'luton', '2026-01-01', '2026-01-01')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO transition_events (id, client_id, event_id, request_hash, type, occurred_at, patient_id, place, "
                "readmission_30d, readmission_excluded, created_at, created_by) VALUES "
                "('t', '1', 'e', 'h', 'ae_attendance', '2026-03-31 23:30:00', 'p', 'luton', 0, 0, '2026-04-01', 'x')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO dtoc_episodes (id, patient_id, provider_ods, care_type, place, ready_at, transferred_at, created_at, created_by) "
                "VALUES ('d', 'p', 'RC9', 'acute', 'luton', '2026-01-30 10:00:00', '2026-02-03 11:00:00', '2026-01-30', 'x')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO dtoc_intervals (episode_id, effective_at, reason, responsible, recorded_at, recorded_by) VALUES ('d', NULL, 'E', 'nhs', '2026-01-30', 'x')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO dtoc_intervals (episode_id, effective_at, reason, responsible, recorded_at, recorded_by) VALUES ('d', '2026-02-01 09:00:00', 'Di', 'nhs', '2026-02-01', 'x')"
            )
        )
    upgrade(url, "0008")
    with engine.connect() as conn:
        days = conn.execute(text("SELECT day, local_month, reason FROM dtoc_days ORDER BY day"))
        as_written = [(str(d), m, r) for d, m, r in days]
    # Until 0009 the days are those 0005 stored, by the rule of its time (the date a delayed
    # midnight *begins*): 31 Jan, 1, 2 and 3 Feb, whatever the app's rule has become since.
    assert as_written == [
        ("2026-01-31", "2026-01", "E"),
        ("2026-02-01", "2026-02", "E"),
        ("2026-02-02", "2026-02", "Di"),
        ("2026-02-03", "2026-02", "Di"),
    ]
    upgrade(url)
    with engine.connect() as conn:
        # 23:30 UTC on 31 March is 00:30 BST on 1 April: an April event
        assert conn.execute(text("SELECT local_month FROM transition_events")).scalar() == "2026-04"
        days = conn.execute(text("SELECT local_month, reason FROM dtoc_days ORDER BY day")).all()
    # At head the days follow the SitRep (0009 recomputes them): the ends of 30 Jan, 31 Jan,
    # 1 Feb, 2 Feb (../shared/domain/dtoc-and-cisp.md's worked example).
    assert [tuple(d) for d in days] == [
        ("2026-01", "E"),
        ("2026-01", "E"),
        ("2026-02", "Di"),
        ("2026-02", "Di"),
    ]
    engine.dispose()


@pytest.fixture
def scratch_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the kind the suite runs on: a SQLite file, or a new database on
    the same PostgreSQL server (dropped afterwards)."""
    if not database_url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'scratch.db'}"
        return
    name = f"navigator_scratch_{uuid.uuid4().hex[:12]}"
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(database_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def test_0009_recomputes_stored_dtoc_days_by_the_end_of_day_midnight(scratch_url: str) -> None:
    """Days stored at 0008 under the old convention (the midnight *beginning* D counted for D)
    are recomputed at 0009 by the SitRep's (the midnight *ending* D, Europe/London, counts for D,
    under the reason in force then), and put back by the downgrade. Worked values from
    ../shared/domain/dtoc-and-cisp.md ("Delayed transfer of care") and issue 13, section 7."""
    from alembic import command

    from navigator.core.migrations import upgrade

    url = scratch_url
    upgrade(url, "0008")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO patients (id, name, sex, place, created_at, updated_at) "
                "VALUES ('p', 'P', 'unknown', 'luton', '2026-01-01', '2026-01-01')"
            )
        )
        # (id, ready_at, transferred_at) as naive UTC, as navigator stores them:
        # d1 the worked example; d2 ready 31 Jan 10:00, transferred 1 Feb 10:00; d3 ready at
        # 23:30 BST on 31 March 2024 (the clocks went forward that day), transferred 1 April;
        # d4 not ready yet (no days at all).
        for ident, ready, transferred in (
            ("d1", "2026-01-30 10:00:00", "2026-02-03 11:00:00"),
            ("d2", "2026-01-31 10:00:00", "2026-02-01 10:00:00"),
            ("d3", "2024-03-31 22:30:00", "2024-04-01 10:00:00"),
            ("d4", None, None),
        ):
            conn.execute(
                text(
                    "INSERT INTO dtoc_episodes (id, patient_id, provider_ods, care_type, place, "
                    "ready_at, transferred_at, created_at, created_by) VALUES "
                    "(:i, 'p', 'RC9', 'acute', 'luton', :r, :t, '2026-01-30', 'x')"
                ),
                {"i": ident, "r": ready, "t": transferred},
            )
            conn.execute(
                text(
                    "INSERT INTO dtoc_intervals (episode_id, effective_at, reason, responsible, "
                    "recorded_at, recorded_by) VALUES (:i, NULL, 'E', 'social_care', "
                    "'2026-01-30', 'x')"
                ),
                {"i": ident},
            )
        conn.execute(
            text(
                "INSERT INTO dtoc_intervals (episode_id, effective_at, reason, responsible, "
                "recorded_at, recorded_by) VALUES ('d1', '2026-02-01 09:00:00', 'Di', 'nhs', "
                "'2026-02-01', 'x')"
            )
        )
        # The rows 0008's code stored: one per midnight *beginning* a date.
        for ident, day, reason, responsible in (
            ("d1", "2026-01-31", "E", "social_care"),
            ("d1", "2026-02-01", "E", "social_care"),
            ("d1", "2026-02-02", "Di", "nhs"),
            ("d1", "2026-02-03", "Di", "nhs"),
            ("d2", "2026-02-01", "E", "social_care"),
            ("d3", "2024-04-01", "E", "social_care"),
        ):
            conn.execute(
                text(
                    "INSERT INTO dtoc_days (episode_id, day, local_month, place, care_type, "
                    "reason, responsible) VALUES (:i, :d, :m, 'luton', 'acute', :r, :s)"
                ),
                {"i": ident, "d": day, "m": day[:7], "r": reason, "s": responsible},
            )

    def stored() -> list[tuple[str, str, str, str, str]]:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT episode_id, day, local_month, reason, responsible FROM dtoc_days "
                    "ORDER BY episode_id, day"
                )
            ).all()
        return [(e, str(d), m, r, s) for e, d, m, r, s in rows]

    before = stored()
    upgrade(url, "0009")
    assert stored() == [
        ("d1", "2026-01-30", "2026-01", "E", "social_care"),
        ("d1", "2026-01-31", "2026-01", "E", "social_care"),
        ("d1", "2026-02-01", "2026-02", "Di", "nhs"),
        ("d1", "2026-02-02", "2026-02", "Di", "nhs"),
        ("d2", "2026-01-31", "2026-01", "E", "social_care"),
        ("d3", "2024-03-31", "2024-03", "E", "social_care"),
    ]
    command.downgrade(alembic_config(url), "0008")
    assert stored() == before
    engine.dispose()


def test_0010_stores_identifiers_in_ascii_and_never_merges_patients(scratch_url: str) -> None:
    """Identifiers stored before 0010 in other scripts, full width or lower case are rewritten
    in their one ASCII spelling; what does not normalise is left as stored. Where normalising
    makes two patients share an NHS number they are not merged (a clinical-safety decision,
    hazard H15): the record that already held the ASCII number keeps it (else the earliest),
    the other's number is cleared, and both audit trails name the other record. Issue 13,
    section 5: `９４３４７６５９１９` and `٩٤٣٤٧٦٥٩١٩` are the NHS number 9434765919."""
    import json

    from navigator.core.migrations import upgrade

    url = scratch_url
    upgrade(url, "0009")
    engine = create_engine(url)
    with engine.begin() as conn:
        # (id, nhs_number, postcode, gp_practice_ods, created_at)
        for row in (
            ("ascii", "9434765919", "MK42 9DJ", "E81001", "2026-01-02"),
            ("wide", "９４３４７６５９１９", "ＭＫ４２ ９ＤＪ", "ｅ８１００１", "2026-01-01"),
            ("arabic", "٩٤٣٤٧٦٥٩١٩", "MK42 9CI", "e81001", "2026-01-03"),
            ("alone", "٤٠١٠٢٣٢١٣٧", None, None, "2026-01-04"),
            ("later", "９８７６５４３２１０", None, None, "2026-01-06"),
            ("earlier", "٩٨٧٦٥٤٣٢١٠", None, None, "2026-01-05"),
            ("typo", "９４３４７６５９１８", None, None, "2026-01-07"),
        ):
            conn.execute(
                text(
                    "INSERT INTO patients (id, nhs_number, name, sex, postcode, gp_practice_ods, "
                    "created_at, updated_at) VALUES (:i, :n, 'P', 'unknown', :p, :o, :c, :c)"
                ),
                dict(zip("inpoc", row, strict=True)),
            )
        conn.execute(
            text(
                "INSERT INTO patient_sources (patient_id, client_ref, fields, created_at, "
                "updated_at) VALUES ('wide', 'api:1', :f, '2026-01-01', '2026-01-01')"
            ),
            {"f": json.dumps({"nhs_number": "９４３４７６５９１９", "name": "P"})},
        )
        conn.execute(
            text(
                "INSERT INTO navigations (id, created_by, called_at, local_month, caller_role, "
                "red_flags, postcode, gp_practice_ods, lives_in_care_home, nhs_number, urgency, "
                "rules_version, rule_id, rule_ids, result, caller_phone, created_at) VALUES "
                "('n', 'x', '2026-01-01', '2026-01', 'public', '[]', 'ＬＵ１', 'ｒｃ９', false, "
                "'٩٤٣٤٧٦٥٩١٩', 'routine', 'v', 'r', '[]', '{}', '٠٧٧٠٠ ٩٠٠١٢٣', '2026-01-01')"
            )
        )
        for ident, code in (("org-a", "ＲＣ９"), ("org-b", "rc9"), ("org-c", "ＲＤ８")):
            conn.execute(
                text(
                    "INSERT INTO organisations (id, name, ods_code, sector) "
                    "VALUES (:i, 'O', :c, 'nhs')"
                ),
                {"i": ident, "c": code},
            )

    upgrade(url, "0010")
    with engine.connect() as conn:
        patients = {
            r.id: (r.nhs_number, r.postcode, r.gp_practice_ods)
            for r in conn.execute(
                text("SELECT id, nhs_number, postcode, gp_practice_ods FROM patients")
            )
        }
        navigation = conn.execute(
            text("SELECT postcode, gp_practice_ods, nhs_number, caller_phone FROM navigations")
        ).one()
        organisations = dict(conn.execute(text("SELECT id, ods_code FROM organisations")).all())
        sent = conn.execute(text("SELECT fields FROM patient_sources")).scalar_one()
        audit = conn.execute(
            text(
                "SELECT patient_id, entity_id, action, route FROM audit_events "
                "ORDER BY patient_id, entity_id"
            )
        ).all()
    assert patients == {
        "ascii": ("9434765919", "MK42 9DJ", "E81001"),
        "wide": (None, "MK42 9DJ", "E81001"),  # earlier, but the ASCII record kept the number
        "arabic": (None, "MK42 9CI", "E81001"),  # an impossible postcode is left as stored
        "alone": ("4010232137", None, None),
        "later": (None, None, None),
        "earlier": ("9876543210", None, None),  # no ASCII holder: the earliest keeps it
        "typo": ("９４３４７６５９１８", None, None),  # fails the check digit: left as stored
    }
    assert tuple(navigation) == ("LU1", "RC9", "9434765919", "07700 900123")
    assert organisations == {"org-a": "RC9", "org-b": "rc9", "org-c": "RD8"}
    assert (json.loads(sent) if isinstance(sent, str) else sent)["nhs_number"] == "9434765919"
    route = "migration 0010_ascii_identifiers"
    assert [tuple(a) for a in audit] == sorted(
        [
            ("arabic", "ascii", "update", route),
            ("ascii", "arabic", "update", route),
            ("ascii", "wide", "update", route),
            ("wide", "ascii", "update", route),
            ("earlier", "later", "update", route),
            ("later", "earlier", "update", route),
        ]
    )
    engine.dispose()


def test_0012_moves_free_text_referral_reasons_into_the_note(scratch_url: str) -> None:
    """Issue 12 §6 documents referral reasons as codes; a free-text reason kept before 0012
    (allowed then on any status but `rejected`) moves word for word into the note."""
    from navigator.core.migrations import upgrade

    upgrade(scratch_url, "0011")
    engine = create_engine(scratch_url)
    with engine.begin() as conn:
        # Only referral_events matters here: skip the chain of parent rows it references.
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET session_replication_role = replica"))
        else:
            conn.execute(text("PRAGMA foreign_keys=OFF"))
        for ident, reason, note in (
            (1, "duplicate", None),
            (2, "sent twice", "rang the ward"),
            (3, "no_capacity", None),
            (4, None, "accepted"),
        ):
            conn.execute(
                text(
                    "INSERT INTO referral_events (id, referral_id, at, actor, to_status, "
                    "reason, note) VALUES (:i, 'r', '2026-11-01', 'x', 'cancelled', :r, :n)"
                ),
                {"i": ident, "r": reason, "n": note},
            )
    engine.dispose()
    upgrade(scratch_url, "0012")
    engine = create_engine(scratch_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, reason, note FROM referral_events ORDER BY id"))
        assert [tuple(r) for r in rows] == [
            (1, None, "Reason given: duplicate"),
            (2, None, "Reason given: sent twice\nrang the ward"),
            (3, "no_capacity", None),
            (4, None, "accepted"),
        ]
    engine.dispose()
