"""The shipped BLMK rule set: valid, its own test cases pass, and the mandated behaviours hold."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from navigator.cli import main
from navigator.core.vocabulary import load_vocabulary
from navigator.rules.cases import cases_path, facts_from, run_cases
from navigator.rules.loading import load_ruleset
from navigator.rules.ruleset import RuleSet, evaluate
from tests.conftest import PROJECT_ROOT

RULES = PROJECT_ROOT / "navigator" / "rules" / "rulesets" / "blmk.yaml"
VOCAB = load_vocabulary(str(PROJECT_ROOT / "directory_of_services"))
MONDAY_10 = "2026-11-23T10:00:00Z"


@pytest.fixture(scope="module")
def ruleset() -> RuleSet:
    return load_ruleset(RULES, VOCAB)


def test_every_case_in_the_tests_file_passes(ruleset: RuleSet) -> None:
    results = run_cases(ruleset, cases_path(RULES))
    assert len(results) >= 40
    assert [f"{r.name}: {r.detail}" for r in results if not r.passed] == []


def test_rules_test_cli_prints_the_closing_count() -> None:
    result = CliRunner().invoke(main, ["rules", "test", "--file", str(RULES)])
    assert result.exit_code == 0, result.output
    assert (
        result.output.strip().splitlines()[-1].endswith(" failed") and " 0 failed" in result.output
    )


def decide(ruleset: RuleSet, **facts: object) -> tuple[str, str]:
    decision = evaluate(
        ruleset, facts_from({"caller_role": "relative", "age_years": 50, "at": MONDAY_10} | facts)
    )
    return decision.rule.then.urgency, decision.rule.then.service_types[0]


@pytest.mark.parametrize("need", list(VOCAB.codes("needs")))
@pytest.mark.parametrize("flag", list(VOCAB.codes("red_flags")))
def test_any_red_flag_with_any_need_is_an_ambulance_emergency(
    ruleset: RuleSet, need: str, flag: str
) -> None:
    assert decide(ruleset, need=need, red_flags=[flag]) == ("emergency", "ambulance_999")


def test_mandated_routes(ruleset: RuleSet) -> None:
    assert decide(ruleset, need="mental_health_crisis")[1] == "mental_health_crisis"
    assert decide(ruleset, need="fall_no_injury", lives_in_care_home=True) == (
        "urgent",
        "urgent_community_response",
    )
    assert decide(ruleset, need="fall_no_injury", age_years=65) == (
        "urgent",
        "urgent_community_response",
    )
    assert decide(ruleset, need="wound_or_catheter_care")[1] == "district_nursing"
    assert decide(ruleset, need="loneliness")[1] in ("social_prescribing", "befriending")
    assert decide(ruleset, need="carer_breakdown") == ("urgent", "adult_social_care")
    assert decide(ruleset, need="unwell_needs_gp")[1] == "gp_practice"
    assert decide(ruleset, need="unwell_needs_gp", at="2026-11-23T21:00:00Z")[1] in (
        "gp_access_hub",
        "nhs_111",
    )
    assert decide(ruleset, need="unwell_needs_gp", at="2026-08-31T09:00:00Z")[1] in (
        "gp_access_hub",
        "nhs_111",
    )
    assert decide(ruleset, need="discharge_support")[1] == "discharge_hub"
    assert decide(ruleset, need="safeguarding_concern")[1] == "safeguarding_adults"


def test_carer_breakdown_offers_carers_support_as_the_alternative(ruleset: RuleSet) -> None:
    decision = evaluate(
        ruleset, facts_from({"need": "carer_breakdown", "caller_role": "relative", "at": MONDAY_10})
    )
    assert "carers_support" in decision.rule.then.service_types[1:] + decision.rule.then.fallbacks


def test_every_rule_has_reasoning_reason_and_safety_netting(ruleset: RuleSet) -> None:
    for rule in ruleset.rules:
        assert rule.reasoning and rule.then.reason and rule.then.safety_netting, rule.id


def test_every_need_and_red_flag_is_covered(ruleset: RuleSet, tmp_path: Path) -> None:
    mentioned = set().union(*(r.when.need or set() for r in ruleset.rules))
    assert mentioned == set(VOCAB.codes("needs"))
    assert ruleset.rules[0].when.red_flags == frozenset()  # "any": covers every red flag
