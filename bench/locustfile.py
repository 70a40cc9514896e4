"""Locust users for `bench/load.py`: the mixed workload of `bench/workload.py`, paced.

Run by `bench/load.py`, which sets NAVIGATOR_LOAD_PLAN (the plan's JSON file) and
NAVIGATOR_LOAD_RATE (requests per second per user). By hand, against a deployment whose plan
you wrote yourself:

    NAVIGATOR_LOAD_PLAN=plan.json NAVIGATOR_LOAD_RATE=3 .venv/bin/locust -f bench/locustfile.py \
        --headless -u 50 -r 10 --run-time 60s --host http://127.0.0.1:PORT

Each user sends one request per task at a constant throughput, so users × rate is the
offered load for as long as the server answers within 1/rate seconds (a user waits for its
answer before the next). FastHttpUser (geventhttpclient) keeps the client's CPU low.
"""

from __future__ import annotations

import itertools
import json
import os
import random
from pathlib import Path

import gevent
from locust import FastHttpUser, constant_throughput, events, task
from locust.env import Environment
from workload import Plan, Workload  # Locust puts the locustfile's folder on sys.path

PLAN = Plan.from_json(Path(os.environ["NAVIGATOR_LOAD_PLAN"]).read_text())
RATE = float(os.environ.get("NAVIGATOR_LOAD_RATE", "3"))
# Seconds of load after every user has started, before the figures start (the spawn burst,
# new connections and each worker's first requests are not a steady state); then the
# seconds measured, after which Locust stops (its --run-time is only a safety net). The mark
# file is created when measuring starts, so bench/load.py measures CPU over the same window.
WARM_UP = float(os.environ.get("NAVIGATOR_LOAD_WARM_UP", "0"))
MEASURE = float(os.environ.get("NAVIGATOR_LOAD_MEASURE", "0"))
MARK = os.environ.get("NAVIGATOR_LOAD_MARK")
_user_numbers = itertools.count()


@events.spawning_complete.add_listener
def _measure_after_warm_up(user_count: int, **_: object) -> None:
    environment = Client.environment_ref

    def start() -> None:
        environment.stats.reset_all()
        if MARK:
            Path(MARK).touch()
        if MEASURE > 0 and environment.runner is not None:
            gevent.spawn_later(MEASURE, environment.runner.quit)

    gevent.spawn_later(WARM_UP, start)


@events.init.add_listener
def _keep_environment(environment: Environment, **_: object) -> None:
    Client.environment_ref = environment


class Client(FastHttpUser):
    """One API client: draws a request from the mix, sends it, checks its status."""

    environment_ref: Environment
    wait_time = constant_throughput(RATE)
    # Generous: a slow answer must count as slow, not as a client-side timeout.
    connection_timeout = 30.0
    network_timeout = 60.0

    def on_start(self) -> None:
        self.workload = Workload(PLAN, random.Random(PLAN.seed * 1000 + next(_user_numbers)))

    @task
    def one_request(self) -> None:
        request = self.workload.next_request()
        with self.client.request(
            request.method,
            request.path,
            params=request.query,
            json=request.body,
            headers=request.headers,
            name=request.kind,
            catch_response=True,
        ) as response:
            status = response.status_code
            answer = None
            if request.kind == "navigation" and status == 201:
                answer = json.loads(response.content or b"null")
            self.workload.observe(request, status, answer)
            if status != request.expected_status:
                detail = (response.text or "")[:200]
                response.failure(f"{status} (expected {request.expected_status}): {detail}")
            else:
                response.success()
