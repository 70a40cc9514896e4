"""Benchmark: the full-year, all-places CISP dashboard on a year of BLMK events.

About 1,000,000 transitions of care and 5,000 DTOC episodes (with their delayed days) are
bulk-inserted for 2025 across the four places (and some out of area), then
GET /api/v1/metrics/cisp?from=2025-01&to=2025-12 is timed through the full stack.
Target (issue 5): under 2 s on PostgreSQL and on SQLite.

    .venv/bin/python bench/metrics.py [--transitions 1000000] [--episodes 5000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import random
import time
import uuid
from datetime import UTC, datetime, timedelta

from common import fresh_app, summary, timed
from sqlalchemy import insert

from navigator.auth.keys import create_api_client
from navigator.core.clock import local_month
from navigator.core.db import transaction
from navigator.core.extensions import current_session
from navigator.patients.models import Patient
from navigator.transitions.dtoc import REASONS, RESPONSIBLE, delayed_midnights
from navigator.transitions.models import DtocDay, DtocEpisode, DtocInterval, TransitionEvent
from navigator.transitions.service import TYPES

PLACES = ["bedford", "central_bedfordshire", "luton", "milton_keynes", None]
PLACE_WEIGHTS = [18, 30, 22, 28, 2]
# Relative volumes of each transition type in a BLMK year (A&E dominates).
TYPE_WEIGHTS = dict(zip(TYPES, [45, 20, 20, 8, 4, 3], strict=True))
START = datetime(2025, 1, 1, tzinfo=UTC)
BATCH = 20_000


def populate(transitions: int, episodes: int, seed: int = 5) -> None:
    rng = random.Random(seed)
    session = current_session()
    patients = max(1, transitions // 5)
    now = datetime.now(UTC)
    patient_places = rng.choices(PLACES, PLACE_WEIGHTS, k=patients)
    for start in range(0, patients, BATCH):
        session.execute(
            insert(Patient),
            [
                {
                    "id": f"p{i}",
                    "name": "Synthetic",
                    "sex": "unknown",
                    "place": patient_places[i],
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(start, min(start + BATCH, patients))
            ],
        )
    for start in range(0, transitions, BATCH):
        rows = []
        for i in range(start, min(start + BATCH, transitions)):
            patient = rng.randrange(patients)
            kind = rng.choices(TYPES, list(TYPE_WEIGHTS.values()))[0]
            occurred = START + timedelta(seconds=rng.randrange(365 * 86400))
            admission = kind == "nel_admission"
            rows.append(
                {
                    "id": str(uuid.UUID(int=rng.getrandbits(128))),
                    "client_id": "bench",
                    "event_id": f"t{i}",
                    "request_hash": "-",
                    "type": kind,
                    "occurred_at": occurred,
                    "local_month": local_month(occurred),
                    "patient_id": f"p{patient}",
                    "place": patient_places[patient],
                    "pathway": rng.randint(0, 3) if kind == "discharge" else None,
                    "specialty": rng.choice(["general_medicine", "obstetrics", "oncology", None])
                    if admission
                    else None,
                    "readmission_30d": admission and rng.random() < 0.12,
                    "readmission_excluded": False,
                    "created_at": now,
                    "created_by": "bench",
                }
            )
        session.execute(insert(TransitionEvent), rows)
    days = []
    for i in range(episodes):
        patient = rng.randrange(patients)
        ready = START + timedelta(seconds=rng.randrange(355 * 86400))
        transferred = ready + timedelta(hours=rng.randint(6, 24 * 25))
        ident = f"dtoc{i}"
        reason, responsible, care = (
            rng.choice(REASONS),
            rng.choice(RESPONSIBLE),
            rng.choice(["acute", "non_acute"]),
        )
        session.execute(
            insert(DtocEpisode),
            [
                {
                    "id": ident,
                    "patient_id": f"p{patient}",
                    "provider_ods": "RC9",
                    "care_type": care,
                    "place": patient_places[patient],
                    "clinically_ready_at": ready,
                    "mdt_ready_at": ready,
                    "safe_to_transfer_at": ready,
                    "ready_at": ready,
                    "transferred_at": transferred,
                    "created_at": now,
                    "created_by": "bench",
                }
            ],
        )
        session.execute(
            insert(DtocInterval),
            [
                {
                    "episode_id": ident,
                    "effective_at": None,
                    "reason": reason,
                    "responsible": responsible,
                    "recorded_at": now,
                    "recorded_by": "bench",
                }
            ],
        )
        days += [
            {
                "episode_id": ident,
                "day": day,
                "local_month": day.strftime("%Y-%m"),
                "place": patient_places[patient],
                "care_type": care,
                "reason": reason,
                "responsible": responsible,
            }
            for day, _ in delayed_midnights(ready, transferred)
        ]
    for start in range(0, len(days), BATCH):
        session.execute(insert(DtocDay), days[start : start + BATCH])
    session.commit()
    print(f"  {patients} patients, {transitions} transitions, {episodes} DTOC episodes")
    print(f"  {len(days)} delayed days")


def run(args: argparse.Namespace) -> None:
    app, url = fresh_app(args.database_url)
    backend = url.split(":", 1)[0]
    with app.app_context():
        started = time.perf_counter()
        populate(args.transitions, args.episodes)
        print(f"[{backend}] loaded in {time.perf_counter() - started:.0f} s")
        with transaction(current_session()):
            _, key = create_api_client(current_session(), name="bench", role="navigator")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {key}"}

    def dashboard() -> None:
        response = client.get("/api/v1/metrics/cisp?from=2025-01&to=2025-12", headers=headers)
        assert response.status_code == 200
        assert len(response.json["rows"]) == 72

    print(f"[{backend}] full-year, all-places dashboard: {summary(timed(dashboard, args.runs))}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transitions", type=int, default=1_000_000)
    parser.add_argument("--episodes", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url", default=None)
    run(parser.parse_args())
