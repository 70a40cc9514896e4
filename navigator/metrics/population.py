"""Population denominators from a versioned data file (source and year travel with them)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

BLMK_PLACES = ("bedford", "central_bedfordshire", "luton", "milton_keynes")


@dataclass(frozen=True)
class Population:
    source: str
    year: int
    all_ages: dict[str, int]  # place (and "blmk") -> people
    aged_18_plus: dict[str, int]


@lru_cache(maxsize=4)
def load_population(path: str) -> Population:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    places = data["places"]
    missing = set(BLMK_PLACES) - set(places)
    if missing:
        raise ValueError(f"{path}: no population for {sorted(missing)}")
    all_ages = {p: int(places[p]["all_ages"]) for p in BLMK_PLACES}
    adults = {p: int(places[p]["aged_18_plus"]) for p in BLMK_PLACES}
    all_ages["blmk"], adults["blmk"] = sum(all_ages.values()), sum(adults.values())
    return Population(str(data["source"]), int(data["year"]), all_ages, adults)
