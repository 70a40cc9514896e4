"""The load benchmark's requests (bench/workload.py) are ones the API accepts.

`bench/load.py` counts every answer other than the expected status as an error, so a body
the API refuses would make the benchmark measure 422s. These tests send the workload's own
requests through the Flask test client on the shipped BLMK directory, with keys made as the
benchmark makes them, and check each status; and that a retried referral (same
Idempotency-Key, same body) gives back the one referral. Locust itself is not needed.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bench.workload import (
    MIX,
    Plan,
    Provider,
    Request,
    Workload,
    england_postcodes,
    plan_services,
    postcodes_resolve,
    synthetic_nhs_number,
)
from navigator.core.identifiers import normalise_nhs_number
from navigator.referrals.models import Referral
from tests.builders import api_key_for
from tests.navigation.conftest import load_blmk


def send(client: FlaskClient, request: Request) -> Any:
    return client.open(
        request.path,
        method=request.method,
        query_string=request.query,
        json=request.body,
        headers=request.headers,
    )


def blmk_plan(session: Session) -> Plan:
    load_blmk()
    referable, organisations = plan_services(session.connection(), 3)
    session.commit()  # end the read: the keys are made in their own units of work
    providers = tuple(
        Provider(ods, api_key_for(role="provider", organisation_ods=ods), tuple(ids))
        for ods, ids in organisations
    )
    return Plan("blmk", api_key_for(role="integrator"), providers, tuple(referable))


def test_every_request_of_the_mix_gets_its_expected_status(
    app_ctx: Flask, session: Session, client: FlaskClient
) -> None:
    plan = blmk_plan(session)
    assert len(plan.providers) == 3 and all(p.service_ids for p in plan.providers)
    workload = Workload(plan, random.Random(18))
    kinds: Counter[str] = Counter()
    followed_up = 0
    for _ in range(240):
        request = workload.next_request()
        response = send(client, request)
        assert response.status_code == request.expected_status, (request, response.json)
        workload.observe(request, response.status_code, response.json)
        kinds[request.kind] += 1
        followed_up += bool(request.body and "navigation_id" in request.body)
    # Every kind was sent, searches the most; some referrals followed up this client's calls.
    assert set(MIX) <= set(kinds)
    assert kinds["search"] > kinds["navigation"] > max(kinds["referral"], kinds["capacity"])
    assert followed_up > 0


def test_a_retried_referral_returns_the_one_referral(
    app_ctx: Flask, session: Session, client: FlaskClient
) -> None:
    workload = Workload(blmk_plan(session), random.Random(5), retry_share=1.0)
    first = workload.referral()
    made = send(client, first)
    assert made.status_code == 201
    workload.observe(first, made.status_code, made.json)
    retry = workload.referral()
    assert retry.kind == "referral retry"
    assert retry.headers["Idempotency-Key"] == first.headers["Idempotency-Key"]
    again = send(client, retry)
    assert again.status_code == retry.expected_status == 200
    assert again.json["id"] == made.json["id"]
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Referral)) == 1


def test_postcodes_and_nhs_numbers_are_valid() -> None:
    rng = random.Random(2026)
    postcodes = england_postcodes(rng, 3000)
    assert postcodes_resolve(postcodes) == []
    # Spread over England: most of its 101 postcode areas appear.
    areas = {p.split(" ")[0].rstrip("0123456789") for p in postcodes}
    assert len(areas) > 80
    numbers = [synthetic_nhs_number(rng) for _ in range(200)]
    assert all(normalise_nhs_number(n) == n and n.startswith("999") for n in numbers)
