from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, types, validate, validates_schema

from navigator.api.edge import set_aside
from navigator.api.fields import (
    BoundedList,
    DateField,
    InstantField,
    InVocabulary,
    NhsNumberField,
    OdsCodeField,
    PostcodeField,
    References,
    scheme_size,
)
from navigator.api.openapi import ResponseSchema
from navigator.db import utcnow
from navigator.directory.context import vocabulary
from navigator.directory.records import MAX_AGE_DAYS
from navigator.directory.schemas import ServiceItemSchema
from navigator.directory.vocabulary import PATIENT_SEXES, Vocabulary
from navigator.errors import flatten_errors
from navigator.navigation.routing import CRITERIA
from navigator.navigation.service import CALLER_ROLE_IF_UNKNOWN
from navigator.rules.model import URGENCIES
from navigator.sms.models import MESSAGE_STATUSES, REPLY_KINDS

FALLBACKS = ("fallback", "catch_all", "national")

# Facts every call must give, except a call with a red flag, which is answered without them.
REQUIRED_UNLESS_RED_FLAG = ("caller_role", "postcode")
# At most this many warnings are listed one by one (then one line says how many more).
MAX_WARNINGS = 30
# A field name echoed in a warning is cut to this length (it may be any key a client sent).
MAX_FIELD_NAME = 100
LEFT_OUT = "Left out: a red flag is answered with 999 without it."
NOT_STORED = "The text could not be stored: left out (a red flag is answered with 999 without it)."
LEFT_OUT_AS = {
    "caller_role": "Left out: routed as a call from a member of the public "
    f"({CALLER_ROLE_IF_UNKNOWN!r}).",
    "at": "Left out: the time of the request is the call's time.",
}
MISSING_FACTS = {
    "caller_role": "Not given: routed as a call from a member of the public "
    f"({CALLER_ROLE_IF_UNKNOWN!r}).",
    "postcode": "Not given: no place or distance could be worked out.",
    "age": "Not given (age in years or age_days): the patient's age is not known.",
}


def _warning(field: str, message: str) -> dict[str, str]:
    return {"field": field[:MAX_FIELD_NAME], "message": message}


# --- Reading red flags (issue 13 §1, hazard H10) ------------------------------------------
# A flag written another way still gets 999: its code or its label, whatever the case, the
# spaces around it and the punctuation between its words ("CHEST_PAIN", " Chest pain",
# "chest-pain"); several in one string split by commas or semicolons; a list nested in the
# list; an object whose keys are flags, with a true value. Every reading other than an exact
# code is warned about, naming the code it was read as (never echoing the client's text).

# Anything that is not a letter or a digit separates words: "Stroke symptoms (FAST)" and
# "stroke-symptoms-fast" have the same key.
_WORD_BREAKS = re.compile(r"[\W_]+")
_LIST_BREAKS = re.compile(r"[,;]")
# An object's value that says "not present"; any other value says the flag is there (when in
# doubt, 999: a false alarm costs a call, a missed flag can cost a life).
_NOT_TICKED = frozenset({"", "false", "no", "n", "0", "none", "null", "off", "absent", "unticked"})
# Lists nested deeper than this inside `red_flags` are not read (the edge bounds depth anyway).
_MAX_NESTING = 4
# Distinct strings whose reading is remembered: a 1 MiB array of one junk string costs one
# reading, not 170,000.
_TEXT_CACHE = 4096


def flag_key(text: str) -> str:
    """The key a red flag's spelling is matched on: NFKC, case-folded, words joined by `_`."""
    return "_".join(_WORD_BREAKS.sub(" ", unicodedata.normalize("NFKC", text).casefold()).split())


@dataclass(frozen=True)
class RedFlagReader:
    """The red-flag vocabulary (codes and labels) as one lookup, built once per vocabulary."""

    codes: frozenset[str]
    by_key: Mapping[str, str]  # flag_key(code or label) → code
    _seen: dict[str, tuple[tuple[str, ...], int]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @classmethod
    def of(cls, vocab: Vocabulary) -> RedFlagReader:
        terms = vocab.terms["red_flags"]
        by_key: dict[str, str] = {}
        # Codes first, then labels; a key already taken keeps its first code.
        spellings = [(code, code) for code in terms] + [(t.label, c) for c, t in terms.items()]
        for text, code in spellings:
            if key := flag_key(text):
                by_key.setdefault(key, code)
        return cls(frozenset(terms), by_key)

    def code(self, text: str) -> str | None:
        """The one red flag `text` names (code or label, any case, spacing or separators)."""
        if text in self.codes:
            return text
        return self.by_key.get(flag_key(text))

    def read_text(self, text: str) -> tuple[tuple[str, ...], int]:
        """(the codes `text` names, how many of its comma/semicolon-separated parts name none)."""
        if (known := self._seen.get(text)) is not None:
            return known
        parts = [part for part in _LIST_BREAKS.split(text) if part.strip()] or [text]
        found = [self.code(part) for part in parts]
        result = tuple(c for c in found if c), sum(1 for c in found if c is None)
        if len(self._seen) < _TEXT_CACHE:
            self._seen[text] = result
        return result

    def read(self, value: Any, depth: int = 0) -> tuple[list[str], int]:
        """(the codes a JSON value names, how many of its parts name none): a string as in
        `read_text`, an object by its keys with a true value, a list item by item."""
        if isinstance(value, str):
            in_text, unknown = self.read_text(value)
            return list(in_text), unknown
        if isinstance(value, dict):
            named = {key: self.code(key) for key in value if isinstance(key, str)}
            codes = [code for key, code in named.items() if code and _ticked(value[key])]
            return codes, sum(1 for code in named.values() if code is None)
        if isinstance(value, list) and depth < _MAX_NESTING:
            found: list[str] = []
            unknown = 0
            for item in value:
                codes_in, unknown_in = self.read(item, depth + 1)
                found += codes_in
                unknown += unknown_in
            return found, unknown
        return [], 1


_READERS: dict[int, tuple[Vocabulary, RedFlagReader]] = {}


def red_flag_reader(vocab: Vocabulary | None = None) -> RedFlagReader:
    """The reader for `vocab` (default: the app's), built on first use and then reused."""
    vocab = vocab if vocab is not None else vocabulary()
    held = _READERS.get(id(vocab))
    if held is None or held[0] is not vocab:
        if len(_READERS) >= 8:  # vocabularies are few (one per data directory)
            _READERS.clear()
        held = _READERS[id(vocab)] = (vocab, RedFlagReader.of(vocab))
    return held[1]


def _ticked(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().casefold() not in _NOT_TICKED
    return bool(value)  # true, a non-zero number, a non-empty list or object


def _read_as(codes: list[str], unknown: int, *, repeated: bool) -> str:
    """ "read as chest_pain, seizure (…)" for a flag written another way."""
    message = f"read as {', '.join(codes)}"
    if repeated:
        message += " (given before: counted once)"
    if unknown:
        message += f"; {unknown} other part{'s' if unknown > 1 else ''} not a known red flag"
    return f"{message}."


def known_red_flags(
    raw: Any, vocab: Vocabulary | None = None
) -> tuple[list[str], list[dict[str, str]]]:
    """The known red-flag codes in a request's raw `red_flags`, each once and in order, and a
    warning for each item that is not one, is one written another way (`red_flags.0`: "Read
    as chest_pain.") or is one given twice.

    A string (codes or labels split by commas or semicolons) or an object (`{"chest_pain":
    true}`) in place of the list counts too, with a warning on `red_flags`. Anything else
    (null, a number), or a value naming no known flag, names no flag and gets no warning.
    """
    reader = red_flag_reader(vocab)
    flags: list[str] = []
    if not isinstance(raw, list):
        if not isinstance(raw, str | dict):
            return [], []
        codes, unknown = reader.read(raw)
        flags = list(dict.fromkeys(codes))
        if not flags:
            return [], []
        kind = "a string" if isinstance(raw, str) else "an object"
        how = _read_as(flags, unknown, repeated=len(codes) > len(flags))
        return flags, [_warning("red_flags", f"Not a list but {kind}: {how}")]
    warnings: list[dict[str, str]] = []
    for position, item in enumerate(raw):
        if isinstance(item, str) and item in reader.codes:  # the usual case: an exact code
            if item not in flags:
                flags.append(item)
                continue
            message = "Given twice: counted once."
        else:
            codes, unknown = reader.read(item)
            named = list(dict.fromkeys(codes))
            new = [code for code in named if code not in flags]
            flags += new
            if named:
                how = _read_as(named, unknown, repeated=len(new) < len(codes))
                message = how[:1].upper() + how[1:]
            else:
                message = "Not a known red flag: ignored."
        warnings.append(_warning(f"red_flags.{position}", message))
    return flags, warnings


def _sentence(message: str) -> str:
    return message if message.endswith((".", "!", "?")) else f"{message}."


def _capped(warnings: list[dict[str, str]]) -> list[dict[str, str]]:
    if len(warnings) <= MAX_WARNINGS:
        return warnings
    more = len(warnings) - (MAX_WARNINGS - 1)
    return [
        *warnings[: MAX_WARNINGS - 1],
        _warning("*", f"{more} more fields or items are not valid: left out."),
    ]


class NavigationRequestSchema(Schema):
    """A call to route. **A red flag always gets 999** (issue 13, hazard H10): when
    `red_flags` names at least one known red flag, every other fact that is missing or not
    valid is reported in the answer's `warnings` (and left out) instead of a 422. Without a
    known red flag every field is validated strictly, as documented.

    `load` returns the call's facts plus `warnings`: a list of `{field, message}`.
    """

    class Meta:
        unknown = RAISE

    caller_role = fields.String(
        required=True,
        validate=InVocabulary("caller_roles"),
        metadata={"description": "Required unless red_flags names a known red flag"},
    )
    need = fields.String(
        validate=InVocabulary("needs"),
        metadata={"description": "Required unless red_flags are given"},
    )
    red_flags = BoundedList(
        fields.String(validate=InVocabulary("red_flags")),
        max_length=scheme_size("red_flags"),
        unique=True,
        load_default=list,
        metadata={
            # Not `uniqueItems`/`maxItems`: with a known flag, repeats and long lists are
            # accepted (issue 13 §1), so the document must not promise to refuse them.
            "uniqueItems": False,
            "description": "Red-flag codes. With at least one known red flag the answer is "
            "always 201 emergency / ambulance_999: a repeated or unknown extra item, a list "
            "longer than the number of codes, and any other field that is missing or not "
            "valid each become a warning, not a 422. With no known red flag, any item not "
            "in `enum`, a repeat, or more items than there are codes is refused (422)",
        },
    )
    age = fields.Float(
        validate=validate.Range(0, 130),
        metadata={"description": "Age in years (or give age_days); required unless red_flags"},
    )
    age_days = fields.Integer(validate=validate.Range(0, MAX_AGE_DAYS))
    sex = fields.String(load_default="unknown", validate=validate.OneOf(PATIENT_SEXES))
    postcode = PostcodeField(
        required=True,
        metadata={
            "type": "string",
            "description": "Required unless red_flags names a known red flag",
        },
    )
    at = InstantField(
        load_default=utcnow, metadata={"description": "Call time, ISO 8601 (default now)"}
    )
    gp_practice_ods = OdsCodeField()
    disposition = fields.String(
        validate=validate.Regexp(
            r"^Dx[0-9A-Za-z]{1,6}$", error="Not an NHS Pathways disposition code (e.g. Dx02)"
        )
    )
    lives_in_care_home = fields.Boolean(load_default=False)
    care_home_service_id = fields.String(
        validate=[validate.Length(max=100), References("care_home")]
    )
    case_ref = fields.String(validate=validate.Length(max=100))
    nhs_number = NhsNumberField(
        metadata={"description": "Optional; 10 digits with a valid check digit"}
    )

    @validates_schema
    def _combinations(self, data: dict[str, Any], **_: Any) -> None:
        errors: dict[str, list[str]] = {}
        if not data.get("red_flags"):  # a red-flag call is answered without need or age
            if not data.get("need"):
                errors["need"] = ["Give the caller's need (or at least one red flag)"]
            if "age" not in data and "age_days" not in data:
                errors["age"] = ["Give the patient's age (age in years or age_days)"]
        if "age" in data and "age_days" in data:
            errors["age_days"] = ["Give age or age_days, not both"]
        if errors:
            raise ValidationError(errors)
        if "gp_practice_ods" in data:
            data["gp_practice_ods"] = data["gp_practice_ods"].upper()

    def load(
        self,
        data: Mapping[str, Any] | Sequence[Mapping[str, Any]],
        *,
        many: bool | None = None,
        partial: bool | types.StrSequenceOrSet | None = None,
        unknown: types.UnknownOption | None = None,
    ) -> Any:
        """The call's facts and their `warnings`; raises ValidationError (a 422) only when
        the call names no known red flag.

        Text the edge set aside from this request (NUL, lone surrogates; `sets_aside_bad_text`)
        is a warning of a red-flag call, and otherwise raises the edge's own Problem (422
        naming those fields), exactly as if the edge had refused the request."""
        aside = set_aside()
        warnings: list[dict[str, str]] = []
        try:
            loaded = super().load(data, many=many, partial=partial, unknown=unknown)
        except ValidationError as exc:
            flags, warnings = (
                known_red_flags(data.get("red_flags")) if isinstance(data, Mapping) else ([], [])
            )
            if not flags:
                if aside is not None:
                    raise aside.problem from None
                raise  # no red flag: exactly the strict answer
            assert isinstance(data, Mapping)
            loaded = self._load_red_flag_call(data, flags, exc, warnings)
        if aside is not None and not loaded.get("red_flags"):
            raise aside.problem
        if loaded.get("red_flags"):
            if aside is not None:
                warnings = [
                    *(
                        _warning(name, f"{_sentence(texts[0])} {NOT_STORED}")
                        for name, texts in aside.errors.items()
                    ),
                    # A list item set aside is null in its place: it has its warning already.
                    *(w for w in warnings if w["field"] not in aside.errors),
                ]
            warnings += self._missing_facts(loaded, warnings)
        loaded["warnings"] = _capped(warnings)
        return loaded

    def _load_red_flag_call(
        self,
        data: Mapping[str, Any],
        flags: list[str],
        exc: ValidationError,
        warnings: list[dict[str, str]],
    ) -> dict[str, Any]:
        """Load again with only the known red flags, leaving out (and warning about) every
        other field that failed, round by round: a field-level failure hides the schema-level
        checks, which can then fail in their turn (age and age_days both given)."""
        body = {**data, "red_flags": flags}
        messages = exc.normalized_messages()
        for _ in range(len(body) + 1):
            for name in [n for n in messages if n != "red_flags" and n in body]:
                problems = flatten_errors({name: messages[name]})
                text = " ".join(_sentence(m) for texts in problems.values() for m in texts)
                warnings.append(_warning(name, f"{text} {LEFT_OUT_AS.get(name, LEFT_OUT)}"))
                del body[name]
            try:
                loaded: dict[str, Any] = super().load(body, partial=REQUIRED_UNLESS_RED_FLAG)
            except ValidationError as again:
                messages = again.normalized_messages()
            else:
                return loaded
        # Not reached with this schema (each round leaves out what failed); if it ever is,
        # the red flags alone still load, and still get 999.
        warnings += [
            _warning(name, LEFT_OUT_AS.get(name, LEFT_OUT)) for name in body if name != "red_flags"
        ]
        alone: dict[str, Any] = super().load({"red_flags": flags}, partial=REQUIRED_UNLESS_RED_FLAG)
        return alone

    @staticmethod
    def _missing_facts(
        loaded: Mapping[str, Any], warnings: list[dict[str, str]]
    ) -> list[dict[str, str]]:
        """A warning for each fact a call without a red flag must give that this one lacks
        (unless a warning already says why: it was given but not valid)."""
        warned = {w["field"] for w in warnings}
        missing = []
        for name in REQUIRED_UNLESS_RED_FLAG:
            if name not in loaded and name not in warned:
                missing.append(_warning(name, MISSING_FACTS[name]))
        if "age" not in loaded and "age_days" not in loaded and "age" not in warned:
            missing.append(_warning("age", MISSING_FACTS["age"]))
        return missing


class RoutedServiceSchema(ServiceItemSchema):
    """A directory item as a navigation recommends it, with when it opens.

    Every item describes the service **at the call's time `at`**, not at the time of the
    request: "now" in `open_now`, `closes_at`, `next_open` and in the reasons means `at`.
    (The directory search's `open_now`/`open_at` keep their own meaning.)
    """

    # The national 999/111 fallback items carry no `opens_at`.
    optional = frozenset({"opens_at"})

    open_now = fields.Boolean(metadata={"description": "Open at the call's time `at`"})
    closes_at = fields.String(
        allow_none=True,
        metadata={
            "description": "When open at `at`: when it next closes, after `at` "
            "(null: open all hours or not closing within two days); else null"
        },
    )
    next_open = fields.String(
        allow_none=True,
        metadata={"description": "When closed at `at`: when it next opens, after `at`; else null"},
    )
    opens_at = fields.String(
        allow_none=True,
        metadata={"description": "Closed at `at` but opening within the urgency's window: when"},
    )


class RecommendationSchema(ResponseSchema):
    service = fields.Nested(RoutedServiceSchema)
    rule_id = fields.String()
    reasons = fields.List(fields.String())
    fallback = fields.String(
        allow_none=True,
        validate=validate.OneOf(FALLBACKS),
        metadata={"description": "null, fallback, catch_all or national"},
    )


class AlternativeSchema(ResponseSchema):
    service = fields.Nested(RoutedServiceSchema)
    reasons = fields.List(
        fields.String(), metadata={"description": "Why it ranks lower, then why it fits"}
    )


class GapSchema(ResponseSchema):
    service_id = fields.String()
    service_name = fields.String()
    criterion = fields.String(validate=validate.OneOf(tuple(CRITERIA)))
    detail = fields.String()


class FollowUpReplySchema(ResponseSchema):
    id = fields.Integer()
    received_at = fields.String()
    kind = fields.String(validate=validate.OneOf(REPLY_KINDS))
    body = fields.String()


class FollowUpSchema(ResponseSchema):
    id = fields.String(metadata={"description": "navigator's own message id"})
    due_at = fields.String(metadata={"description": "When it is (or was) due, out of quiet hours"})
    status = fields.String(validate=validate.OneOf(MESSAGE_STATUSES))
    to = fields.String(metadata={"description": "The care home's number, E.164"})
    replies = fields.List(fields.Nested(FollowUpReplySchema))


class WarningSchema(ResponseSchema):
    field = fields.String(
        metadata={"description": "The request field (dotted for an item: `red_flags.1`)"}
    )
    message = fields.String(metadata={"description": "What was wrong, and what was done"})


class NavigationSchema(ResponseSchema):
    # Only when follow-up texts are configured (and always on GET).
    optional = frozenset({"follow_ups"})

    id = fields.String()
    urgency = fields.String(validate=validate.OneOf(URGENCIES))
    recommendation = fields.Nested(RecommendationSchema)
    alternatives = fields.List(fields.Nested(AlternativeSchema))
    safety_netting = fields.String()
    gaps = fields.List(fields.Nested(GapSchema))
    rules_version = fields.String()
    rule_ids = fields.List(fields.String())
    created_at = fields.String()
    follow_ups = fields.List(
        fields.Nested(FollowUpSchema),
        metadata={"description": "Texts to the resident's care home (care-home residents only)"},
    )
    warnings = fields.List(
        fields.Nested(WarningSchema),
        metadata={
            "description": "Facts that were missing or not valid and were left out: only a "
            "call with a red flag is answered despite them (always 999). Empty otherwise"
        },
    )


def _thirty_days_ago() -> date:
    return (utcnow() - timedelta(days=30)).date()


def _today() -> date:
    return utcnow().date()


class GapQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    from_ = DateField(
        data_key="from",
        load_default=_thirty_days_ago,
        metadata={"description": "YYYY-MM-DD, inclusive (default 30 days ago)"},
    )
    to = DateField(
        load_default=_today, metadata={"description": "YYYY-MM-DD, inclusive (default today)"}
    )

    @validates_schema
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        if data["to"] < data["from_"]:
            raise ValidationError("must not be before from", "to")


class GapRowSchema(ResponseSchema):
    service_id = fields.String()
    service_name = fields.String(allow_none=True)
    service_type = fields.String(allow_none=True, validate=InVocabulary("service_types"))
    criterion = fields.String(validate=validate.OneOf(tuple(CRITERIA)))
    detail = fields.String()
    count = fields.Integer()
    last_seen = fields.String()


class GapReportSchema(ResponseSchema):
    from_ = fields.String(data_key="from")
    to = fields.String()
    items = fields.List(fields.Nested(GapRowSchema))
