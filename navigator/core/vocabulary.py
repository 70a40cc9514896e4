"""Controlled vocabulary (sectors, service types, needs, red flags, caller roles, places).

The terms live as data in `directory_of_services/vocabulary/*.yaml` so commissioners can
extend them without code; every loader and API checks values against them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

SCHEMES = ("sectors", "service_types", "needs", "red_flags", "caller_roles", "places")
# The service type of a service kept from another directory whose own categories map to no
# navigator type (issue 15): searchable and published, never routed to (hazard H30).
UNCLASSIFIED = "unclassified"
STATUSES = ("active", "temporarily_closed", "defunct")
SEXES = ("any", "female", "male")
PATIENT_SEXES = ("female", "male", "other", "unknown")
REFERRAL_METHODS = ("phone", "email", "online", "walk_in", "bars", "ers", "self_referral")
# How soon a caller should be seen, most urgent first: what a rule recommends, what a referral
# and a navigation carry, what the follow-up plan and the CISP metrics count by.
URGENCIES = ("emergency", "urgent", "same_day", "within_72h", "routine")


@dataclass(frozen=True)
class Term:
    scheme: str
    code: str
    label: str
    description: str
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Vocabulary:
    terms: dict[str, dict[str, Term]]

    def codes(self, scheme: str) -> tuple[str, ...]:
        return tuple(self.terms[scheme])

    def has(self, scheme: str, code: str) -> bool:
        return code in self.terms[scheme]

    def label(self, scheme: str, code: str) -> str:
        term = self.terms[scheme].get(code)
        return term.label if term else code


def _load_scheme(path: Path) -> dict[str, Term]:
    data = yaml.safe_load(path.read_text())
    scheme = data["scheme"]
    terms: dict[str, Term] = {}
    for raw in data["terms"]:
        raw = dict(raw)
        code = raw.pop("code")
        if code in terms:
            raise ValueError(f"{path}: duplicate term {code!r}")
        terms[code] = Term(scheme, code, raw.pop("label"), raw.pop("description", ""), raw)
    return terms


@lru_cache(maxsize=4)
def load_vocabulary(data_dir: str) -> Vocabulary:
    folder = Path(data_dir) / "vocabulary"
    terms = {scheme: _load_scheme(folder / f"{scheme}.yaml") for scheme in SCHEMES}
    return Vocabulary(terms)
