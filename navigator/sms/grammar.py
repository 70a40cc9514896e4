"""What a care home's reply to a follow-up text says: the reply grammar.

A reply is read in this order (`parse_reply`):

1. The whole text, trimmed and upper-cased, is `1` (well), `2` (call back), a STOP word or a
   START word: that is the reply, as before issue 17.
2. Otherwise it is searched for a NEWS2 score and for soft signs of deterioration:
   - a score is `N5`, `N 5`, `NEWS 5`, `NEWS5`, `NEWS2 5`, `NEWS2=5`, `news2: 5`,
     `NEWS2 score 5`, `NEWS score is 5` (any case). Only the digits 0–9 count (full-width
     digits from a phone keyboard are read as theirs: the text is NFKC-normalised first);
     a score is 0–20 (the NEWS2 range, Royal College of Physicians 2017). A score outside
     it, or `NEWS2` run into its digits (`NEWS25`: NEWS2 5 or NEWS 25?), is not read as a
     score: the reply is free text with a note saying why. Several scores: the highest.
   - a soft sign is one of the phrases in `SOFT_SIGNS` (whole words, any case, any
     punctuation between words). Negations are not understood: "no new confusion" still
     names the soft sign, which errs towards a call back.
3. Anything else is free text.

`kind` is then `news2` (a score was read), `soft_signs` (signs but no score) or
`free_text`. `navigator.sms.replies` decides what each needs (tasks, auto-replies).

The soft signs are a small subset of RESTORE2's "soft signs of deterioration" (Recognise Early
Soft-signs, Take Observations, Respond, Escalate), the care-home tool co-produced by West
Hampshire CCG and Wessex AHSN (Wessex Patient Safety Collaborative; now Health Innovation
Wessex): shortness of breath or fast breathing, reduced appetite or fluid intake, new or
worsening confusion, increased sleepiness or agitation, pale, cold or mottled skin, reduced
mobility or "off legs", "not their usual self", and urinary problems (RESTORE2 and
RESTORE2mini descriptions published by Wessex AHSN, South West AHSN and NHS South West London).
Falls are added because the care-home fall is navigator's commonest call.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

# The replies before issue 17 (upper-cased, trimmed): carriers and Twilio treat these as
# opt-out and opt-in keywords.
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
START_WORDS = frozenset({"START", "UNSTOP", "YES"})

# NEWS2 aggregate scores run 0–20 (RCP, National Early Warning Score 2, 2017, chart 1).
NEWS2_MIN, NEWS2_MAX = 0, 20
# RESTORE2 / NEWS2 thresholds: 5 or more is an urgent response, 7 or more an emergency one.
NEWS2_URGENT, NEWS2_EMERGENCY = 5, 7

# Each soft sign: its code, the label navigators see, and the phrases that name it (lower
# case, words separated by single spaces). Keep it small: every phrase opens an urgent task.
SOFT_SIGNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "breathless": (
        "Breathless or breathing fast",
        (
            "breathless",
            "short of breath",
            "shortness of breath",
            "breathing fast",
            "struggling to breathe",
            "difficulty breathing",
        ),
    ),
    "not_eating": (
        "Not eating",
        (
            "not eating",
            "off food",
            "off her food",
            "off his food",
            "off their food",
            "reduced appetite",
            "poor appetite",
        ),
    ),
    "not_drinking": ("Not drinking", ("not drinking", "poor fluid intake", "reduced fluids")),
    "new_confusion": (
        "New or worse confusion",
        (
            "new confusion",
            "more confused",
            "increased confusion",
            "worse confusion",
            "newly confused",
        ),
    ),
    "more_sleepy": (
        "More sleepy or hard to wake",
        ("more sleepy", "sleepier", "drowsy", "hard to wake", "difficult to wake"),
    ),
    "agitated": ("More agitated or restless", ("agitated", "restless")),
    "mottled": ("Pale, cold or mottled skin", ("mottled", "clammy")),
    "off_legs": (
        "Off legs, unsteady or fallen",
        (
            "off legs",
            "off her legs",
            "off his legs",
            "off their legs",
            "unsteady",
            "fallen",
            "had a fall",
        ),
    ),
    "not_themselves": (
        "Not their usual self",
        (
            "not themselves",
            "not herself",
            "not himself",
            "not their usual self",
            "not her usual self",
            "not his usual self",
        ),
    ),
    "not_passing_urine": ("Not passing urine", ("not passing urine", "not weeing")),
}

# The longest text searched: Twilio's longest message (`record_reply` keeps 1600 characters).
MAX_TEXT = 1600

_SCORE = re.compile(
    r"""
    (?<![A-Z0-9])                               # a keyword starts a word
    # NEWS2 only when a separator follows the 2; NEWS not when a lone 2 follows ("NEWS2")
    (?P<keyword>NEWS\s?2(?=\s|[=:]|$)|NEWS(?!2(?![0-9]))|N)
    \s*(?:SCORE\b)?\s*(?:IS\b|OF\b)?\s*[=:]?\s*
    (?P<digits>[0-9]+)
    (?![0-9])
    """,
    re.VERBOSE,
)
# NEWS2 run straight into more digits ("NEWS25"): read as NEWS then 25, but flagged.
_RUN_ON = re.compile(r"(?<![A-Z0-9])NEWS2[0-9]")
_PHRASES = [
    (code, re.compile(r"(?<![a-z])" + re.escape(phrase) + r"(?![a-z])"))
    for code, (_, phrases) in SOFT_SIGNS.items()
    for phrase in phrases
]


@dataclass(frozen=True)
class ParsedReply:
    """What a reply says. `kind`: well, call_back, stop, start, news2, soft_signs or
    free_text; `news2`: the score read (0–20) or None; `soft_signs`: codes from SOFT_SIGNS in
    its order; `note`: why something that looked like a score was not read as one."""

    kind: str
    news2: int | None = None
    soft_signs: tuple[str, ...] = field(default_factory=tuple)
    note: str | None = None

    @property
    def urgent(self) -> bool:
        """NEWS2 of 5 or more, or any soft sign: a navigator should ring the home soon."""
        return bool(self.soft_signs) or (self.news2 is not None and self.news2 >= NEWS2_URGENT)

    @property
    def emergency(self) -> bool:
        """NEWS2 of 7 or more: the home should call 999."""
        return self.news2 is not None and self.news2 >= NEWS2_EMERGENCY

    @property
    def unclear_score(self) -> bool:
        """The text tried to give a score that could not be read (see `note`)."""
        return self.note is not None


def soft_sign_label(code: str) -> str:
    """The label navigators see for a soft sign code (the code itself if unknown)."""
    return SOFT_SIGNS[code][0] if code in SOFT_SIGNS else code


def _keyword(body: str) -> str | None:
    text = body.strip().rstrip(".!").strip().upper()
    if text == "1":
        return "well"
    if text == "2":
        return "call_back"
    if text in STOP_WORDS:
        return "stop"
    if text in START_WORDS:
        return "start"
    return None


def _scores(text: str) -> tuple[int | None, str | None]:
    """The highest valid score in `text` (upper case), and a note on any that is not valid."""
    valid: list[int] = []
    notes: list[str] = []
    for match in _SCORE.finditer(text):
        digits = match.group("digits")
        value = int(digits) if len(digits) <= 3 else None
        if value is not None and NEWS2_MIN <= value <= NEWS2_MAX:
            valid.append(value)
        else:
            shown = digits if len(digits) <= 6 else digits[:6] + "…"
            notes.append(f"{shown} is not a NEWS2 score (0 to 20)")
    if _RUN_ON.search(text):
        notes.append("NEWS2 is followed by digits with no space: unclear which is the score")
        valid = []
    if notes:
        return None, "; ".join(notes)
    return (max(valid) if valid else None), None


def _soft_signs(text: str) -> tuple[str, ...]:
    words = " ".join(re.sub(r"[^a-z]+", " ", text.lower().replace("'", "")).split())
    found = {code for code, pattern in _PHRASES if pattern.search(words)}
    return tuple(code for code in SOFT_SIGNS if code in found)


def parse_reply(body: str) -> ParsedReply:
    """Read a reply (any text; only its first MAX_TEXT characters are searched). Never
    raises. See the module docstring for the grammar."""
    keyword = _keyword(body)
    if keyword is not None:
        return ParsedReply(keyword)
    # Whitespace collapsed first: it keeps the score pattern's optional spaces linear.
    text = " ".join(unicodedata.normalize("NFKC", body[:MAX_TEXT]).split())
    score, note = _scores(text.upper())
    signs = _soft_signs(text)
    if score is not None:
        return ParsedReply("news2", news2=score, soft_signs=signs)
    if signs:
        return ParsedReply("soft_signs", soft_signs=signs, note=note)
    return ParsedReply("free_text", note=note)
