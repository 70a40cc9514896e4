"""The directory index follows edits across nodes without stalling (issue 18 §2).

Node A is the test app; node B is a second app on the same database with its own engine and
so its own index (as a second gunicorn node has), and it learns of A's edits only through the
database's change log (`directory_changes`, `directory_state.seq`). Protected here: an edit of
status, hours or eligibility on A is used by B's search and routing on B's next request,
applied incrementally; readers on B never see a set change under them or half a change; a
large change is built in the background while the old index answers; a seq committed out of
order is not skipped (PostgreSQL); a worker behind the pruned log horizon rebuilds whole.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from navigator import create_app
from navigator.core.db import transaction
from navigator.core.extensions import db
from navigator.core.reference import VOCABULARY
from navigator.directory import store
from navigator.directory.editing import edit_service
from navigator.directory.index import DirectoryIndex
from navigator.directory.reference import directory_index
from tests.builders import load_directory, service
from tests.conftest import _empty_all_tables

Auth = dict[str, dict[str, str]]
TABLES = [
    "by_type",
    "by_need",
    "by_sector",
    "by_place",
    "by_district",
    "by_cell",
    "by_cell_need",
    "by_cell_type",
]
MONDAY_NOON = "2026-11-23T12:00:00Z"
MONDAY_EVENING = "2026-11-23T19:00:00Z"


@pytest.fixture(scope="module")
def node_b(database_url: str) -> Iterator[Flask]:
    """A second node: its own app and engine, hence its own index cache."""
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test-only-secret",
            "PUBLIC_BASE_URL": "http://localhost",
        }
    )
    yield app
    with app.app_context():
        db.engine.dispose()


def index_on(node: Flask) -> DirectoryIndex:
    with node.app_context():
        try:
            return directory_index()
        finally:
            db.session.remove()


def edit_on_a(session: Session, service_id: str, **updates: Any) -> None:
    with transaction(session):
        edit_service(session, service_id, updates, vocab=VOCABULARY.get(), changed_by="tests")


def search(client: FlaskClient, auth: Auth, query: str) -> list[str]:
    response = client.get(f"/api/v1/services?{query}", headers=auth["integrator"])
    assert response.status_code == 200, response.json
    return [item["id"] for item in response.json["items"]]


def assert_consistent(index: DirectoryIndex) -> None:
    """Every entry is filed exactly where `_filings` says, and nothing else is filed."""
    filed: dict[tuple[str, object], set[int]] = defaultdict(set)
    for pos, entry in enumerate(index.entries):
        assert entry.pos == pos and index.by_id[entry.id] is entry
        assert entry.active == (entry.record["status"] == "active")
        for table, key in index._filings(entry):
            filed[(table, key)].add(pos)
    assert len(index.by_id) == len(index.entries)
    for table in TABLES:
        for key, positions in list(getattr(index, table).items()):
            assert set(positions) == filed.get((table, key), set()), (table, key)


@pytest.fixture
def directory(app_ctx: Flask) -> None:
    load_directory(
        services=[
            service(id="ucr-a", needs=["fall_no_injury"]),
            service(id="ucr-b", needs=["fall_no_injury"]),
            service(
                id="gp-a",
                service_type="gp_practice",
                needs=["unwell_needs_gp"],
                opening={"weekly": {"monday": [["08:00", "18:30"]]}},
            ),
            service(
                id="radius-a",
                places=[],
                coverage={"places": [], "postcode_districts": [], "radius_km": 5.0},
            ),
        ]
    )


@pytest.mark.usefixtures("directory")
def test_status_hours_and_eligibility_edits_on_a_reach_search_and_routing_on_b(
    session: Session, node_b: Flask, auth: Auth
) -> None:
    client_b = node_b.test_client()
    before = index_on(node_b)
    assert "ucr-a" in search(client_b, auth, "need=fall_no_injury")
    assert "ucr-a" in route_fall(client_b, auth) or "ucr-b" in route_fall(client_b, auth)

    edit_on_a(session, "ucr-a", status="temporarily_closed")
    assert "ucr-a" not in search(client_b, auth, "need=fall_no_injury")
    after = index_on(node_b)
    assert after.seq == before.seq + 1
    # Applied incrementally: untouched entries are the very same objects.
    assert after.by_id["ucr-b"] is before.by_id["ucr-b"]
    assert after.by_id["ucr-a"] is not before.by_id["ucr-a"]
    assert before.by_id["ucr-a"].active  # the old index was left as it was

    assert search(client_b, auth, f"service_type=gp_practice&open_at={MONDAY_NOON}") == ["gp-a"]
    assert search(client_b, auth, f"service_type=gp_practice&open_at={MONDAY_EVENING}") == []
    edit_on_a(session, "gp-a", **{"opening.weekly": {"monday": [["08:00", "22:00"]]}})
    assert search(client_b, auth, f"service_type=gp_practice&open_at={MONDAY_EVENING}") == ["gp-a"]

    assert "ucr-b" in search(client_b, auth, "need=fall_no_injury&age=80")
    edit_on_a(session, "ucr-b", **{"eligibility.max_age_days": 6574})  # under-18s only
    assert "ucr-b" not in search(client_b, auth, "need=fall_no_injury&age=80")
    assert "ucr-b" in search(client_b, auth, "need=fall_no_injury&age=10")

    # Routing on B: a fall at 80 in Bedford; the closed and the under-18s' services are gone.
    routed = route_fall(client_b, auth)
    assert "radius-a" in routed and not {"ucr-a", "ucr-b"} & set(routed)
    assert_consistent(index_on(node_b))


def route_fall(client: FlaskClient, auth: Auth) -> list[str]:
    """Ids routing offers for a relative's call about a fall without injury, aged 80."""
    response = client.post(
        "/api/v1/navigations",
        json={
            "caller_role": "relative",
            "need": "fall_no_injury",
            "age": 80,
            "postcode": "MK42 9DJ",
            "at": MONDAY_NOON,
        },
        headers=auth["integrator"],
    )
    assert response.status_code == 201, response.json
    body = response.json
    offered = [body["recommendation"]["service"]] if body.get("recommendation") else []
    offered += [a["service"] for a in body.get("alternatives", [])]
    return [item["id"] for item in offered if item]


@pytest.mark.usefixtures("directory")
def test_readers_during_applies_never_error_nor_see_half_a_change(
    session: Session, node_b: Flask, auth: Auth
) -> None:
    """Readers on B (each refreshing, so one applies while the others read) check every
    index they get is whole: each service filed exactly under its own type, needs and
    coverage, and its name's edit number matching its type, while A retypes services."""
    stop = threading.Event()
    errors: list[BaseException] = []
    seen: set[int] = set()

    def read() -> None:
        client = node_b.test_client()
        while not stop.is_set():
            try:
                index = index_on(node_b)
                seen.add(index.seq)
                assert_consistent(index)
                for entry in index.entries:
                    if entry.record["name"].startswith("Edit "):
                        number = int(entry.record["name"].split()[1])
                        wanted = "gp_practice" if number % 2 else "urgent_community_response"
                        assert entry.service_type == wanted, entry.record["name"]
                search(client, auth, "need=fall_no_injury&per_page=100")
            except BaseException as exc:  # reported by the main thread
                errors.append(exc)
                return

    readers = [threading.Thread(target=read) for _ in range(3)]
    for reader in readers:
        reader.start()
    try:
        for number in range(1, 13):
            for service_id in ("ucr-a", "ucr-b"):
                edit_on_a(
                    session,
                    service_id,
                    name=f"Edit {number} {service_id}",
                    service_type="gp_practice" if number % 2 else "urgent_community_response",
                )
    finally:
        stop.set()
        for reader in readers:
            reader.join(timeout=60)
    assert errors == []
    final = index_on(node_b)
    assert final.by_id["ucr-a"].record["name"] == "Edit 12 ucr-a"
    assert len(seen) > 2  # the readers did see the index move while they read


@pytest.mark.usefixtures("directory")
def test_a_large_change_builds_in_the_background_while_the_old_index_answers(
    session: Session, node_b: Flask, auth: Auth, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over the inline limit, with a directory whose last build is deemed slow (setting 0
    ms), B's request returns at once with the index it had; the new one is swapped in."""
    monkeypatch.setitem(node_b.config, "DIRECTORY_INDEX_INLINE_APPLY_MAX", 1)
    monkeypatch.setitem(node_b.config, "DIRECTORY_INDEX_INLINE_BUILD_MS", 0)
    old = index_on(node_b)
    load_directory(
        services=[service(id=f"new-{n}", needs=["loneliness"]) for n in range(3)]
        + [service(id="ucr-a", needs=["fall_no_injury"], status="temporarily_closed")]
    )
    answered = index_on(node_b)
    assert answered is old  # no waiting: the current index answers meanwhile
    # It answers as before the load (H42), whole: the new services are not in it yet.
    assert answered.by_id["ucr-a"].active and "new-0" not in answered.by_id
    assert_consistent(answered)
    client_b = node_b.test_client()
    deadline = time.monotonic() + 60
    while (current := index_on(node_b)) is old and time.monotonic() < deadline:
        time.sleep(0.05)
    assert current is not old and current.seq == old.seq + 1
    assert {"new-0", "new-1", "new-2"} <= set(current.by_id)
    assert "ucr-a" not in search(client_b, auth, "need=fall_no_injury")
    assert_consistent(current)


@pytest.mark.usefixtures("directory")
def test_a_worker_behind_the_pruned_horizon_rebuilds_whole(
    session: Session, node_b: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "CHANGE_LOG_KEEP", 2)
    before = index_on(node_b)
    for number in range(4):
        edit_on_a(session, "ucr-a", name=f"Renamed {number}")
    after = index_on(node_b)
    assert after.seq == before.seq + 4
    assert after.by_id["ucr-a"].record["name"] == "Renamed 3"
    assert after.by_id["ucr-b"] is not before.by_id["ucr-b"]  # a full build, not a patch
    assert_consistent(after)
    # One more change is within the horizon again: applied incrementally.
    edit_on_a(session, "ucr-a", name="Renamed 4")
    assert index_on(node_b).by_id["ucr-b"] is after.by_id["ucr-b"]


@pytest.mark.usefixtures("directory")
def test_a_seq_committed_out_of_order_is_not_skipped(
    session: Session, node_b: Flask, is_postgres: bool
) -> None:
    """Editor 1 takes a seq and has not committed; editor 2 must wait for it (the seq is
    allocated under the directory_state row lock), so B never moves past editor 1's change
    before it commits. With an autoincrement id, editor 2 would commit seq N+2 first, B would
    move to it and never apply N+1."""
    if not is_postgres:
        pytest.skip("concurrent writers: PostgreSQL (SQLite serialises writers anyway)")
    before = index_on(node_b)
    engine = session.get_bind()
    vocab = VOCABULARY.get()
    first = Session(engine)
    edit_service(first, "ucr-a", {"name": "First"}, vocab=vocab, changed_by="tests")
    second_done = threading.Event()

    def second_editor() -> None:
        with Session(engine) as other, transaction(other):
            edit_service(other, "ucr-b", {"name": "Second"}, vocab=vocab, changed_by="tests")
        second_done.set()

    thread = threading.Thread(target=second_editor)
    thread.start()
    try:
        assert not second_done.wait(timeout=1.0)  # blocked on the state row, not committed
        assert index_on(node_b).seq == before.seq
        first.commit()
    finally:
        first.close()
        thread.join(timeout=60)
    assert second_done.is_set()
    after = index_on(node_b)
    assert after.seq == before.seq + 2
    assert after.by_id["ucr-a"].record["name"] == "First"
    assert after.by_id["ucr-b"].record["name"] == "Second"


def test_a_database_emptied_under_the_index_is_rebuilt_not_patched(
    app_ctx: Flask, node_b: Flask, database_url: str
) -> None:
    """Seqs restart after the tables are emptied: the change at B's seq names another
    revision, so B rebuilds instead of patching an index of data that is gone."""
    load_directory(services=[service(id="old-one")])
    load_directory(services=[service(id="old-two")])
    assert "old-one" in index_on(node_b).by_id
    _empty_all_tables(database_url)
    load_directory(services=[service(id="new-one")])
    load_directory(services=[service(id="new-two")])
    load_directory(services=[service(id="new-three")])
    assert set(index_on(node_b).by_id) == {"new-one", "new-two", "new-three"}
