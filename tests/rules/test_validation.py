"""Rule sets are validated at load: every problem names the file, the rule id and the field."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from navigator.cli import main
from navigator.core.vocabulary import load_vocabulary
from navigator.rules.loading import RuleSetError, build_ruleset
from tests.conftest import PROJECT_ROOT

VOCAB = load_vocabulary(str(PROJECT_ROOT / "directory_of_services"))
NEEDS = list(VOCAB.codes("needs"))


def minimal(**overrides: Any) -> dict[str, Any]:
    """A valid rule set: the red-flag rule, then one catch-all for every need."""
    outcome = {
        "urgency": "routine",
        "service_types": ["nhs_111"],
        "safety_netting": "Call 111.",
        "reason": "r",
    }
    data = {
        "ruleset": "test",
        "version": "1",
        "urgency_windows": {
            "emergency": 0,
            "urgent": 120,
            "same_day": 720,
            "within_72h": 4320,
            "routine": 10080,
        },
        "time_windows": {
            "in_hours": {"days": ["monday"], "from": "08:00", "to": "18:30", "bank_holidays": False}
        },
        "rules": [
            {
                "id": "red-flag-emergency",
                "reasoning": "Red flags are emergencies.",
                "when": {"red_flags": "any"},
                "then": {
                    "urgency": "emergency",
                    "service_types": ["ambulance_999"],
                    "fallbacks": ["emergency_department"],
                    "safety_netting": "Call 999.",
                    "reason": "{red_flags}: call 999.",
                },
            },
            {
                "id": "everything-else",
                "reasoning": "Catch-all.",
                "when": {"need": NEEDS},
                "then": outcome,
            },
        ],
    }
    data.update(overrides)
    return data


def errors_for(data: dict[str, Any]) -> list[str]:
    with pytest.raises(RuleSetError) as caught:
        build_ruleset(data, source="test.yaml", vocab=VOCAB)
    return caught.value.errors


def with_rule(rule: dict[str, Any], at: int = 1) -> dict[str, Any]:
    data = minimal()
    data["rules"].insert(at, rule)
    return data


def rule(id: str, when: dict[str, Any], **then: Any) -> dict[str, Any]:
    base = {
        "urgency": "urgent",
        "service_types": ["urgent_community_response"],
        "safety_netting": "s",
        "reason": "r",
    }
    return {"id": id, "reasoning": "because", "when": when, "then": base | then}


def test_the_minimal_rule_set_is_valid() -> None:
    ruleset = build_ruleset(minimal(), source="test.yaml", vocab=VOCAB)
    assert [r.id for r in ruleset.rules] == ["red-flag-emergency", "everything-else"]


def test_unknown_field_names_file_rule_and_field() -> None:
    errors = errors_for(with_rule(rule("falls", {"need": ["fall_no_injury"], "colour": "red"})))
    assert errors == ["test.yaml: rule falls: when.colour: Unknown field."]


@pytest.mark.parametrize(
    ("when", "then", "field", "text"),
    [
        ({"need": ["levitation"]}, {}, "when.need", "'levitation' is not in the needs vocabulary"),
        (
            {"red_flags": ["hiccups"]},
            {},
            "when.red_flags",
            "'hiccups' is not in the red_flags vocabulary",
        ),
        (
            {"need": ["loneliness"]},
            {"service_types": ["tea_party"]},
            "then.service_types",
            "'tea_party'",
        ),
        ({"need": ["loneliness"], "place": ["london"]}, {}, "when.place", "'london'"),
        ({"need": ["loneliness"], "within": "lunchtime"}, {}, "when.within", "unknown time window"),
        (
            {"need": ["loneliness"], "min_age_years": 65, "max_age_years": 18},
            {},
            "when.max_age_years",
            "never match",
        ),
        (
            {"need": ["loneliness"], "within": "in_hours", "outside": "in_hours"},
            {},
            "when.outside",
            "never hold",
        ),
        ({"need": ["loneliness"]}, {"urgency": "whenever"}, "then.urgency", "Must be one of"),
    ],
)
def test_vocabulary_and_contradictions_are_reported(
    when: dict[str, Any], then: dict[str, Any], field: str, text: str
) -> None:
    errors = errors_for(with_rule(rule("bad", when, **then)))
    assert any(e.startswith(f"test.yaml: rule bad: {field}:") and text in e for e in errors), errors


def test_malformed_time_in_a_window_is_reported() -> None:
    data = minimal(time_windows={"broken": {"days": ["monday"], "from": "8am", "to": "18:30"}})
    assert any("time window broken" in e and "8am" in e for e in errors_for(data))


def test_a_rule_hidden_behind_a_broader_earlier_rule_is_unreachable() -> None:
    data = with_rule(rule("falls-65", {"need": ["fall_no_injury"], "min_age_years": 65}), at=2)
    errors = errors_for(data)
    assert errors == [
        "test.yaml: rule falls-65: when: can never be reached: rule everything-else comes first and matches every call it matches"
    ]


def test_the_more_specific_rule_first_is_fine() -> None:
    data = with_rule(rule("falls-65", {"need": ["fall_no_injury"], "min_age_years": 65}), at=1)
    assert build_ruleset(data, source="t", vocab=VOCAB).rules[1].id == "falls-65"


def test_red_flag_rule_must_come_first_and_send_999() -> None:
    data = minimal()
    data["rules"].reverse()
    assert any("first rule must be 'red_flags: any'" in e for e in errors_for(data))
    weak = minimal()
    weak["rules"][0]["then"]["service_types"] = ["nhs_111"]
    assert any("first rule must be" in e for e in errors_for(weak))


@pytest.mark.parametrize(
    ("position", "reason", "text"),
    [
        (0, "A warning sign was reported.", "must name the flags that fired with {red_flags}"),
        (0, "{red_flags} at {time}.", "the only placeholder is {red_flags}"),
        (1, "{red_flags} for a catch-all.", "{red_flags} needs a red_flags condition"),
    ],
)
def test_a_red_flag_rule_names_its_flags_and_no_other_rule_can(
    position: int, reason: str, text: str
) -> None:
    """Issue 13 §1: the answer names the flag that fired ("Chest pain"), never just "a
    warning sign"; the check is at load, so no rule set can ship without it."""
    data = minimal()
    data["rules"][position]["then"]["reason"] = reason
    assert any(
        e.startswith(f"test.yaml: rule {data['rules'][position]['id']}: then.reason:") and text in e
        for e in errors_for(data)
    ), errors_for(data)


def test_every_need_needs_a_catch_all() -> None:
    data = minimal()
    data["rules"][1]["when"]["need"] = [n for n in NEEDS if n != "bereavement"]
    assert any(
        "need 'bereavement' has no rule that always catches it" in e for e in errors_for(data)
    )


def test_rules_check_cli_reports_errors_and_exits_1(tmp_path: Path) -> None:
    bad = copy.deepcopy(minimal())
    bad["rules"][1]["when"]["need"] = ["levitation"]
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(bad))
    result = CliRunner().invoke(main, ["rules", "check", "--file", str(path)])
    assert result.exit_code == 1
    assert (
        "bad.yaml: rule everything-else: when.need: 'levitation' is not in the needs vocabulary"
        in result.output
    )


def test_the_app_refuses_to_start_with_invalid_rules(tmp_path: Path) -> None:
    from navigator import create_app

    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(minimal(version="")))
    with pytest.raises(RuleSetError):
        create_app({"NAVIGATOR_RULES": str(path), "SQLALCHEMY_DATABASE_URI": "sqlite://"})


@pytest.mark.parametrize(
    ("when", "then", "field"),
    [
        ({"need": ["minor_injury"]}, {"fallbacks": ["emergency_department"]}, "then.fallbacks"),
        (
            {"need": ["mental_health_crisis"]},
            {"fallbacks": ["nhs_111", "emergency_department"]},
            "then.fallbacks",
        ),
        (
            {"need": ["new_confusion"]},
            {"urgency": "same_day", "service_types": ["emergency_department"]},
            "then.service_types",
        ),
    ],
)
def test_a_non_emergency_rule_may_not_fall_back_to_an_emergency_department(
    when: dict[str, Any], then: dict[str, Any], field: str
) -> None:
    """Issue 13 §2 (hazard H29): below `emergency`, A&E is never a fallback, and a rule names
    it only for an NHS 111 disposition; NHS 111 is the non-emergency catch-all."""
    errors = errors_for(with_rule(rule("far-away-ae", when, **then)))
    assert [e for e in errors if f"rule far-away-ae: {field}:" in e], errors
    assert any("emergency_department" in e for e in errors)


def test_a_111_disposition_may_still_send_a_non_emergency_to_the_emergency_department() -> None:
    """Dx03 ("A&E within 4 hours") is 111's own clinical disposition, not a fallback."""
    data = with_rule(
        rule(
            "dx03",
            {"disposition": ["Dx03"]},
            service_types=["emergency_department"],
            fallbacks=["nhs_111"],
        )
    )
    assert [r.id for r in build_ruleset(data, source="t.yaml", vocab=VOCAB).rules][1] == "dx03"


def test_an_emergency_rule_may_fall_back_to_an_emergency_department() -> None:
    data = with_rule(
        rule(
            "under-18-confusion",
            {"need": ["new_confusion"], "max_age_years": 18},
            urgency="emergency",
            service_types=["emergency_department"],
            fallbacks=["ambulance_999"],
        )
    )
    build_ruleset(data, source="t.yaml", vocab=VOCAB)


@pytest.mark.parametrize(
    "then",
    [
        {"service_types": ["unclassified"], "fallbacks": ["nhs_111"]},
        {"service_types": ["befriending"], "fallbacks": ["unclassified"]},
    ],
)
def test_a_rule_may_not_route_to_unclassified_services(then: dict[str, Any]) -> None:
    """Issue 15 §2 (hazard H30): a service kept from another directory with no navigator type
    is never recommended, so no rule may name the `unclassified` type, as a type or a
    fallback."""
    errors = errors_for(with_rule(rule("to-unclassified", {"need": ["loneliness"]}, **then)))
    assert any(
        "rule to-unclassified: then.service_types:" in e and "never routed to" in e for e in errors
    ), errors
