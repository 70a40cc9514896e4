"""Rule test cases: facts in, expected urgency and service type out (`<name>.tests.yaml`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from navigator.rules.ruleset import Facts, RuleSet, evaluate

FACT_KEYS = {
    "need",
    "red_flags",
    "caller_role",
    "age_years",
    "age_days",
    "sex",
    "place",
    "at",
    "disposition",
    "lives_in_care_home",
}
EXPECT_KEYS = {"urgency", "service_type", "rule_id"}


@dataclass(frozen=True)
class CaseResult:
    name: str
    passed: bool
    detail: str


def cases_path(ruleset_path: Path) -> Path:
    return ruleset_path.with_name(ruleset_path.stem + ".tests.yaml")


def facts_from(raw: dict[str, Any]) -> Facts:
    unknown = set(raw) - FACT_KEYS
    if unknown:
        raise ValueError(f"unknown facts {sorted(unknown)}")
    return Facts.from_call(
        need=raw.get("need"),
        red_flags=raw.get("red_flags"),
        caller_role=raw.get("caller_role"),
        age_years=float(raw["age_years"]) if "age_years" in raw else None,
        age_days=raw.get("age_days"),
        sex=raw.get("sex"),
        place=raw.get("place"),
        at=datetime.fromisoformat(str(raw["at"]).replace("Z", "+00:00")),
        disposition=raw.get("disposition"),
        lives_in_care_home=raw.get("lives_in_care_home"),
    )


def run_cases(ruleset: RuleSet, path: Path) -> list[CaseResult]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    results = []
    for case in data["cases"]:
        name = case.get("name", "?")
        try:
            expect = case["expect"]
            if set(expect) - EXPECT_KEYS:
                raise ValueError(f"unknown expectations {sorted(set(expect) - EXPECT_KEYS)}")
            decision = evaluate(ruleset, facts_from(case["facts"]))
        except (KeyError, ValueError, LookupError) as exc:
            results.append(CaseResult(name, False, f"invalid case: {exc}"))
            continue
        got = {
            "urgency": decision.rule.then.urgency,
            "service_type": decision.rule.then.service_types[0],
            "rule_id": decision.rule.id,
        }
        wrong = {k: (v, got[k]) for k, v in expect.items() if got[k] != v}
        detail = "; ".join(f"{k}: expected {e!r}, got {g!r}" for k, (e, g) in wrong.items())
        results.append(CaseResult(name, not wrong, detail or f"rule {decision.rule.id}"))
    return results
