"""The reply grammar (navigator.sms.grammar): each documented form of a NEWS2 score and of the
RESTORE2 soft signs, the replies before issue 17 (1, 2, STOP, START, free text), and odd or
hostile input, which must never raise and never be read as a score it does not plainly give.

The score range 0–20 and the thresholds 5 and 7 are NEWS2's (Royal College of Physicians,
National Early Warning Score 2, 2017); the soft signs are RESTORE2's (West Hampshire CCG and
Wessex AHSN)."""

from __future__ import annotations

import pytest

from navigator.sms.grammar import (
    EMERGENCY_SIGNS,
    SOFT_SIGNS,
    ParsedReply,
    parse_reply,
    soft_sign_label,
)


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


# --- review findings on issue 17 (each failed before the fix) -------------------------------


@pytest.mark.parametrize(
    ("body", "score"),
    [
        ("NEWS2 was 7", 7),
        ("NEWS2 score was 8", 8),
        ("NEWS2 - 7", 7),
        ("news2 now 9", 9),
        ("NEWS2 scored 7", 7),
        ("NEWS2: 7/20", 7),
        ("NEWS2 → 7", 7),
        ("NEWS2 is now 6", 6),
        ("ＮＥＷＳ２ ７", 7),
        ("She is N6 today", 6),  # a bare N mid-sentence is still read: a miss is the worse error
    ],
)
def test_filler_words_between_the_keyword_and_the_score_are_read(body: str, score: int) -> None:
    parsed = parse_reply(body)
    assert (parsed.kind, parsed.news2, parsed.unclear_score) == ("news2", score, False)


@pytest.mark.parametrize(
    ("body", "noted"),
    [
        ("Room N7 resident fine", "Room N7"),
        ("Flat N 12, resident fine", "Flat N 12"),
        ("bed N3 all ok", "Bed N3"),
        ("In 5 minutes", None),
    ],
)
def test_a_room_or_flat_number_is_not_a_score(body: str, noted: str | None) -> None:
    """Not a score, not urgent; the note names the number so a navigator can check it."""
    parsed = parse_reply(body)
    assert parsed.news2 is None and not parsed.urgent and not parsed.unclear_score
    assert (noted is None and parsed.note is None) or (noted and noted in (parsed.note or ""))


def test_a_number_of_days_after_news_is_not_a_score_but_fell_is_a_soft_sign() -> None:
    parsed = parse_reply("NEWS 2 days ago fell")
    assert parsed.news2 is None and parsed.soft_signs == ("off_legs",) and parsed.urgent
    assert parsed.note is not None and "2 DAYS" in parsed.note.upper()


def test_a_valid_score_beside_an_ignored_number_is_kept_with_a_note() -> None:
    parsed = parse_reply("NEWS2 8 and in room N 101")
    assert (parsed.kind, parsed.news2, parsed.urgent, parsed.emergency) == ("news2", 8, True, True)
    assert parsed.note is not None and "N 101" in parsed.note


def test_a_valid_score_beside_an_out_of_range_one_is_kept_and_unclear() -> None:
    """The highest valid score counts; the bad one is noted and makes the task urgent."""
    parsed = parse_reply("N5 and N30")
    assert (parsed.kind, parsed.news2, parsed.unclear_score) == ("news2", 5, True)
    assert parsed.note is not None and "30 is not a NEWS2 score" in parsed.note
    parsed = parse_reply("NEWS2 7. previously NEWS25")
    assert (parsed.news2, parsed.unclear_score) == (7, True)


@pytest.mark.parametrize(
    ("body", "kind"), [("２", "call_back"), ("１", "well"), ("ＳＴＯＰ", "stop")]
)
def test_full_width_keywords_are_read(body: str, kind: str) -> None:
    assert parse_reply(body).kind == kind


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("Resident unresponsive", "unresponsive"),
        ("not breathing", "not_breathing"),
        ("collapsed in the lounge", "collapsed"),
        ("fitting now", "seizure"),
        ("chest pain", "chest_pain"),
        ("choking on food", "choking"),
        ("Can't wake him", "unresponsive"),
    ],
)
def test_emergency_words_are_urgent_and_an_emergency(body: str, code: str) -> None:
    """Source: NHS.UK "When to call 999"."""
    parsed = parse_reply(body)
    assert code in EMERGENCY_SIGNS and code in parsed.soft_signs
    assert parsed.urgent and parsed.emergency and soft_sign_label(code)[0].isupper()


@pytest.mark.parametrize("body", ["She fell this morning", "found on the floor", "had a fall"])
def test_falls_are_a_soft_sign(body: str) -> None:
    parsed = parse_reply(body)
    assert parsed.soft_signs == ("off_legs",) and parsed.urgent and not parsed.emergency
