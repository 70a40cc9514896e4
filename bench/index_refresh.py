"""Benchmark: the directory index following edits across two nodes (issue 18 §2).

On one PostgreSQL database with a synthetic directory (default 100,000 services):

0. In this process: a full index build, and the cost of applying N changed services
   incrementally (what `DIRECTORY_INDEX_INLINE_APPLY_MAX` is set from).
1. Two real gunicorn nodes (`--preload`, 2 workers each) on free loopback ports. Edits of a
   service's status, opening hours and eligibility are committed by this process (a third
   process on the same database, through `directory.editing.edit_service`, the function the
   console's edit form calls: the form itself edits status but not hours or eligibility), and
   node B's API (`GET /api/v1/services/<id>`, served from its index) is polled until the
   change shows. Target: < 2 s.
2. Meanwhile a client keeps searching on node B (`GET /api/v1/services?need&postcode`): the
   slowest request while edits land, and the slowest inline refresh the workers logged.
   Target: no request waits > 50 ms for a refresh. Then one "everything" change makes both
   of B's workers rebuild in the background: how long until B serves it, and the slowest
   request meanwhile.
3. Memory: PSS (from /proc/<pid>/smaps_rollup) of each node's master and workers, after start
   and after the traffic above. Target: <= 1 GB for a node's two workers at 100,000 services.

    .venv/bin/python bench/index_refresh.py --database-url postgresql+psycopg://... \\
        [--services 100000] [--rounds 10] [--reuse]

The synthetic directory is cached in bench/out/ (git-ignored). `--reuse` skips the reload
when the database already holds it (from an earlier run).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from common import BLMK_POSTCODES, ROOT, fresh_app, load

from navigator import create_app
from navigator.auth.keys import create_api_client
from navigator.core.db import transaction
from navigator.core.extensions import current_session
from navigator.core.reference import GAZETTEER, VOCABULARY
from navigator.directory.editing import edit_service
from navigator.directory.index import apply_changes, build_index
from navigator.directory.models import Service
from navigator.directory.store import (
    bump_revision,
    current_version,
    read_organisations,
    read_services,
)
from navigator.directory.synth import synthesise

APPLIED = re.compile(r"(\d+) changed services applied inline in ([\d.]+) ms")


def synthetic(count: int, app: Any) -> list[tuple[str, Any]]:
    cached = ROOT / "bench" / "out" / f"synth-{count}-2026.json"
    if not cached.exists():
        cached.parent.mkdir(parents=True, exist_ok=True)
        data = synthesise(count, seed=2026, data_dir=app.config["NAVIGATOR_DIRECTORY_DATA"])
        cached.write_text(json.dumps(data), encoding="utf-8")
    return [("synthetic", json.loads(cached.read_text(encoding="utf-8")))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str, key: str, timeout: float = 30) -> tuple[int, Any]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, None


class Node:
    def __init__(self, name: str, database_url: str, secret: str, logs: Path) -> None:
        self.name, self.port = name, free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = logs / f"{name}.log"
        env = os.environ | {
            "DATABASE_URL": database_url,
            "SECRET_KEY": secret,
            "LOG_LEVEL": "INFO",
            "NAVIGATOR_INSTANCE_DIR": tempfile.mkdtemp(prefix=f"navigator-{name}-"),
        }
        gunicorn = Path(sys.executable).with_name("gunicorn")
        command = [str(gunicorn), "--preload", "--bind", f"127.0.0.1:{self.port}"]
        command += ["--workers", "2", "--timeout", "300", "--log-level", "warning", "wsgi:app"]
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self.log.open("w"), stderr=subprocess.STDOUT
        )

    def wait(self, timeout: float = 900) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.name} exited: see {self.log}")
            try:
                urllib.request.urlopen(f"{self.base}/api/v1/health", timeout=2)  # noqa: S310
                return
            except OSError:
                time.sleep(0.5)
        raise SystemExit(f"{self.name} did not start in {timeout} s")

    def pss_mb(self) -> dict[str, float]:
        pids = [self.process.pid]
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        pids += [int(p) for p in children.read_text().split()]
        out = {}
        for n, pid in enumerate(pids):
            text = Path(f"/proc/{pid}/smaps_rollup").read_text()
            kb = int(re.search(r"^Pss:\s+(\d+) kB", text, re.M).group(1))  # type: ignore[union-attr]
            out["master" if n == 0 else f"worker{n}"] = kb / 1024
        return out

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def in_process(app: Any) -> None:
    """A full build, then the cost of applying N changed services: as re-read (an edit of
    status, hours or eligibility files a service under the same sets), and with each one's
    needs and coverage radius changed (it moves in and out of sets, which are copied)."""
    with app.app_context():
        session = current_session()
        index = build_index(session, GAZETTEER.get())
        print(f"full index build in-process: {index.build_seconds:.1f} s ({len(index.entries)})")
        ids = sorted(index.by_id)
        revision, seq = current_version(session)
        for size in (1, 10, 50, 100, 200, 500):
            chosen = ids[:: max(1, len(ids) // size)][:size]
            same, moved = [], []
            for _ in range(3):
                started = time.perf_counter()
                apply_changes(session, index, chosen, seq=seq, revision=revision)
                same.append((time.perf_counter() - started) * 1000)
                records = read_services(session, chosen)
                organisations = read_organisations(
                    session, {r["organisation"] for r in records.values()}
                )
                started = time.perf_counter()
                for record in records.values():
                    record["needs"] = ["loneliness", *record["needs"][1:]]
                    radius = record["coverage"]["radius_km"] or 10.0
                    record["coverage"]["radius_km"] = radius + 5
                index.updated(records, organisations, seq=seq, revision=revision)
                moved.append((time.perf_counter() - started) * 1000)
            print(
                f"  apply {size:4d} changed services: median {statistics.median(same):.1f} ms "
                f"(re-read, same sets); {statistics.median(moved):.1f} ms with needs and "
                "radius changed (index work only, reads excluded)"
            )
        session.rollback()


def edits(record: dict[str, Any], salt: int) -> list[tuple[str, dict[str, Any], Any]]:
    """(kind, updates, a function of node B's detail JSON that is true once it shows): each
    a real change from `record` (a value this run has not used: `salt` differs per run)."""
    closes = f"{18 + salt % 5:02d}:{salt // 5 % 60:02d}"
    max_days = 30000 + salt % 10000  # the schema allows up to 47,847 days (131 years)
    status = "active" if record["status"] != "active" else "temporarily_closed"
    return [
        ("status", {"status": status}, lambda body: body["status"] == status),
        (
            "hours",
            {"opening.weekly": {"monday": [["08:00", closes]]}},
            lambda body: closes in json.dumps(body),
        ),
        (
            "eligibility",
            {"eligibility.max_age_days": max_days},
            lambda body: str(max_days) in json.dumps(body),
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True, help="a throwaway PostgreSQL")
    parser.add_argument("--services", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=10, help="edits of each kind")
    parser.add_argument("--reuse", action="store_true", help="keep the loaded directory")
    parser.add_argument("--skip-in-process", action="store_true")
    args = parser.parse_args()
    # Every node, and this process, must sign alike (issue 18 §1: required off SQLite).
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(32))

    if args.reuse:
        os.environ.setdefault("NAVIGATOR_INSTANCE_DIR", tempfile.mkdtemp(prefix="navigator-"))
        app = create_app({"SQLALCHEMY_DATABASE_URI": args.database_url, "LOG_LEVEL": "WARNING"})
        database_url = args.database_url
    else:
        app, database_url = fresh_app(args.database_url)
        print(
            f"loaded {args.services} services in {load(app, synthetic(args.services, app)):.0f} s"
        )
    with app.app_context(), transaction(current_session()):
        _, key = create_api_client(current_session(), name=f"bench-{time.time()}", role="admin")
    if not args.skip_in_process:
        in_process(app)

    logs = Path(tempfile.mkdtemp(prefix="navigator-index-refresh-"))
    secret = os.environ["SECRET_KEY"]
    started = time.perf_counter()
    nodes = [Node(name, database_url, secret, logs) for name in ("node-a", "node-b")]
    try:
        for node in nodes:
            node.wait()
        print(f"two nodes up (--preload, 2 workers each) in {time.perf_counter() - started:.0f} s")
        node_b = nodes[1]
        for node in nodes:
            print(f"PSS after start, {node.name}: {fmt(node.pss_mb())}")

        # Warm both of B's workers (each answers some of these).
        for _ in range(8):
            get(f"{node_b.base}/api/v1/health", key)

        latencies: list[float] = []  # ms per request on B while edits land
        stop = threading.Event()
        errors: list[str] = []

        def searcher() -> None:
            n = 0
            while not stop.is_set():
                postcode = BLMK_POSTCODES[n % len(BLMK_POSTCODES)].replace(" ", "+")
                n += 1
                t0 = time.perf_counter()
                status, _ = get(
                    f"{node_b.base}/api/v1/services?need=fall_no_injury&postcode={postcode}", key
                )
                latencies.append((time.perf_counter() - t0) * 1000)
                if status != 200:
                    errors.append(str(status))

        with app.app_context():
            session = current_session()
            service_ids = list(
                session.scalars(
                    Service.__table__.select()
                    .with_only_columns(Service.id)
                    .order_by(Service.id)
                    .limit(args.rounds)
                )
            )
            session.rollback()
        threads = [threading.Thread(target=searcher, daemon=True) for _ in range(2)]
        for thread in threads:
            thread.start()
        seen: dict[str, list[float]] = {"status": [], "hours": [], "eligibility": []}
        for number in range(args.rounds):
            service_id = service_ids[number]
            with app.app_context():
                record = read_services(current_session(), [service_id])[service_id]
                current_session().close()
            salt = int(time.time() * 10) % 100_000
            for kind, updates, shows in edits(record, salt):
                with app.app_context():
                    session = current_session()
                    with transaction(session):
                        edit_service(
                            session, service_id, updates, vocab=VOCABULARY.get(), changed_by="bench"
                        )
                    committed = time.perf_counter()
                    session.close()
                while True:
                    status, body = get(f"{node_b.base}/api/v1/services/{service_id}", key)
                    if status == 200 and shows(body):
                        break
                    if time.perf_counter() - committed > 120:
                        raise SystemExit(f"{kind} edit of {service_id} not seen on B in 120 s")
                    time.sleep(0.01)
                seen[kind].append(time.perf_counter() - committed)
                time.sleep(0.2)
        during_edits = list(latencies)
        all_seen = [s for values in seen.values() for s in values]
        print("(a) edit committed -> shown by node B's API (s):")
        for kind, values in seen.items():
            print(f"    {kind:12s} p50 {statistics.median(values):.2f} max {max(values):.2f}")
        print(f"    all          p50 {statistics.median(all_seen):.2f} max {max(all_seen):.2f}")
        print(
            f"(b) node B searches while edits landed: n={len(during_edits)} "
            f"p50 {statistics.median(during_edits):.1f} ms "
            f"p99 {sorted(during_edits)[int(len(during_edits) * 0.99)]:.1f} ms "
            f"max {max(during_edits):.1f} ms; errors {len(errors)}"
        )
        applied = [float(m.group(2)) for m in APPLIED.finditer(node_b.log.read_text())]
        applied += [float(m.group(2)) for m in APPLIED.finditer(nodes[0].log.read_text())]
        if applied:
            print(f"    inline refreshes logged: n={len(applied)} max {max(applied):.1f} ms")

        # A change of "everything": both of B's workers rebuild in the background.
        latencies.clear()
        service_id, renamed = service_ids[0], f"Rebuilt {time.time():.0f}"
        with app.app_context():
            session = current_session()
            with transaction(session):
                edit_service(
                    session,
                    service_id,
                    {"name": renamed},
                    vocab=VOCABULARY.get(),
                    changed_by="bench",
                )
                bump_revision(session)
            committed = time.perf_counter()
            session.close()
        shown: list[float] = []
        while len(shown) < 6:  # several answers in a row, so that both workers have it
            status, body = get(f"{node_b.base}/api/v1/services/{service_id}", key)
            if status == 200 and body["name"] == renamed:
                shown.append(time.perf_counter() - committed)
            else:
                shown.clear()
            time.sleep(0.05)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        during_build = list(latencies)
        print(
            f"    background full rebuild: node B serves the change after {shown[0]:.1f} s; "
            f"searches meanwhile n={len(during_build)} "
            f"p50 {statistics.median(during_build):.1f} ms "
            f"max {max(during_build):.1f} ms; errors {len(errors)}"
        )
        for node in nodes:
            print(f"(c) PSS after traffic, {node.name}: {fmt(node.pss_mb())}")
    finally:
        for node in nodes:
            node.stop()
        print(f"node logs: {logs}")


def fmt(pss: dict[str, float]) -> str:
    workers = sum(v for k, v in pss.items() if k.startswith("worker"))
    parts = " ".join(f"{k} {v:.0f} MB" for k, v in pss.items())
    return f"{parts}; workers {workers:.0f} MB, node {sum(pss.values()):.0f} MB"


if __name__ == "__main__":
    main()
