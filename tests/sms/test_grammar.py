"""The reply grammar (navigator.sms.grammar): each documented form of a NEWS2 score and of the
RESTORE2 soft signs, the replies before issue 17 (1, 2, STOP, START, free text), and odd or
hostile input, which must never raise and never be read as a score it does not plainly give.

The score range 0–20 and the thresholds 5 and 7 are NEWS2's (Royal College of Physicians,
National Early Warning Score 2, 2017); the soft signs are RESTORE2's (West Hampshire CCG and
Wessex AHSN)."""

from __future__ import annotations

import pytest

from navigator.sms.grammar import SOFT_SIGNS, ParsedReply, parse_reply, soft_sign_label


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ("1", "well"),
        (" 1. ", "well"),
        ("2", "call_back"),
        ("2!", "call_back"),
        ("stop", "stop"),
        ("STOP", "stop"),
        ("Unsubscribe", "stop"),
        ("start", "start"),
        ("She is fine thanks", "free_text"),
        ("", "free_text"),
        ("5", "free_text"),  # a bare number is no score
    ],
)
def test_the_replies_before_issue_17_read_as_before(body: str, kind: str) -> None:
    assert parse_reply(body) == ParsedReply(kind)


@pytest.mark.parametrize(
    ("body", "score"),
    [
        ("N5", 5),
        ("n5", 5),
        ("N 5", 5),
        ("N=5", 5),
        ("NEWS 5", 5),
        ("news 5", 5),
        ("NEWS5", 5),
        ("NEWS2 5", 5),
        ("news2=5", 5),
        ("NEWS2: 5", 5),
        ("News2 score 6", 6),
        ("NEWS score is 4", 4),
        ("NEWS 2 7", 7),  # "NEWS 2" then a score
        ("NEWS 2", 2),  # NEWS, score 2
        ("NEWS 20", 20),  # never read as NEWS2 0
        ("N0", 0),
        ("N20", 20),
        ("Resident seems ok, N3.", 3),
        ("N5 earlier, now N8", 8),  # several: the highest
        ("Ｎ５", 5),  # full-width letters and digits from a phone keyboard
        ("N5 😷", 5),
    ],
)
def test_each_form_of_a_news2_score_is_read(body: str, score: int) -> None:
    parsed = parse_reply(body)
    assert (parsed.kind, parsed.news2, parsed.note) == ("news2", score, None)


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("N25", "25 is not a NEWS2 score"),
        ("NEWS 21", "21 is not a NEWS2 score"),
        ("news2=99999999999999999999", "999999… is not a NEWS2 score"),
        ("NEWS25", "no space"),  # NEWS2 5 or NEWS 25?
        ("NEWS20", "no space"),  # NEWS2 0 or NEWS 20?
        ("N5 and N30", "30 is not a NEWS2 score"),  # one unreadable: no score is trusted
    ],
)
def test_a_score_out_of_range_or_unclear_is_free_text_with_a_note(body: str, why: str) -> None:
    parsed = parse_reply(body)
    assert parsed.kind == "free_text" and parsed.news2 is None
    assert parsed.note is not None and why in parsed.note
    assert parsed.unclear_score and not parsed.urgent


@pytest.mark.parametrize(
    "body",
    [
        "N٥",  # Arabic-Indic five: not one of the digits 0-9
        "N",
        "NEWS2",  # the name of the score, no score
        "In 5 minutes",  # "n 5" inside a word
        "Seen 5 times",
        "Room 12 is fine",
        "\x00\u202e5N",  # a bidi override and a NUL
    ],
)
def test_no_score_is_read_where_none_is_plainly_given(body: str) -> None:
    parsed = parse_reply(body)
    assert parsed.news2 is None and parsed.kind == "free_text"


def test_very_long_text_is_searched_quickly_and_only_its_first_1600_characters() -> None:
    """A text of spaces after an N once took the score pattern's optional spaces
    polynomial time; whitespace is collapsed first. Past 1600 characters (Twilio's longest
    message, what is stored) nothing is read."""
    import time

    start = time.perf_counter()
    assert parse_reply("N" + " " * 100_000 + "x").kind == "free_text"
    assert parse_reply("a" * 1599 + " N7").news2 is None
    assert parse_reply(("not eating " * 200) + "N7").news2 is None
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize(
    ("body", "signs"),
    [
        ("Not eating", ("not_eating",)),
        ("She's not eating and is more sleepy today", ("not_eating", "more_sleepy")),
        ("NEW CONFUSION since lunch", ("new_confusion",)),
        ("not drinking", ("not_drinking",)),
        ("Breathless!!", ("breathless",)),
        ("short-of-breath", ("breathless",)),
        ("He has fallen", ("off_legs",)),
        ("not themselves", ("not_themselves",)),
        ("mottled knees, clammy", ("mottled",)),
        ("agitated", ("agitated",)),
        ("Not passing urine", ("not_passing_urine",)),
    ],
)
def test_soft_signs_are_read_from_the_documented_phrases(body: str, signs: tuple[str, ...]) -> None:
    parsed = parse_reply(body)
    assert parsed.kind == "soft_signs" and parsed.soft_signs == signs and parsed.urgent


@pytest.mark.parametrize("body", ["eating well", "notable", "unsteadyish", "fallenangel"])
def test_soft_signs_match_whole_words_only(body: str) -> None:
    assert parse_reply(body).soft_signs == ()


def test_negations_are_not_understood_so_they_err_towards_a_call_back() -> None:
    assert parse_reply("no new confusion").soft_signs == ("new_confusion",)


def test_a_score_with_soft_signs_keeps_both() -> None:
    parsed = parse_reply("N3, not eating")
    assert (parsed.kind, parsed.news2, parsed.soft_signs) == ("news2", 3, ("not_eating",))
    assert parsed.urgent and not parsed.emergency  # the soft sign makes it urgent


@pytest.mark.parametrize(
    ("body", "urgent", "emergency"),
    [("N4", False, False), ("N5", True, False), ("N6", True, False), ("N7", True, True)],
)
def test_the_news2_thresholds(body: str, urgent: bool, emergency: bool) -> None:
    parsed = parse_reply(body)
    assert (parsed.urgent, parsed.emergency) == (urgent, emergency)


def test_every_soft_sign_has_a_label_and_lower_case_phrases() -> None:
    for code, (label_text, phrases) in SOFT_SIGNS.items():
        assert soft_sign_label(code) == label_text and label_text[0].isupper()
        for phrase in phrases:
            assert phrase == " ".join(phrase.lower().split())
            assert code in parse_reply(phrase).soft_signs, phrase
    assert soft_sign_label("unknown_code") == "unknown_code"
