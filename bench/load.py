"""Benchmark: the whole deployment under a mixed load, as its users would see it (issue 18 §5).

Starts `scripts/cluster` (durable PostgreSQL, K gunicorn nodes, HAProxy in front, the
schedulers and the fake Twilio), creates API keys with the CLI, runs Locust headless through
the load balancer at a fixed rate (70% searches, 20% navigations, 5% referrals with an
Idempotency-Key, 5% capacity updates: bench/workload.py), stops the cluster, and prints per
request type and in total: requests, rate, p50/p95/p99/max and errors, against the targets
150 requests/s sustained, p95 < 30 ms, p99 < 100 ms, 0 errors. It also prints the CPU each
part used (nodes, PostgreSQL, HAProxy, Locust itself, everything else on the machine) and
PostgreSQL's commits per second. Exit status 0 when every target passes, 1 when one fails.

    .venv/bin/python bench/load.py                             # 100,000 synthetic, 2 nodes, 5 min
    .venv/bin/python bench/load.py --directory blmk            # the BLMK directory
    .venv/bin/python bench/load.py --nodes 1 --run-time 60     # one node, a short run
    .venv/bin/python bench/load.py --url URL --database-url URL  # a deployment already running

Locust runs as one process (gevent, FastHttpUser) under `nice` (and `taskset` if asked), so
on a 2-CPU machine the servers get the CPU first. Locust's CSV files, the plan and a
summary.json go to bench/out/load/<time>-<directory>-<nodes>n/ (git-ignored).
Needs the bench extra: .venv/bin/pip install -e '.[bench]'.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
import requests
from sqlalchemy import create_engine, text
from workload import EXPECTED_STATUS, MIX, Plan, Provider, Workload, plan_services

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "load"
TARGET_RATE, TARGET_P95_MS, TARGET_P99_MS = 150.0, 30.0, 100.0
# "Sustained": the mean over the run within 1% of the target, and no 10-second window
# below 90% of it (Locust paces each user, so a slow server shows up as a lower rate).
MEAN_RATE_SHARE, WINDOW_RATE_SHARE, WINDOW_S = 0.99, 0.9, 10
PROVIDERS = 5  # provider keys, one organisation each (their services get capacity updates)


@dataclass
class Deployment:
    """Where the load goes and how to reach its database and CLI."""

    url: str
    node_urls: list[str]
    database_url: str
    cluster_dir: str | None  # None: a deployment this script did not start
    env: dict[str, str]


def parse_exports(text_out: str) -> dict[str, str]:
    """`export NAME=VALUE` lines (as scripts/cluster prints them) as a dict."""
    found = {}
    for line in text_out.splitlines():
        if line.startswith("export ") and "=" in line:
            name, value = line[len("export ") :].split("=", 1)
            found[name] = shlex.split(value)[0] if value else ""
    return found


def start_cluster(args: argparse.Namespace) -> Deployment:
    command = [
        "scripts/cluster",
        "start",
        "--nodes",
        str(args.nodes),
        "--workers",
        str(args.workers),
    ]
    if args.directory == "synthetic":
        command += ["--services", str(args.services)]
    print(f"starting: {' '.join(command)} (a 100,000-service build takes minutes)", flush=True)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    exports = parse_exports(done.stdout)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        if "NAVIGATOR_CLUSTER_DIR" in exports:  # up, then failed: leave nothing running
            stop_cluster(exports["NAVIGATOR_CLUSTER_DIR"])
        raise SystemExit(f"scripts/cluster start failed ({done.returncode})")
    print(
        f"cluster up in {time.perf_counter() - started:.0f} s: {exports['NAVIGATOR_CLUSTER_DIR']}"
    )
    return Deployment(
        url=exports["NAVIGATOR_CLUSTER_URL"],
        node_urls=exports["NAVIGATOR_NODE_URLS"].split(),
        database_url=exports["NAVIGATOR_PG_URL"],
        cluster_dir=exports["NAVIGATOR_CLUSTER_DIR"],
        env=exports,
    )


def stop_cluster(folder: str) -> None:
    subprocess.run(["scripts/cluster", "stop", folder], cwd=ROOT, check=False)


def existing_cluster(folder: Path) -> Deployment:
    """A cluster `scripts/cluster start` made and left running: its env file and the
    balancer's server lines give the URLs, its pg_dir file the PostgreSQL directory."""
    env = parse_exports((folder / "env").read_text())
    nodes = re.findall(r"server node\d+ (127\.0\.0\.1:\d+)", (folder / "haproxy.cfg").read_text())
    env["NAVIGATOR_PG_DIR"] = (folder / "pg_dir").read_text().strip()
    return Deployment(
        url=env["PUBLIC_BASE_URL"],
        node_urls=[f"http://{n}" for n in nodes],
        database_url=env["DATABASE_URL"],
        cluster_dir=str(folder),
        env=env,
    )


def navigator_cli(deployment: Deployment, *args: str) -> str:
    """Run `navigator ARGS` with the deployment's settings; its stdout."""
    if deployment.cluster_dir:
        script = 'source "$1/env" && shift && navigator "$@"'
        command = ["bash", "-c", script, "_", deployment.cluster_dir, *args]
        env = dict(os.environ)
    else:
        command = [str(ROOT / ".venv" / "bin" / "navigator"), *args]
        env = dict(os.environ) | {"DATABASE_URL": deployment.database_url}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"navigator {' '.join(args[:2])} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def api_key(deployment: Deployment, name: str, role: str, ods: str | None = None) -> str:
    extra = ["--organisation", ods] if ods else []
    out = navigator_cli(deployment, "api-client", "create", name, "--role", role, *extra)
    return out.strip().splitlines()[-1]  # the key is alone on the last line


def make_plan(deployment: Deployment, directory: str) -> Plan:
    """API keys from the CLI; service ids from the database (the API has no list of all)."""
    engine = create_engine(deployment.database_url)
    with engine.connect() as conn:
        referable, organisations = plan_services(conn, PROVIDERS)
    engine.dispose()
    stamp = datetime.now(UTC).strftime("%H%M%S")
    providers = tuple(
        Provider(ods, api_key(deployment, f"load-{ods}-{stamp}", "provider", ods), tuple(ids))
        for ods, ids in organisations
    )
    integrator = api_key(deployment, f"load-integrator-{stamp}", "integrator")
    return Plan(directory, integrator, providers, tuple(referable))


def warm_up(deployment: Deployment, plan: Plan, per_node: int) -> None:
    """Searches and navigations straight to each node, so no worker meets its first request
    (its index build, its first connections) inside the measured minutes."""
    workload = Workload(plan, random.Random(1))
    for base in [*deployment.node_urls, deployment.url]:
        started = time.perf_counter()
        for i in range(per_node):
            request = workload.search() if i % 4 else workload.navigation()
            status = requests.request(
                request.method,
                base + request.path,
                params=request.query,
                json=request.body,
                headers=request.headers,
                timeout=600,  # a node's first request may build its index
            ).status_code
            if status != request.expected_status:
                raise SystemExit(
                    f"warm-up: {request.method} {base}{request.path} answered {status}"
                )
        print(f"warmed {base} ({per_node} requests, {time.perf_counter() - started:.1f} s)")


# --- CPU and PostgreSQL accounting --------------------------------------------------------


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def _pid_file(path: Path) -> int | None:
    """The pid on a pid file's first line (PostgreSQL's postmaster.pid has more lines)."""
    try:
        return int(path.read_text().split("\n", 1)[0].strip())
    except (OSError, ValueError):
        return None


def process_groups(deployment: Deployment, locust_pid: int) -> dict[int, str]:
    """pid -> the part of the deployment it belongs to (by the cluster's pid files)."""
    groups: dict[int, str] = {p.pid: "locust (load generator)" for p in _tree(locust_pid)}
    if deployment.cluster_dir:
        folder = Path(deployment.cluster_dir)
        for pid_file in sorted(folder.glob("*.pid")):
            name = pid_file.stem
            label = (
                f"{name} (gunicorn)"
                if name.startswith("node")
                else "schedulers"
                if name.startswith("scheduler")
                else name
            )
            if (pid := _pid_file(pid_file)) is not None:
                groups |= {p.pid: label for p in _tree(pid)}
        pg_dir = deployment.env.get("NAVIGATOR_PG_DIR", "")
        postmaster = _pid_file(Path(pg_dir) / "data" / "postmaster.pid") if pg_dir else None
        if postmaster is not None:
            groups |= {p.pid: "postgresql" for p in _tree(postmaster)}
    return groups


def cpu_snapshot() -> tuple[float, dict[int, float], Any]:
    """(time, pid -> CPU seconds so far, machine-wide cpu_times)."""
    seconds = {}
    for proc in psutil.process_iter(["cpu_times"]):
        times = proc.info["cpu_times"]
        if times is not None:
            seconds[proc.pid] = times.user + times.system
    return time.monotonic(), seconds, psutil.cpu_times()


def cpu_report(
    before: tuple[float, dict[int, float], Any],
    after: tuple[float, dict[int, float], Any],
    groups: dict[int, str],
) -> dict[str, float]:
    """CPU used per group over the window, in cores (1.0 = one CPU busy all the time)."""
    wall = after[0] - before[0]
    used: dict[str, float] = {}
    for pid, seconds in after[1].items():
        label = groups.get(pid, "everything else on the machine")
        used[label] = used.get(label, 0.0) + seconds - before[1].get(pid, 0.0)
    cores = {label: round(s / wall, 2) for label, s in sorted(used.items())}
    t0, t1 = before[2], after[2]
    busy = (sum(t1) - t1.idle - t1.iowait) - (sum(t0) - t0.idle - t0.iowait)
    cores["machine busy (all processes)"] = round(busy / wall, 2)
    cores["machine steal"] = round((t1.steal - t0.steal) / wall, 2)
    cores["machine CPUs"] = float(psutil.cpu_count())
    return cores


def pg_counters(database_url: str) -> dict[str, float]:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        commits = conn.scalar(
            text("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
        )
        wal = conn.execute(text("SELECT wal_records, wal_sync, wal_bytes FROM pg_stat_wal")).one()
    engine.dispose()
    return {
        "commits": float(commits or 0),
        "wal_records": float(wal[0]),
        "wal_syncs": float(wal[1]),
        "wal_bytes": float(wal[2]),
    }


# --- the run ------------------------------------------------------------------------------


def run_locust(
    args: argparse.Namespace, deployment: Deployment, plan_file: Path, prefix: Path
) -> dict[str, Any]:
    per_user = args.rate / args.users
    mark = prefix.parent / "measuring"
    command = [
        str(ROOT / ".venv" / "bin" / "locust"),
        "-f",
        str(ROOT / "bench" / "locustfile.py"),
        "--headless",
        "--users",
        str(args.users),
        "--spawn-rate",
        str(args.users),
        "--run-time",  # a safety net: the locustfile stops after warm-up + measured time
        f"{args.warm_up + args.run_time + 300}s",
        "--host",
        deployment.url,
        "--csv",
        str(prefix),
        "--only-summary",
        "--stop-timeout",
        "10",
        "--loglevel",
        "WARNING",
    ]
    if args.locust_cpus:
        command = ["taskset", "-c", args.locust_cpus, *command]
    command = ["nice", "-n", str(args.nice), *command]
    env = dict(os.environ) | {
        "NAVIGATOR_LOAD_PLAN": str(plan_file),
        "NAVIGATOR_LOAD_RATE": f"{per_user:.6f}",
        "NAVIGATOR_LOAD_WARM_UP": str(args.warm_up),
        "NAVIGATOR_LOAD_MEASURE": str(args.run_time),
        "NAVIGATOR_LOAD_MARK": str(mark),
    }
    print(
        f"load: {args.users} users x {per_user:.2f} requests/s = {args.rate:.0f}/s, "
        f"{args.warm_up} s warm-up then {args.run_time} s measured, through {deployment.url}",
        flush=True,
    )
    log = prefix.parent / "locust.log"
    with log.open("w") as log_fh:
        proc = subprocess.Popen(command, cwd=ROOT / "bench", env=env, stdout=log_fh, stderr=log_fh)
        # CPU and PostgreSQL over the measured minutes only: from the locustfile's mark (the
        # end of the warm-up) to just before Locust stops.
        while not mark.exists():
            if proc.poll() is not None:
                raise SystemExit(f"locust exited {proc.returncode} before measuring; see {log}")
            time.sleep(0.2)
        groups = process_groups(deployment, proc.pid)
        spies = start_profiles(deployment, prefix.parent, args.run_time - 2) if args.profile else []
        before, pg_before = cpu_snapshot(), pg_counters(deployment.database_url)
        samples = sampler(args.run_time - 2)
        after, pg_after = cpu_snapshot(), pg_counters(deployment.database_url)
        code = proc.wait(timeout=120)
        for spy in spies:
            spy.wait(timeout=120)
    if code not in (0, 1):  # 1: some requests failed, which the table shows
        raise SystemExit(f"locust exited {code}; see {log}")
    wall = after[0] - before[0]
    return {
        "cpu_cores": cpu_report(before, after, groups),
        "cpu_peak_top": samples,
        "postgresql_per_s": {k: round((pg_after[k] - pg_before[k]) / wall, 1) for k in pg_before},
    }


def start_profiles(
    deployment: Deployment, out: Path, seconds: int
) -> list[subprocess.Popen[bytes]]:
    """py-spy on each worker of node1 for `seconds`, 50 samples a second, as collapsed
    stacks (`profile-<pid>.txt`: one line per stack, its sample count last); nice'd too."""
    if not deployment.cluster_dir:
        raise SystemExit("--profile needs a cluster (not --url)")
    master = _pid_file(Path(deployment.cluster_dir) / "node1.pid")
    workers = _tree(master)[1:] if master else []
    return [
        subprocess.Popen(
            [
                "nice",
                "-n",
                "10",
                str(ROOT / ".venv" / "bin" / "py-spy"),
                "record",
                "--pid",
                str(w.pid),
                "--rate",
                "50",
                "--duration",
                str(seconds),
                "--format",
                "raw",
                "--nonblocking",
                "--output",
                str(out / f"profile-{w.pid}.txt"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for w in workers
    ]


def profile_summary(out: Path, top: int = 25) -> dict[str, list[tuple[str, float]]]:
    """From py-spy's collapsed stacks (all profile-*.txt): where node1's workers spent their
    busy samples, as percentages. `packages`: by the package of the innermost frame (psycopg
    waiting on PostgreSQL shows as psycopg). `navigator`: navigator's own functions, by the
    share of samples they were anywhere on the stack. Idle samples (a worker waiting for its
    next connection) are left out."""
    inclusive: dict[str, int] = {}
    packages: dict[str, int] = {}
    total = 0
    for path in out.glob("profile-*.txt"):
        for line in path.read_text().splitlines():
            stack, _, count_text = line.rpartition(" ")
            frames = [re.sub(r":\d+\)$", ")", f) for f in stack.split(";")[1:]]
            if not frames or re.match(r"(select|accept|wait) \(", frames[-1]):
                continue
            count = int(count_text)
            total += count
            for frame in set(frames):
                if "navigator/" in frame:
                    inclusive[frame] = inclusive.get(frame, 0) + count
            found = re.search(r"\((?:.*site-packages/)?([^/)]+)", frames[-1])
            package = found.group(1) if found else frames[-1]
            packages[package] = packages.get(package, 0) + count

    def shares(counts: dict[str, int]) -> list[tuple[str, float]]:
        ranked = sorted(counts.items(), key=lambda item: -item[1])[:top]
        return [(name, round(100 * n / max(1, total), 1)) for name, n in ranked]

    return {"packages": shares(packages), "navigator": shares(inclusive)}


def sampler(seconds: float) -> list[tuple[str, float]]:
    """Sleep `seconds`, sampling the busiest processes every 5 s (as `top` would show them);
    the five highest averages over the window, by process name and pid."""
    totals: dict[str, list[float]] = {}
    procs: dict[int, psutil.Process] = {}
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        for proc in psutil.process_iter(["name"]):
            if proc.pid not in procs:
                procs[proc.pid] = proc
                proc.cpu_percent(None)  # the first call only starts the clock
        time.sleep(min(5.0, left))
        for pid, proc in list(procs.items()):
            try:
                share = proc.cpu_percent(None)
            except psutil.Error:
                del procs[pid]
                continue
            totals.setdefault(f"{proc.info['name']}[{pid}]", []).append(share)
    means = {name: sum(v) / max(1, len(v)) for name, v in totals.items()}
    return sorted(((n, round(m, 1)) for n, m in means.items()), key=lambda x: -x[1])[:8]


def read_stats(prefix: Path) -> dict[str, dict[str, float]]:
    """Locust's per-name totals (after the warm-up reset)."""
    rows = {}
    with Path(f"{prefix}_stats.csv").open(newline="") as fh:
        for row in csv.DictReader(fh):
            name = "total" if row["Name"] == "Aggregated" else row["Name"]
            rows[name] = {
                "requests": float(row["Request Count"]),
                "errors": float(row["Failure Count"]),
                "rate": float(row["Requests/s"]),
                "p50": float(row["50%"]),
                "p95": float(row["95%"]),
                "p99": float(row["99%"]),
                "max": float(row["Max Response Time"]),
            }
    return rows


def lowest_window_rate(prefix: Path) -> float | None:
    """The lowest request rate over any WINDOW_S seconds of the measured part, from Locust's
    per-second history of cumulative totals (the rows after the warm-up reset)."""
    points: list[tuple[float, float]] = []
    with Path(f"{prefix}_stats_history.csv").open(newline="") as fh:
        for row in csv.DictReader(fh):
            if row["Name"] != "Aggregated":
                continue
            count = float(row["Total Request Count"])
            if points and count < points[-1][1]:
                points = []  # the reset at the end of the warm-up: start again
            if points or count > 0:  # not the rows before the first request
                points.append((float(row["Timestamp"]), count))
    rates = []
    for i, (t0, c0) in enumerate(points):
        for t1, c1 in points[i + 1 :]:
            if t1 - t0 >= WINDOW_S:
                rates.append((c1 - c0) / (t1 - t0))
                break
    return min(rates) if rates else None


def verdicts(total: dict[str, float], lowest: float | None) -> list[tuple[str, str, bool]]:
    sustained = total["rate"] >= MEAN_RATE_SHARE * TARGET_RATE and (
        lowest is not None and lowest >= WINDOW_RATE_SHARE * TARGET_RATE
    )
    low = f"{lowest:.1f}" if lowest is not None else "n/a"
    return [
        (
            f"{TARGET_RATE:.0f} requests/s sustained",
            f"{total['rate']:.1f}/s mean, lowest {WINDOW_S} s window {low}/s",
            sustained,
        ),
        (f"p95 < {TARGET_P95_MS:.0f} ms", f"{total['p95']:.0f} ms", total["p95"] < TARGET_P95_MS),
        (f"p99 < {TARGET_P99_MS:.0f} ms", f"{total['p99']:.0f} ms", total["p99"] < TARGET_P99_MS),
        ("0 errors", f"{total['errors']:.0f}", total["errors"] == 0),
    ]


def print_report(
    args: argparse.Namespace,
    stats: dict[str, dict[str, float]],
    extra: dict[str, Any],
    lowest: float | None,
) -> bool:
    order = [k for k in (*MIX, *EXPECTED_STATUS) if k in stats]
    names = list(dict.fromkeys(order)) + [k for k in stats if k not in order and k != "total"]
    print()
    print(
        f"{args.directory} directory, {args.nodes} node(s) x {args.workers} workers, "
        f"{args.run_time} s measured, load average {os.getloadavg()[0]:.1f} at the end"
    )
    head = f"{'request':<16}{'requests':>9}{'rate/s':>9}"
    head += f"{'p50':>7}{'p95':>7}{'p99':>7}{'max':>8}{'errors':>8}"
    print(head)
    print("-" * len(head))
    for name in [*names, "total"]:
        s = stats[name]
        print(
            f"{name:<16}{s['requests']:>9.0f}{s['rate']:>9.1f}{s['p50']:>7.0f}{s['p95']:>7.0f}"
            f"{s['p99']:>7.0f}{s['max']:>8.0f}{s['errors']:>8.0f}"
        )
    print("(times in ms)")
    print()
    results = verdicts(stats["total"], lowest)
    for target, measured, ok in results:
        print(f"{'PASS' if ok else 'FAIL'}  {target:<28} {measured}")
    print()
    print("CPU over the measured minutes, in cores:")
    for label, cores in extra["cpu_cores"].items():
        print(f"  {label:<34} {cores:.2f}")
    print(
        "busiest processes (mean % of one CPU):",
        ", ".join(f"{n} {p}" for n, p in extra["cpu_peak_top"]),
    )
    pg = extra["postgresql_per_s"]
    print(
        f"PostgreSQL per second: {pg['commits']:.0f} commits, {pg['wal_syncs']:.0f} WAL syncs, "
        f"{pg['wal_records']:.0f} WAL records, {pg['wal_bytes'] / 1024:.0f} kB WAL"
    )
    return all(ok for _, _, ok in results)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--directory", choices=("synthetic", "blmk"), default="synthetic")
    parser.add_argument("--services", type=int, default=100_000, help="synthetic directory size")
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per node")
    parser.add_argument("--rate", type=float, default=TARGET_RATE, help="requests/s offered")
    parser.add_argument("--users", type=int, default=50, help="simulated clients (concurrency)")
    parser.add_argument("--run-time", type=int, default=300, help="measured seconds")
    parser.add_argument("--warm-up", type=int, default=20, help="seconds of load before measuring")
    parser.add_argument("--nice", type=int, default=10, help="Locust's niceness (0-19)")
    parser.add_argument("--locust-cpus", default="", help="taskset CPU list for Locust, e.g. 1")
    parser.add_argument(
        "--cluster-dir", type=Path, help="load a cluster left running (scripts/cluster start)"
    )
    parser.add_argument("--url", help="load a deployment already running (with --database-url)")
    parser.add_argument("--database-url", help="its database (SQLAlchemy URL), for keys and ids")
    parser.add_argument("--keep", action="store_true", help="leave the cluster running")
    parser.add_argument(
        "--profile", action="store_true", help="py-spy node1's workers (profile-*.txt)"
    )
    args = parser.parse_args()
    if bool(args.url) != bool(args.database_url):
        parser.error("--url and --database-url go together")
    if args.url:
        args.nodes, args.workers = 0, 0
    if args.cluster_dir:
        cluster = existing_cluster(args.cluster_dir)
        args.nodes = len(cluster.node_urls)

    out = OUT / f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{args.directory}-{args.nodes}n"
    out.mkdir(parents=True)
    print(f"machine: {psutil.cpu_count()} CPUs, load average {os.getloadavg()}; output in {out}")
    if args.cluster_dir:
        deployment = cluster
    elif args.url:
        deployment = Deployment(args.url, [], args.database_url, None, {})
    else:
        deployment = start_cluster(args)
    try:
        plan = make_plan(deployment, args.directory)
        plan_file = out / "plan.json"  # holds this throwaway deployment's API keys
        plan_file.write_text(plan.to_json())
        print(
            f"plan: {len(plan.referral_services)} referable services; provider keys for "
            + ", ".join(p.ods_code for p in plan.providers)
        )
        warm_up(deployment, plan, per_node=10 * max(1, args.workers))
        extra = run_locust(args, deployment, plan_file, out / "locust")
    finally:
        if deployment.cluster_dir and not (args.keep or args.cluster_dir):
            subprocess.run(
                ["scripts/cluster", "stop", deployment.cluster_dir], cwd=ROOT, check=False
            )
    stats = read_stats(out / "locust")
    lowest = lowest_window_rate(out / "locust")
    passed = print_report(args, stats, extra, lowest)
    summary = {
        "args": vars(args),
        "finished": datetime.now(UTC).isoformat(),
        "load_average_end": os.getloadavg(),
        "stats": stats,
        "lowest_window_rate": lowest,
        **extra,
        "passed": passed,
    }
    if args.profile:
        summary["profile"] = profile_summary(out)
        print("\nnode1 workers, share of busy samples by package (innermost frame):")
        print(
            "  " + ", ".join(f"{name} {share}%" for name, share in summary["profile"]["packages"])
        )
        print("navigator functions, share of busy samples on the stack:")
        for name, share in summary["profile"]["navigator"]:
            print(f"  {share:5.1f}%  {name}")
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=str))
    print(f"\nfigures: {out}/summary.json; Locust CSV: {out}/locust_*.csv")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
