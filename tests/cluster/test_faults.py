"""Faults, with nothing lost (issue 18 §4): a web node killed with `kill -9` under load, and
PostgreSQL restarted under load, on a cluster from `scripts/cluster start`.

What they protect:
- the balancer routes around a dead node within seconds (health checks, `retry-on
  conn-failure`, `option redispatch`; deploy/haproxy.cfg);
- every write acknowledged with a 2xx is in the database afterwards, read straight from
  PostgreSQL, and a client that retries an unknown outcome with the same key ends with exactly
  one record per key: navigations and referrals by `Idempotency-Key`, transitions by
  `event_id`, BaRS referrals by `X-Request-Id`;
- while PostgreSQL is down every answer is 503 `application/problem+json` with `Retry-After`
  (from a node, or the balancer's errorfile once every node's health check fails), never a 500
  and never an HTML page; afterwards both nodes and both schedulers serve again without being
  restarted.

The first version of these tests found a navigation recorded twice (its node died before
the answer left, and the client resent it): navigations now take an `Idempotency-Key` too.

Short versions run in the PostgreSQL pass of CI; `NAVIGATOR_FAULTS_LONG=1` runs longer ones
(more threads, a longer run, several kills and restarts). The figures are printed (run with
`-s` to see them).
"""

from __future__ import annotations

import os
import time
from collections import Counter, defaultdict

from tests.cluster.conftest import BARS_SENDER, Cluster, long_run, wait_for
from tests.cluster.load_client import PROBLEM_JSON, LoadClient, Results

LONG = long_run()
THREADS = 8 if LONG else 4
# Seconds the load runs after each fault; kills and restarts per test.
AFTER_FAULT = 20.0 if LONG else 6.0
FAULTS = 3 if LONG else 1
PG_DOWN_SECONDS = 5.0


def referral_service(cluster: Cluster) -> str:
    """An active, classified service in the loaded directory (referrals need one)."""
    rows = cluster.sql(
        "SELECT id FROM services WHERE status = 'active' AND service_type <> 'unclassified'"
        " ORDER BY id LIMIT 1"
    )
    assert rows, "no active service in the cluster's directory"
    return str(rows[0][0])


def load_client(cluster: Cluster, key: str) -> LoadClient:
    return LoadClient(
        cluster.url,
        key,
        service_id=referral_service(cluster),
        postcode="MK42 9AA",  # Bedford: in the BLMK directory's area
        organisation_ods="RC9",  # Bedfordshire Hospitals, in the BLMK directory
        bars_target="bedford-hospital-ed",  # scripts/bars-example's: an ED in the BLMK directory
        bars_sender=BARS_SENDER,
        threads=THREADS,
    )


def acknowledged_after(results: Results, moment: float, count: int, timeout: float) -> None:
    """Wait until `count` writes have been acknowledged with answers ending after `moment`."""
    wait_for(
        lambda: (
            sum(1 for a in list(results.answers) if a.at > moment and 200 <= a.status < 300)
            >= count
        ),
        timeout,
        f"{count} acknowledged writes after t={moment:.1f} s",
    )


def assert_nothing_lost(cluster: Cluster, results: Results) -> dict[str, int]:
    """Every acknowledged write is stored, under its own key, exactly once; returns how many
    records of each kind the load made."""
    keys: dict[str, dict[str, list[str]]] = {
        kind: defaultdict(list) for kind in ("navigation", "referral", "transition", "bars")
    }
    for key, record in cluster.sql(
        "SELECT idempotency_key, id FROM referrals WHERE idempotency_key LIKE %s", "load-%"
    ):
        keys["referral"][key].append(str(record))
    for key, record in cluster.sql(
        "SELECT event_id, id FROM transition_events WHERE event_id LIKE %s", "load-%"
    ):
        keys["transition"][key].append(str(record))
    for key, record in cluster.sql(
        "SELECT idempotency_key, id FROM navigations WHERE idempotency_key LIKE %s", "load-%"
    ):
        keys["navigation"][key].append(str(record))

    bars_keys = [w.key for w in results.writes if w.kind == "bars"]
    for key, record in cluster.sql(
        "SELECT r.request_id, r.referral_id FROM bars_requests r JOIN referrals f"
        " ON f.id = r.referral_id WHERE r.request_id = ANY(%s)",
        bars_keys,
    ):
        keys["bars"][key].append(str(record))
    # One referral per BaRS message: each message carries its own ServiceRequest.
    referred_twice = cluster.sql(
        "SELECT service_request_id, count(*) FROM bars_referrals GROUP BY 1 HAVING count(*) > 1"
    )
    assert not referred_twice, f"BaRS ServiceRequests referred more than once: {referred_twice}"

    lost = [
        w
        for w in results.acknowledged()
        if not keys[w.kind].get(w.key)
        or (w.record_id is not None and w.record_id not in keys[w.kind][w.key])
    ]
    assert not lost, f"acknowledged but not in the database: {lost[:5]}"
    for kind in ("navigation", "referral", "transition", "bars"):
        twice = {k: ids for k, ids in keys[kind].items() if len(ids) != 1}
        assert not twice, f"{kind}s stored more than once for one key: {twice}"
    # A write sent by this client that was never acknowledged may be stored (its answer was
    # lost) but never more than once: already checked above for every stored key.
    names = {"navigation": "navigations", "referral": "referrals", "transition": "transitions"}
    return {f"{names.get(kind, 'BaRS referrals')} stored": len(ids) for kind, ids in keys.items()}


def assert_clean_answers(results: Results) -> None:
    statuses = results.statuses()
    five_hundreds = [(w.kind, w.detail) for w in results.writes if w.final_status == 500]
    assert statuses[500] == 0, f"500s: {statuses}; {five_hundreds}"
    assert not results.not_problem_json(), results.not_problem_json()[:5]
    unavailable = [a for a in results.answers if a.status == 503]
    assert all(a.retry_after for a in unavailable), "a 503 without Retry-After"
    failed = results.failed()
    assert not failed, (
        f"writes never acknowledged: {[(w.kind, w.final_status, w.detail) for w in failed[:5]]}"
    )


def report(name: str, results: Results, **figures: object) -> None:
    load = os.getloadavg()[0]
    extra = ", ".join(f"{k} {v}" for k, v in figures.items())
    print(f"\n[{name}] {results.summary()}; {extra}; load average {load:.1f}")


def test_postgresql_restarted_under_load_loses_nothing(
    whole_cluster: Cluster, integrator_key: str
) -> None:
    cluster = whole_cluster
    client = load_client(cluster, integrator_key)
    client.start()
    recovered_in: list[float] = []
    try:
        acknowledged_after(client.results, 0.0, 10, timeout=60)
        for _ in range(FAULTS):
            cluster.pg_stop()
            down_at = client.elapsed()
            time.sleep(PG_DOWN_SECONDS)
            up_at = client.elapsed()
            cluster.pg_start()
            during = [a for a in list(client.results.answers) if down_at + 1 < a.at < up_at]
            assert during, "no request was answered while PostgreSQL was down"
            assert {a.status for a in during} == {503}, Counter(a.status for a in during)
            assert all(a.content_type.startswith(PROBLEM_JSON) and a.retry_after for a in during)
            acknowledged_after(client.results, up_at, 10, timeout=60)
            first = min(a.at for a in client.results.answers if a.at > up_at and a.status < 300)
            recovered_in.append(round(first - up_at, 1))
            time.sleep(AFTER_FAULT / 2)
    finally:
        if not os.path.exists(cluster.pg_dir / "data" / "postmaster.pid"):
            cluster.pg_start()  # leave the cluster whole for the tests after this one
        results = client.stop()

    assert_clean_answers(results)
    stored = assert_nothing_lost(cluster, results)
    # Every node serves again without a restart, and neither scheduler died.
    for url in cluster.node_urls:
        assert cluster.healthy(url), url
    for number in (1, 2):
        pid = cluster.pid(f"scheduler{number}")
        assert os.path.exists(f"/proc/{pid}"), cluster.log_tail(f"scheduler{number}.log")
    statuses = results.statuses()
    report(
        "PostgreSQL restarted",
        results,
        **{"503s": statuses[503], "first acknowledged after restart (s)": recovered_in},
        **stored,
    )


def test_a_web_node_killed_under_load_loses_nothing(
    whole_cluster: Cluster, integrator_key: str
) -> None:
    """Runs last (conftest orders it): the node killed last is left dead, and the session's
    end stops the rest; a test after it restarts the node (`whole_cluster`)."""
    cluster = whole_cluster
    client = load_client(cluster, integrator_key)
    client.start()
    routed_around: list[float] = []
    try:
        acknowledged_after(client.results, 0.0, 10, timeout=60)
        for fault in range(FAULTS):
            node = 1 + fault % len(cluster.node_urls)
            killed_at = client.elapsed()
            cluster.kill_node(node)
            # The balancer routes around it: writes keep being acknowledged after the kill.
            acknowledged_after(client.results, killed_at, 10, timeout=30)
            time.sleep(AFTER_FAULT)
            answers = [a for a in list(client.results.answers) if a.at > killed_at]
            trouble = [a.at for a in answers if a.status == 0 or a.status >= 500]
            routed_around.append(round(max(trouble) - killed_at, 1) if trouble else 0.0)
            # After a few seconds no attempt fails: no connection error and no 5xx in the
            # last half. (425 is BaRS telling the retry of a message the dead node had
            # claimed to wait for the claim's lease: the protocol, not a failure.)
            late = [a for a in answers if a.at > killed_at + AFTER_FAULT / 2]
            assert late and all(0 < a.status < 500 for a in late), Counter(a.status for a in late)
            if fault + 1 < FAULTS:  # it rejoins: the balancer puts it back (rise 2)
                cluster.ensure_whole()
    finally:
        results = client.stop()
    assert_clean_answers(results)
    stored = assert_nothing_lost(cluster, results)
    report(
        "node killed",
        results,
        **{"last failed attempt after each kill (s)": routed_around},
        **stored,
    )
