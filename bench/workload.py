"""The load benchmark's workload: what each simulated client sends, and what it expects back.

Kept free of Locust so that `tests/bench/test_load_workload.py` can send the very same
requests through the Flask test client (the suite does not install Locust). `bench/load.py`
writes a `Plan` (API keys, service ids) as JSON; `bench/locustfile.py` gives each simulated
user a `Workload` over it.

The mix (issue 18 §5): 70% directory searches, 20% navigations, 5% referrals with an
`Idempotency-Key`, 5% capacity updates by a provider. Every request has one expected status;
anything else is an error (no 4xx is expected: the bodies are valid by construction, and the
test above proves it).
"""

from __future__ import annotations

import csv
import json
import random
import string
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

from navigator.core.identifiers import normalise_nhs_number
from navigator.core.places import load_gazetteer, parse_postcode
from navigator.core.vocabulary import load_vocabulary

DATA_DIR = Path(__file__).resolve().parent.parent / "directory_of_services"

# Request kinds and their weights (per cent of all requests).
MIX = {"search": 70, "navigation": 20, "referral": 5, "capacity": 5}
# A referral task re-sends its previous referral (same key, same body) this often: a client
# retrying after a lost answer, which must get the original back with 200, not a second record.
RETRY_SHARE = 0.1
EXPECTED_STATUS = {
    "search": 200,
    "navigation": 201,
    "referral": 201,
    "referral retry": 200,
    "capacity": 200,
}
DIRECTORIES = ("synthetic", "blmk")

# A postcode's inward letters are never C, I, K, M, O or V (as navigator.directory.synth).
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
# Real BLMK postcodes (GP surgeries, hospitals, town centres) as bench/common.py uses.
BLMK_POSTCODES = (
    "MK42 9DJ",
    "MK40 1AA",
    "LU4 0DZ",
    "LU1 2BQ",
    "MK6 5LD",
    "MK9 3EJ",
    "SG18 8AA",
    "LU5 5AA",
    "MK45 2AB",
)
SEARCH_TERMS = ("falls", "GP", "UCR", "carers", "memory", "pharmacy", "crisis", "befriending")
URGENCIES = ("urgent", "same_day", "within_72h", "routine")
FIRST_NAMES = ("Ada", "Bert", "Cyril", "Doris", "Edna", "Frank", "Gladys", "Harold", "Irene")
SURNAMES = ("Example", "Sample", "Testcase", "Loadrun", "Benchley")


@dataclass(frozen=True)
class Provider:
    """A provider API key and the services of its organisation it may update."""

    ods_code: str
    key: str
    service_ids: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    """What a run needs from the deployment, made by `bench/load.py`.

    `directory` is "synthetic" (postcodes spread over England) or "blmk" (BLMK postcodes);
    `referral_services` are active, classified service ids (a referral to anything else is a
    422); `providers` each carry a key for one organisation and that organisation's services.
    """

    directory: str
    integrator_key: str
    providers: tuple[Provider, ...]
    referral_services: tuple[str, ...]
    seed: int = 2026
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    @classmethod
    def from_json(cls, text: str) -> Plan:
        raw = json.loads(text)
        providers = tuple(
            Provider(p["ods_code"], p["key"], tuple(p["service_ids"])) for p in raw["providers"]
        )
        return cls(
            directory=raw["directory"],
            integrator_key=raw["integrator_key"],
            providers=providers,
            referral_services=tuple(raw["referral_services"]),
            seed=raw.get("seed", 2026),
            extra=raw.get("extra", {}),
        )


@dataclass(frozen=True)
class Request:
    """One HTTP request of the workload: `kind` names it in the results (and its expected
    status, `EXPECTED_STATUS[kind]`); `path` includes no query string, `query` is separate."""

    kind: str
    method: str
    path: str
    headers: dict[str, str]
    query: dict[str, str] | None = None
    body: dict[str, Any] | None = None

    @property
    def expected_status(self) -> int:
        return EXPECTED_STATUS[self.kind]


def _inward(rng: random.Random) -> str:
    return rng.choice(string.digits[1:]) + "".join(rng.choices(INWARD_LETTERS, k=2))


def england_postcodes(rng: random.Random, count: int, data_dir: Path = DATA_DIR) -> list[str]:
    """`count` full postcodes over England's postcode areas in proportion to population,
    each in a district of its area (`places/postcode_areas.csv`): where the synthetic
    directory (`navigator directory synth`) puts its services, so each search has real work.
    A district the gazetteer puts in Wales or Scotland (CH5-CH8, most of TD) is drawn again."""
    gazetteer = load_gazetteer(str(data_dir))
    with (data_dir / "places" / "postcode_areas.csv").open(newline="") as fh:
        areas = [
            (r["area"], int(r["districts"]), int(r["population_weight"]))
            for r in csv.DictReader(fh)
        ]
    weights = [a[2] for a in areas]
    postcodes: list[str] = []
    while len(postcodes) < count:
        area, districts, _ = rng.choices(areas, weights=weights)[0]
        postcode = parse_postcode(f"{area}{rng.randint(1, max(1, districts))} {_inward(rng)}")
        if postcode is not None and gazetteer.nation_of(postcode) == "england":
            postcodes.append(postcode.text)
    return postcodes


def blmk_postcodes(rng: random.Random, count: int, data_dir: Path = DATA_DIR) -> list[str]:
    """`count` full postcodes in BLMK's districts (`places/postcode_districts.csv`, the rows
    with a place), plus the real ones in BLMK_POSTCODES."""
    gazetteer = load_gazetteer(str(data_dir))
    districts = sorted(d for d, (place, _, _) in gazetteer.districts.items() if place)
    return list(BLMK_POSTCODES) + [
        f"{rng.choice(districts)} {_inward(rng)}" for _ in range(count - len(BLMK_POSTCODES))
    ]


@lru_cache(maxsize=4)
def postcode_pool(directory: str, seed: int, data_dir: Path = DATA_DIR) -> tuple[str, ...]:
    """The postcodes callers give, made once per process (every simulated client draws from
    the same pool): 2,000 over England plus the real BLMK ones for the synthetic directory,
    500 in BLMK for the BLMK one."""
    rng = random.Random(seed)
    if directory == "synthetic":
        return (*england_postcodes(rng, 2000, data_dir), *BLMK_POSTCODES)
    return tuple(blmk_postcodes(rng, 500, data_dir))


def synthetic_nhs_number(rng: random.Random) -> str:
    """A valid NHS number (modulus 11, checked by the nhs_number library through navigator)
    in the 999 range NHS England sets aside for testing."""
    while True:
        candidate = "999" + "".join(rng.choices(string.digits, k=7))
        if normalise_nhs_number(candidate) == candidate:
            return candidate


@lru_cache(maxsize=4)
def nhs_number_pool(seed: int) -> tuple[str, ...]:
    """200 test-range NHS numbers shared by every client: returning patients."""
    rng = random.Random(seed)
    return tuple(synthetic_nhs_number(rng) for _ in range(200))


def _age(rng: random.Random) -> int:
    """Callers to a care-navigation hub are mostly older people."""
    band = rng.random()
    if band < 0.6:
        return rng.randint(65, 99)
    if band < 0.9:
        return rng.randint(18, 64)
    return rng.randint(0, 17)


class Workload:
    """One simulated client's stream of requests (not thread-safe: one per Locust user).

    `next_request()` draws a kind by MIX and builds its request; `observe()` takes the
    answer, so a referral can follow up a navigation this client made (as a navigator
    refers a caller to the service just recommended).
    """

    def __init__(
        self,
        plan: Plan,
        rng: random.Random,
        data_dir: Path = DATA_DIR,
        *,
        retry_share: float = RETRY_SHARE,
    ) -> None:
        if plan.directory not in DIRECTORIES:
            raise ValueError(f"directory must be one of {DIRECTORIES}")
        self.plan, self.rng, self.retry_share = plan, rng, retry_share
        vocab = load_vocabulary(str(data_dir))
        self.needs = list(vocab.codes("needs"))
        self.roles = list(vocab.codes("caller_roles"))
        self.red_flags = list(vocab.codes("red_flags"))
        self.postcodes = postcode_pool(plan.directory, plan.seed, data_dir)
        self.nhs_numbers = nhs_number_pool(plan.seed)
        self.referable = set(plan.referral_services)
        # (navigation id, recommended service id) not yet referred; newest last.
        self.recommended: list[tuple[str, str]] = []
        self.last_referral: Request | None = None
        self._kinds, self._weights = zip(*MIX.items(), strict=True)

    @property
    def integrator(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.plan.integrator_key}"}

    def next_request(self) -> Request:
        kind = self.rng.choices(self._kinds, weights=self._weights)[0]
        build: Callable[[], Request] = getattr(self, kind)
        return build()

    def search(self) -> Request:
        """A directory search: always postcode + need, the filters a navigator adds often."""
        rng = self.rng
        query = {"postcode": rng.choice(self.postcodes), "need": rng.choice(self.needs)}
        if rng.random() < 0.5:
            query["open_now"] = "true"
        if rng.random() < 0.5:
            query["age"] = str(_age(rng))
        if rng.random() < 0.4:
            query["caller_role"] = rng.choice(self.roles)
        if rng.random() < 0.15:
            query["sex"] = rng.choice(("female", "male"))
        if rng.random() < 0.05:
            query["q"] = rng.choice(SEARCH_TERMS)
        if rng.random() < 0.3:
            query["per_page"] = "10"
        return Request("search", "GET", "/api/v1/services", self.integrator, query=query)

    def navigation(self) -> Request:
        """A call to route; 3% name a red flag (always 201 emergency)."""
        rng = self.rng
        role = rng.choice(self.roles)
        body: dict[str, Any] = {
            "caller_role": role,
            "need": rng.choice(self.needs),
            "age": _age(rng),
            "sex": rng.choice(("female", "male", "unknown")),
            "postcode": rng.choice(self.postcodes),
            "lives_in_care_home": role == "care_home",
            "case_ref": f"load-{rng.randrange(10**9)}",
        }
        if rng.random() < 0.03:
            body["red_flags"] = [rng.choice(self.red_flags)]
        return Request("navigation", "POST", "/api/v1/navigations", self.integrator, body=body)

    def referral(self) -> Request:
        """A referral with a fresh `Idempotency-Key`, to the service this client's last
        navigation recommended when it may take one, else to any referable service; or, one
        time in ten, the previous referral sent again as a client's retry."""
        rng = self.rng
        if self.last_referral is not None and rng.random() < self.retry_share:
            retry = self.last_referral
            self.last_referral = None  # retried once
            return Request("referral retry", "POST", retry.path, retry.headers, body=retry.body)
        body: dict[str, Any] = {
            "reason": "Load benchmark referral",
            "urgency": rng.choice(URGENCIES),
            "consent": True,
        }
        if self.recommended:
            body["navigation_id"], body["service_id"] = self.recommended.pop()
        else:
            body["service_id"] = rng.choice(self.plan.referral_services)
        age = _age(rng)
        patient: dict[str, Any] = {
            "name": f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}",
            "date_of_birth": (date(2026, 6, 1) - timedelta(days=365 * age + 100)).isoformat(),
            "postcode": rng.choice(self.postcodes),
        }
        if rng.random() < 0.5:  # returning patients: a small pool of numbers
            patient["nhs_number"] = rng.choice(self.nhs_numbers)
        body["patient"] = patient
        # Random, not from `rng`: a key seen in an earlier run against the same database would
        # replay that run's referral (200) or clash with it (409).
        headers = self.integrator | {"Idempotency-Key": f"load-{uuid.uuid4()}"}
        return Request("referral", "POST", "/api/v1/referrals", headers, body=body)

    def capacity(self) -> Request:
        """A provider reports a service's capacity: mostly green, sometimes amber, rarely red."""
        rng = self.rng
        provider = rng.choice(self.plan.providers)
        service_id = rng.choice(provider.service_ids)
        status = rng.choices(("green", "amber", "red"), weights=(6, 3, 1))[0]
        body: dict[str, Any] = {"status": status, "note": "Load benchmark update"}
        if status != "green":
            body["reset_after_minutes"] = 60
        return Request(
            "capacity",
            "PUT",
            f"/api/v1/services/{service_id}/capacity",
            {"Authorization": f"Bearer {provider.key}"},
            body=body,
        )

    def observe(self, request: Request, status: int, answer: Any) -> None:
        """Remember a referral that was made (a later retry sends it again), and a
        navigation's recommended service for a later referral: only a directory service
        that takes referrals, not a 999/111 fallback."""
        if request.kind == "referral":
            self.last_referral = request if status == request.expected_status else None
        if request.kind != "navigation" or status != 201 or not isinstance(answer, dict):
            return
        recommendation = answer.get("recommendation") or {}
        service_id = (recommendation.get("service") or {}).get("id")
        if service_id in self.referable and recommendation.get("fallback") is None:
            self.recommended = [*self.recommended[-4:], (answer["id"], service_id)]


def plan_services(
    conn: Connection, providers: int
) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """From the deployment's database (the API lists no whole directory): the active,
    classified service ids (a referral to any other is a 422), and the `providers`
    organisations with an ODS code and the most active services, each with those ids."""
    referable = list(
        conn.scalars(
            text(
                "SELECT id FROM services WHERE status = 'active' "
                "AND service_type <> 'unclassified' ORDER BY id"
            )
        )
    )
    by_ods: dict[str, list[str]] = {}
    rows = conn.execute(
        text(
            "SELECT o.ods_code, s.id FROM services s JOIN organisations o "
            "ON o.id = s.organisation_id WHERE o.ods_code IS NOT NULL AND s.status = 'active' "
            "ORDER BY s.id"
        )
    )
    for ods, service_id in rows:
        by_ods.setdefault(ods, []).append(service_id)
    biggest = sorted(by_ods.items(), key=lambda item: (-len(item[1]), item[0]))
    return referable, biggest[:providers]


def postcodes_resolve(postcodes: list[str], data_dir: Path = DATA_DIR) -> list[str]:
    """The postcodes navigator would refuse, or place outside England (want: none)."""
    gazetteer = load_gazetteer(str(data_dir))
    bad = []
    for postcode in postcodes:
        parsed = parse_postcode(postcode, allow_outward=False)
        if parsed is None or gazetteer.locate(parsed).nation != "england":
            bad.append(postcode)
    return bad
