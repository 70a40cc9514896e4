"""Concurrent retries of one BaRS message (issue 16 §1: "a repeated X-Request-Id → 409,
including under concurrent retries"): eight threads released together send the same
X-Request-Id; exactly one referral results, one answer is 200 and the others 409 `duplicate`
or 425 `REC_TOO_EARLY`, never a 5xx. Eight different X-Request-Ids for the same ServiceRequest
also give one referral (409 `duplicate` for the rest). Runs on SQLite and PostgreSQL (threads
on real connections, like tests/patients/test_concurrent_creates.py)."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from navigator.bars.models import BarsReferral, BarsRequest
from navigator.referrals.models import Referral
from tests.fhir.bars_messages import bars_headers, referral
from tests.fhir.test_process_message import URL, bars  # noqa: F401 - the fixture

THREADS = 8


def race(app: Flask, headers_for: Any) -> list[int]:
    barrier = threading.Barrier(THREADS)
    body = json.dumps(referral())

    def one(i: int) -> int:
        client = app.test_client()
        barrier.wait(timeout=30)
        return client.post(URL, data=body, headers=headers_for(i)).status_code

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(one, range(THREADS)))


def test_concurrent_retries_of_one_request_id_make_one_referral(
    app: Flask,
    auth: dict[str, dict[str, str]],
    session: Session,
    bars: None,  # noqa: F811
) -> None:
    headers = bars_headers(auth["integrator"])
    statuses = race(app, lambda _: headers)
    assert statuses.count(200) == 1, statuses
    assert set(statuses) <= {200, 409, 425}, statuses
    assert session.scalar(select(func.count()).select_from(Referral)) == 1
    assert session.scalar(select(func.count()).select_from(BarsReferral)) == 1
    assert session.scalar(select(func.count()).select_from(BarsRequest)) == 1


def test_concurrent_messages_for_one_service_request_make_one_referral(
    app: Flask,
    auth: dict[str, dict[str, str]],
    session: Session,
    bars: None,  # noqa: F811
) -> None:
    headers = [bars_headers(auth["integrator"]) for _ in range(THREADS)]
    statuses = race(app, lambda i: headers[i])
    assert statuses.count(200) == 1, statuses
    assert set(statuses) <= {200, 409}, statuses
    assert session.scalar(select(func.count()).select_from(Referral)) == 1
    # The refused ones released their claims: only the processed message is kept.
    assert session.scalar(select(func.count()).select_from(BarsRequest)) == 1
