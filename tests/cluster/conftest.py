"""A local multi-node deployment for the cluster tests: `scripts/cluster start`, once per
session, stopped at the end (PostgreSQL, two gunicorn nodes, HAProxy, two schedulers, the fake
Twilio; see that script).

The `cluster` fixture runs only in the PostgreSQL pass of the suite: it skips unless
`NAVIGATOR_TEST_DATABASE_URL` is a postgresql URL. It does not use that database; the cluster
has its own durable server. `NAVIGATOR_FAULTS_LONG=1` makes the fault tests run their longer
versions (`long_run`).
"""

from __future__ import annotations

import os
import secrets
import shlex
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from navigator.auth.keys import create_api_client
from navigator.auth.passwords import create_user
from navigator.core.db import transaction

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CLUSTER_SCRIPT = PROJECT_ROOT / "scripts" / "cluster"
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
# The console throttle is set low for the cluster so the cross-node throttle test stays short
# (the default is 20 failures in 5 minutes).
CONSOLE_THROTTLE_FAILURES = 3
# The BaRS sender the load client names: registered, on loopback, and nothing listens on the
# discard port, so the schedulers' status responses to it fail and stay in the outbox (the
# fault tests count referrals, not responses) and never leave the machine.
BARS_SENDER = "http://127.0.0.1:9/bars"


def long_run() -> bool:
    return os.environ.get("NAVIGATOR_FAULTS_LONG", "") not in ("", "0")


def wait_for(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll `condition` every 0.2 s until it is truthy; AssertionError naming `what` after
    `timeout` seconds (generous: the machine is small and shared)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def as_db_user(argv: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root; scripts/postgres runs it as `postgres` then."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@dataclass
class Cluster:
    """A running `scripts/cluster` deployment."""

    dir: Path
    url: str  # the load balancer
    node_urls: list[str]
    pg_url: str  # SQLAlchemy URL (postgresql+psycopg://)
    pg_dir: Path
    fake_twilio_url: str

    def env(self) -> dict[str, str]:
        """The caller's environment plus the cluster's settings (its `env` file of
        `export NAME='value'` lines, as `source` would read them)."""
        env = dict(os.environ)
        for name, value in _parse_exports((self.dir / "env").read_text()).items():
            env[name] = os.path.expandvars(value)
        return env

    def session(self) -> Session:
        """A SQLAlchemy session on the cluster's database (close it after use)."""
        return Session(create_engine(self.pg_url, poolclass=NullPool))

    def create_user(self, role: str = "navigator") -> tuple[str, str]:
        """A console user made by the real service (`navigator user create` does the same;
        in-process here, since each CLI start costs seconds of CPU): (email, password)."""
        email = f"navigator-{secrets.token_hex(4)}@example.nhs.uk"
        password = secrets.token_urlsafe(16)
        with self.session() as session, transaction(session):
            create_user(session, email=email, password=password, role=role)
        return email, password

    def create_api_key(self, role: str = "integrator") -> str:
        with self.session() as session, transaction(session):
            _, key = create_api_client(
                session,
                name=f"cluster-tests-{secrets.token_hex(3)}",
                role=role,
                organisation_ods=None,
            )
        return key

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        """Rows of one query, read straight from the cluster's PostgreSQL."""
        libpq = make_url(self.pg_url).set(drivername="postgresql").render_as_string(False)
        with psycopg.connect(libpq, connect_timeout=10) as conn:
            return list(conn.execute(query, params).fetchall())

    def pid(self, name: str) -> int:
        return int((self.dir / f"{name}.pid").read_text().strip())

    def kill_node(self, number: int) -> None:
        """kill -9 node NUMBER's gunicorn master and every worker at once (its process group:
        scripts/cluster starts each node in its own session), as a machine dying would."""
        os.killpg(self.pid(f"node{number}"), 9)

    def restart_node(self, number: int) -> None:
        subprocess.run(  # noqa: S603 - our own script
            [str(CLUSTER_SCRIPT), "restart-node", str(self.dir), str(number)],
            check=True,
            timeout=600,
        )

    def pg_ctl(self, *args: str) -> None:
        subprocess.run(  # noqa: S603 - PostgreSQL's own pg_ctl
            as_db_user([str(PG_BIN / "pg_ctl"), "-D", str(self.pg_dir / "data"), *args]),
            check=True,
            capture_output=True,
            timeout=120,
        )

    def pg_stop(self) -> None:
        self.pg_ctl("-m", "fast", "-w", "stop")

    def pg_start(self) -> None:
        """Start PostgreSQL again with the options it last ran with (`postmaster.opts`, the
        file `pg_ctl restart` reads them from)."""
        opts = shlex.split((self.pg_dir / "data" / "postmaster.opts").read_text())
        # [postgres binary, "-D", data dir, options...]
        self.pg_ctl(
            "-l", str(self.pg_dir / "server.log"), "-w", "-o", shlex.join(opts[3:]), "start"
        )

    def healthy(self, url: str) -> bool:
        try:
            return requests.get(f"{url}/api/v1/health", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def node_running(self, number: int) -> bool:
        try:
            os.killpg(self.pid(f"node{number}"), 0)
        except ProcessLookupError:
            return False
        return True

    def ensure_whole(self) -> None:
        """PostgreSQL up and every node running and healthy, through the balancer too (a test
        before may have killed a node or stopped the database and failed before mending it)."""
        if not (self.pg_dir / "data" / "postmaster.pid").exists():
            self.pg_start()
        for number, url in enumerate(self.node_urls, start=1):
            if not self.node_running(number):
                self.restart_node(number)
            wait_for(partial(self.healthy, url), 120, f"{url} healthy")
        wait_for(self.balancer_sees_all_up, 60, "the balancer to see every node up")

    def balancer_sees_all_up(self) -> bool:
        """Every node UP in HAProxy's own view (`show stat` on its runtime socket)."""
        with socket.socket(socket.AF_UNIX) as conn:
            conn.connect(str(self.dir / "haproxy.sock"))
            conn.sendall(b"show stat\n")
            data = b""
            while chunk := conn.recv(65536):
                data += chunk
        rows = [
            line.split(",") for line in data.decode().splitlines() if line.startswith("nodes,node")
        ]
        return len(rows) == len(self.node_urls) and all(row[17] == "UP" for row in rows)

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.dir / name
        return (
            "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
            if path.exists()
            else ""
        )


def _parse_exports(text: str) -> dict[str, str]:
    values = {}
    for line in text.splitlines():
        if line.startswith("export "):
            name, _, value = line[len("export ") :].partition("=")
            values[name] = shlex.split(value)[0] if value else ""
    return values


@pytest.fixture(scope="session")
def cluster(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    url = os.environ.get("NAVIGATOR_TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        pytest.skip("the cluster tests run in the PostgreSQL pass (NAVIGATOR_TEST_DATABASE_URL)")
    started = subprocess.run(  # noqa: S603 - our own script
        [
            str(CLUSTER_SCRIPT),
            "start",
            "--env",
            f"AUTH_THROTTLE_CONSOLE_FAILURES={CONSOLE_THROTTLE_FAILURES}",
            "--env",
            f"BARS_SENDER_ENDPOINTS={BARS_SENDER}",
            # A BaRS message whose node died (or lost the database) after claiming its
            # X-Request-Id is answered 425 until this lease ends, then the retry takes the
            # claim over. 10 s instead of 30 keeps the fault tests short; still far above the
            # time a message takes here.
            "--env",
            "BARS_PROCESSING_LEASE_SECONDS=10",
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert started.returncode == 0, started.stderr[-4000:]
    exports = _parse_exports(started.stdout)
    running = Cluster(
        dir=Path(exports["NAVIGATOR_CLUSTER_DIR"]),
        url=exports["NAVIGATOR_CLUSTER_URL"],
        node_urls=exports["NAVIGATOR_NODE_URLS"].split(),
        pg_url=exports["NAVIGATOR_PG_URL"],
        pg_dir=Path(exports["NAVIGATOR_PG_DIR"]),
        fake_twilio_url=exports["NAVIGATOR_FAKE_TWILIO_URL"],
    )
    try:
        yield running
    finally:
        if request.session.testsfailed:  # keep the processes' logs: stop removes the dir
            kept = tmp_path_factory.mktemp("cluster-logs")
            for log in running.dir.glob("*.log"):
                shutil.copy(log, kept / log.name)
            print(f"\ncluster logs kept in {kept}")
        subprocess.run(  # noqa: S603 - our own script
            [str(CLUSTER_SCRIPT), "stop", str(running.dir)], timeout=300, check=False
        )


@pytest.fixture(scope="session")
def integrator_key(cluster: Cluster) -> str:
    """An integrator's API key on the cluster."""
    return cluster.create_api_key("integrator")


@pytest.fixture
def whole_cluster(cluster: Cluster) -> Cluster:
    """The cluster with every part running (see `Cluster.ensure_whole`)."""
    cluster.ensure_whole()
    return cluster


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the node tests before the fault tests (which kill a node last and leave it dead
    rather than spend a restart in CI), whatever order the files were collected in. Only
    this directory's two files move; every other test keeps its place."""
    nodes = [i for i in items if i.nodeid.startswith("tests/cluster/test_nodes.py")]
    faults = [i for i in items if i.nodeid.startswith("tests/cluster/test_faults.py")]
    if not nodes or not faults:
        return
    slots = sorted(items.index(i) for i in nodes + faults)
    for slot, item in zip(slots, nodes + faults, strict=True):
        items[slot] = item
