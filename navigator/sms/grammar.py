"""What a care home's reply to a follow-up text says: the reply grammar.

A reply is read in this order (`parse_reply`):

1. The whole text, trimmed and upper-cased, is `1` (well), `2` (call back), a STOP word or a
   START word: that is the reply, as before issue 17.
2. Otherwise it is searched for a NEWS2 score and for soft signs of deterioration:
   - a score is `N5`, `N 5`, `NEWS 5`, `NEWS5`, `NEWS2 5`, `NEWS2=5`, `news2: 5`,
     `NEWS2 score 5`, `NEWS score is 5`, `NEWS2 was 7`, `NEWS2 score was 8`, `NEWS2 - 7`,
     `news2 now 9`, `NEWS2 scored 7`, `NEWS2: 7/20` (any case): up to three filler words
     (`FILLERS`: was, now, is, of, score, scored, today, =, :, -, →) may stand between the
     keyword and the number. Only the digits 0–9 count (full-width digits and letters from
     a phone keyboard are read as theirs: the text is NFKC-normalised first, before
     anything else, so a full-width `２` or `ＳＴＯＰ` is read too); a score is 0–20 (the
     NEWS2 range, Royal College of Physicians 2017).
   - not a score: a bare `N` number straight after a place word (`PLACE_WORDS`: "Room N7",
     "Flat N 12", "bed N3", "no. N4"), and a number followed by a unit of time or quantity
     (`UNITS`: "NEWS 2 days ago", "N 5 minutes"); such a number is named in the note.
   - a score outside 0–20, or `NEWS2` run into its digits (`NEWS25`: NEWS2 5 or NEWS 25?),
     is not read: the note says why, and the score is "unclear" (an urgent task). When a
     valid score stands beside one, the valid score is kept (with the note). Several valid
     scores: the highest.
   - a soft sign is one of the phrases in `SOFT_SIGNS` (whole words, any case, any
     punctuation between words). Negations are not understood: "no new confusion" still
     names the soft sign, which errs towards a call back.
   - an emergency sign is one of the phrases in `EMERGENCY_SIGNS` (matched like soft signs,
     and stored with them): unresponsive or cannot be woken, not breathing, collapsed, a fit
     or seizure, chest pain, choking, heavy bleeding, signs of a stroke. These are from
     NHS.UK "When to call 999" (https://www.nhs.uk/nhs-services/urgent-and-emergency-care-services/when-to-call-999/):
     the reply is urgent and an emergency (the 999 automatic reply), whatever the score.
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
Falls are added ("fallen", "fell", "had a fall", "a fall", "on the floor") because the
care-home fall is navigator's commonest call.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
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
            "fell",
            "had a fall",
            "a fall",
            "on the floor",
            "on floor",
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

# Signs that someone needs an ambulance now, from NHS.UK "When to call 999"
# (https://www.nhs.uk/nhs-services/urgent-and-emergency-care-services/when-to-call-999/:
# unconscious or cannot be woken, not breathing, severe difficulty breathing, choking, chest
# pain, heavy bleeding, a seizure, signs of a stroke). Same form as SOFT_SIGNS; each makes
# the reply an emergency: an urgent task and the 999 automatic reply. Negations are not
# understood ("no chest pain" counts): the 999 reply is worded "if", and errs towards help.
EMERGENCY_SIGNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "unresponsive": (
        "Unresponsive or cannot be woken",
        (
            "unresponsive",
            "not responding",
            "unconscious",
            "cant wake",
            "cannot wake",
            "cannot be woken",
            "wont wake",
            "will not wake",
        ),
    ),
    "not_breathing": ("Not breathing", ("not breathing", "stopped breathing")),
    "severe_breathing": (
        "Severe difficulty breathing",
        ("severe difficulty breathing", "gasping for breath", "cant breathe", "cannot breathe"),
    ),
    "collapsed": ("Collapsed", ("collapsed", "collapse")),
    "seizure": ("Fitting or a seizure", ("fitting", "having a fit", "seizure", "seizures")),
    "chest_pain": ("Chest pain", ("chest pain", "chest pains")),
    "choking": ("Choking", ("choking", "choked")),
    "bleeding": (
        "Heavy bleeding",
        ("severe bleeding", "heavy bleeding", "bleeding heavily", "wont stop bleeding"),
    ),
    "stroke": ("Signs of a stroke", ("stroke", "face drooping", "facial droop", "slurred speech")),
}

# Filler words that may stand between NEWS / NEWS2 / N and its number ("NEWS2 was 7").
FILLERS = ("SCORED", "SCORE", "WAS", "NOW", "IS", "OF", "TODAY")
# A bare N number straight after one of these is a room, flat or bed, not a score.
PLACE_WORDS = (
    "ROOM", "RM", "FLAT", "BED", "NO", "NO.", "NUMBER", "NUM", "UNIT", "APT", "APARTMENT",
    "HOUSE", "WARD", "BAY", "FLOOR", "WING", "BLOCK", "DOOR", "SUITE", "PLOT", "CORRIDOR",
    "LEVEL", "#",
)  # fmt: skip
# A number followed by one of these counts time or an amount, not a score ("NEWS 2 days").
UNITS = (
    "SEC", "SECS", "SECOND", "SECONDS", "MIN", "MINS", "MINUTE", "MINUTES", "HR", "HRS",
    "HOUR", "HOURS", "DAY", "DAYS", "WK", "WKS", "WEEK", "WEEKS", "MONTH", "MONTHS", "YR",
    "YRS", "YEAR", "YEARS", "AGO", "TIMES", "AM", "PM", "MG", "ML", "KG", "LITRES",
)  # fmt: skip

# The longest text searched: Twilio's longest message (`record_reply` keeps 1600 characters).
MAX_TEXT = 1600

_FILLER = "(?:" + "|".join(FILLERS) + r")\b|[=:\-→]"
_SCORE = re.compile(
    r"""
    (?<![A-Z0-9])                               # a keyword starts a word
    # NEWS2 only when a separator follows the 2; NEWS not when a lone 2 follows ("NEWS2")
    (?P<keyword>NEWS\s?2(?=\s|[=:\-→]|$)|NEWS(?!2(?![0-9]))|N)
    (?:\s?(?:"""
    + _FILLER
    + r""")){0,3}\s?
    (?P<digits>[0-9]+)
    (?![0-9])
    (?P<unit>\s?(?:"""
    + "|".join(UNITS)
    + r""")\b)?
    """,
    re.VERBOSE,
)
# The word just before a match (whitespace only between): a place word blocks a bare N.
_WORD_BEFORE = re.compile(r"(\S+)\s$")
# NEWS2 run straight into more digits ("NEWS25"): read as NEWS then 25, but flagged.
_RUN_ON = re.compile(r"(?<![A-Z0-9])NEWS2[0-9]")
_PHRASES = [
    (code, re.compile(r"(?<![a-z])" + re.escape(phrase) + r"(?![a-z])"))
    for signs in (EMERGENCY_SIGNS, SOFT_SIGNS)
    for code, (_, phrases) in signs.items()
    for phrase in phrases
]


@dataclass(frozen=True)
class ParsedReply:
    """What a reply says. `kind`: well, call_back, stop, start, news2, soft_signs or
    free_text; `news2`: the score read (0–20) or None; `soft_signs`: codes from
    EMERGENCY_SIGNS then SOFT_SIGNS, in their order; `note`: why something that looked like a
    score was not read as one; `unclear`: the text tried to give a score that could not be
    read (out of range, or run into NEWS2)."""

    kind: str
    news2: int | None = None
    soft_signs: tuple[str, ...] = field(default_factory=tuple)
    note: str | None = None
    unclear: bool = False

    @property
    def urgent(self) -> bool:
        """NEWS2 of 5 or more, or any soft or emergency sign: a navigator should ring soon."""
        return bool(self.soft_signs) or (self.news2 is not None and self.news2 >= NEWS2_URGENT)

    @property
    def emergency(self) -> bool:
        """NEWS2 of 7 or more, or an emergency sign: the home should call 999."""
        return is_emergency(self.news2, self.soft_signs)

    @property
    def unclear_score(self) -> bool:
        """The text tried to give a score that could not be read (see `note`)."""
        return self.unclear


def is_emergency(news2: int | None, signs: Iterable[str] | None) -> bool:
    """NEWS2 of 7 or more, or any EMERGENCY_SIGNS code among `signs`."""
    return (news2 is not None and news2 >= NEWS2_EMERGENCY) or any(
        code in EMERGENCY_SIGNS for code in signs or ()
    )


def soft_sign_label(code: str) -> str:
    """The label navigators see for a soft or emergency sign code (the code if unknown)."""
    for signs in (EMERGENCY_SIGNS, SOFT_SIGNS):
        if code in signs:
            return signs[code][0]
    return code


def _keyword(text: str) -> str | None:
    """The pre-issue-17 keyword the whole (NFKC-normalised) text is, if any."""
    text = text.strip().rstrip(".!").strip().upper()
    if text == "1":
        return "well"
    if text == "2":
        return "call_back"
    if text in STOP_WORDS:
        return "stop"
    if text in START_WORDS:
        return "start"
    return None


def _scores(text: str) -> tuple[int | None, str | None, bool]:
    """The highest valid score in `text` (upper case), a note on any number not read as one,
    and whether one was an unclear attempt at a score (out of range, run into NEWS2)."""
    valid: list[int] = []
    notes: list[str] = []
    unclear = False
    for match in _SCORE.finditer(text):
        digits = match.group("digits")
        shown = digits if len(digits) <= 6 else digits[:6] + "…"
        if _RUN_ON.match(text, match.start()):
            continue  # "NEWS25": noted once below
        if match.group("unit"):
            notes.append(f"“{match.group(0).strip()}” is not read as a NEWS2 score")
            continue
        if match.group("keyword") == "N":
            before = _WORD_BEFORE.search(text, 0, match.start())
            if before and before.group(1) in PLACE_WORDS:
                notes.append(f"“{before.group(1).title()} {match.group(0)}” is not read as a score")
                continue
        value = int(digits) if len(digits) <= 3 else None
        if value is not None and NEWS2_MIN <= value <= NEWS2_MAX:
            valid.append(value)
        else:
            notes.append(f"{shown} is not a NEWS2 score (0 to 20)")
            unclear = True
    if _RUN_ON.search(text):
        notes.append("NEWS2 is followed by digits with no space: unclear which is the score")
        unclear = True
    return (max(valid) if valid else None), ("; ".join(notes) or None), unclear


def _soft_signs(text: str) -> tuple[str, ...]:
    words = " ".join(re.sub(r"[^a-z]+", " ", text.lower().replace("'", "")).split())
    found = {code for code, pattern in _PHRASES if pattern.search(words)}
    return tuple(code for signs in (EMERGENCY_SIGNS, SOFT_SIGNS) for code in signs if code in found)


def parse_reply(body: str) -> ParsedReply:
    """Read a reply (any text; only its first MAX_TEXT characters are searched). Never
    raises. See the module docstring for the grammar."""
    # NFKC first, so a full-width "２" or "ＳＴＯＰ" is the keyword; whitespace collapsed, which
    # keeps the score pattern's optional spaces linear.
    text = " ".join(unicodedata.normalize("NFKC", body[:MAX_TEXT]).split())
    keyword = _keyword(text)
    if keyword is not None:
        return ParsedReply(keyword)
    score, note, unclear = _scores(text.upper())
    signs = _soft_signs(text)
    if score is not None:
        return ParsedReply("news2", news2=score, soft_signs=signs, note=note, unclear=unclear)
    if signs:
        return ParsedReply("soft_signs", soft_signs=signs, note=note, unclear=unclear)
    return ParsedReply("free_text", note=note, unclear=unclear)
