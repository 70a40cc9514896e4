"""How the console orders and names the Flags that came with a BaRS referral
(navigator.bars.shown, issue 16): safeguarding first, then reasonable adjustments, then the
rest, each group in the order received; and no flag is ever dropped, whatever shape the
stored entry has (the hazard is a flag not shown). The pages themselves are tested in
tests/console/test_bars_flags.py."""

from __future__ import annotations

from navigator.bars.shown import ShownFlag, shown_flags


def test_safeguarding_first_then_adjustments_then_others_in_received_order() -> None:
    flags = [
        {"category": "other", "code": "o1", "display": "Other one", "text": None},
        {"category": "reasonable_adjustment", "code": "r1", "display": "Adjust one", "text": "a"},
        {"category": "safeguarding", "code": "s1", "display": "Guard one", "text": "s"},
        {"category": "reasonable_adjustment", "code": "r2", "display": "Adjust two", "text": ""},
        {"category": "safeguarding", "code": "s2", "display": "Guard two", "text": None},
    ]
    assert [(f.category, f.title) for f in shown_flags(flags)] == [
        ("safeguarding", "Guard one"),
        ("safeguarding", "Guard two"),
        ("reasonable_adjustment", "Adjust one"),
        ("reasonable_adjustment", "Adjust two"),
        ("other", "Other one"),
    ]


def test_title_falls_back_to_code_then_category_and_blank_text_is_none() -> None:
    assert shown_flags(
        [
            {"category": "safeguarding", "code": "SG1", "display": "  ", "text": "  "},
            {"category": "reasonable_adjustment"},
        ]
    ) == [
        ShownFlag("safeguarding", "SG1", None, "SG1"),
        ShownFlag("reasonable_adjustment", "Reasonable adjustment", None, None),
    ]


def test_unknown_categories_and_odd_entries_are_shown_as_other_flags() -> None:
    shown = shown_flags(
        [
            {"category": "SAFEGUARDING", "display": "Upper case is not ours", "text": "t"},
            {"display": "No category"},
            "a bare string",
            {"category": "other", "display": 42, "text": ["x"]},
        ]
    )
    assert [(f.category, f.category_label, f.title, f.text) for f in shown] == [
        ("other", "Other flag", "Upper case is not ours", "t"),
        ("other", "Other flag", "No category", None),
        ("other", "Other flag", "Other flag", "a bare string"),
        ("other", "Other flag", "42", "['x']"),
    ]
