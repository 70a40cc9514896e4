"""A synthetic England-wide directory for benchmarks (`navigator directory synth`).

Services are spread over England's postcode areas in proportion to population, with a
realistic mix of service types, eligibility, coverage radii and opening patterns. It is
not real data and is never loaded outside benchmarks.
"""

from __future__ import annotations

import csv
import random
import string
from pathlib import Path
from typing import Any

from navigator.core.places import load_gazetteer
from navigator.core.vocabulary import load_vocabulary

ALL_ROLES = ["care_home", "nhs111", "professional", "public", "relative"]
PROFESSIONAL_ROLES = ["care_home", "nhs111", "professional"]
WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday")
# A postcode's inward letters are never C, I, K, M, O or V (`navigator.core.identifiers`).
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"

OPENING_PATTERNS: list[tuple[float, dict[str, Any]]] = [
    (0.2, {"open_all_hours": True}),
    (0.35, {"weekly": {d: [["08:00", "18:30"]] for d in WEEKDAY_NAMES}}),
    (
        0.25,
        {
            "weekly": {d: [["08:00", "20:00"]] for d in (*WEEKDAY_NAMES, "saturday", "sunday")},
            "bank_holidays": [["08:00", "20:00"]],
        },
    ),
    (
        0.1,
        {
            "weekly": {d: [["09:00", "12:30"], ["13:30", "17:00"]] for d in WEEKDAY_NAMES},
            "specified_dates": [{"date": "2026-12-25", "closed": True}],
        },
    ),
    (
        0.1,
        {
            "weekly": {d: [["18:30", "08:00"]] for d in (*WEEKDAY_NAMES, "saturday", "sunday")},
            "bank_holidays": [["00:00", "24:00"]],
        },
    ),
]


def _areas(data_dir: str) -> list[tuple[str, float, float, int, int]]:
    with (Path(data_dir) / "places" / "postcode_areas.csv").open(newline="") as fh:
        return [
            (
                row["area"],
                float(row["lat"]),
                float(row["lng"]),
                max(1, int(row["districts"])),
                max(1, int(row["population_weight"])),
            )
            for row in csv.DictReader(fh)
        ]


def synthesise(count: int, *, seed: int, data_dir: str) -> dict[str, Any]:
    rng = random.Random(seed)
    vocab = load_vocabulary(data_dir)
    gazetteer = load_gazetteer(data_dir)
    areas = _areas(data_dir)
    weights = [a[4] for a in areas]
    types = list(vocab.codes("service_types"))
    needs = list(vocab.codes("needs"))
    patterns, pattern_weights = zip(*[(p, w) for w, p in OPENING_PATTERNS], strict=True)
    org_count = max(1, count // 40)
    organisations = [
        {
            "id": f"synth-org-{i:05d}",
            "name": f"Synthetic Provider {i:05d}",
            "ods_code": f"S{i:05d}",
            "sector": rng.choice(vocab.codes("sectors")),
        }
        for i in range(org_count)
    ]
    services = []
    for i in range(count):
        area, lat, lng, districts, _ = rng.choices(areas, weights)[0]
        district = f"{area}{rng.randint(1, districts)}"
        inward = rng.choice(string.digits[1:]) + "".join(rng.choices(INWARD_LETTERS, k=2))
        postcode = f"{district} {inward}"
        lat += rng.uniform(-0.15, 0.15)
        lng += rng.uniform(-0.2, 0.2)
        place = gazetteer.districts.get(district, (None,))[0]
        service_type = rng.choice(types)
        adult = rng.random() < 0.6
        services.append(
            {
                "id": f"synth-{i:06d}",
                "organisation": organisations[i % org_count]["id"],
                "name": f"{vocab.label('service_types', service_type)} {district} #{i}",
                "description": f"Synthetic {vocab.label('service_types', service_type)} service.",
                "service_type": service_type,
                "sector": vocab.terms["service_types"][service_type].extra.get(
                    "sector", "community"
                ),
                "needs": rng.sample(needs, rng.randint(1, 4)),
                "status": "active" if rng.random() < 0.97 else "temporarily_closed",
                "eligibility": {
                    "min_age_days": 6575 if adult else 0,
                    "max_age_days": None,
                    "sex": "any",
                    "caller_roles": ALL_ROLES if rng.random() < 0.7 else PROFESSIONAL_ROLES,
                },
                "coverage": {
                    "places": [place] if place else [],
                    "postcode_districts": [district],
                    "radius_km": float(rng.choice([5, 10, 15, 20, 30])),
                },
                "locations": [
                    {
                        "name": None,
                        "address": f"{i} Synthetic Street",
                        "postcode": postcode,
                        "lat": round(lat, 5),
                        "lng": round(lng, 5),
                    }
                ],
                "contact": {"public_phone": f"01632 960{i % 1000:03d}"},
                "referral": {"method": "phone", "info": "Synthetic: phone the professional line."},
                "opening": rng.choices(patterns, pattern_weights)[0],
                "assured_at": "2026-10-01T09:00:00Z",
                "assured_by": "synthetic",
            }
        )
    return {"format": "navigator-directory/1", "organisations": organisations, "services": services}
