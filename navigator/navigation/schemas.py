from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from marshmallow import ValidationError, fields, types, validate, validates_schema

from navigator.core.db import utcnow
from navigator.core.errors import flatten_errors
from navigator.core.fields import (
    BoundedList,
    DateField,
    InstantField,
    InVocabulary,
    NhsNumberField,
    OdsCodeField,
    PostcodeField,
    scheme_size,
)
from navigator.core.schemas import StrictSchema
from navigator.core.vocabulary import PATIENT_SEXES, URGENCIES
from navigator.directory.fields import References
from navigator.directory.records import MAX_AGE_DAYS
from navigator.directory.schemas import ServiceItemSchema
from navigator.navigation.criteria import CRITERIA
from navigator.navigation.red_flags import known_red_flags, warning
from navigator.rules.ruleset import CALLER_ROLE_IF_UNKNOWN
from navigator.sms.models import MESSAGE_STATUSES, REPLY_KINDS
from navigator.web.edge import set_aside
from navigator.web.openapi import ResponseSchema

FALLBACKS = ("fallback", "catch_all", "national")

# Facts every call must give, except a call with a red flag, which is answered without them.
REQUIRED_UNLESS_RED_FLAG = ("caller_role", "postcode")
# At most this many warnings are listed one by one (then one line says how many more).
MAX_WARNINGS = 30
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


def _sentence(message: str) -> str:
    return message if message.endswith((".", "!", "?")) else f"{message}."


def _capped(warnings: list[dict[str, str]]) -> list[dict[str, str]]:
    if len(warnings) <= MAX_WARNINGS:
        return warnings
    more = len(warnings) - (MAX_WARNINGS - 1)
    return [
        *warnings[: MAX_WARNINGS - 1],
        warning("*", f"{more} more fields or items are not valid: left out."),
    ]


class NavigationRequestSchema(StrictSchema):
    """A call to route. **A red flag always gets 999** (issue 13, hazard H10): when
    `red_flags` names at least one known red flag, every other fact that is missing or not
    valid is reported in the answer's `warnings` (and left out) instead of a 422. Without a
    known red flag every field is validated strictly, as documented.

    `load` returns the call's facts plus `warnings`: a list of `{field, message}`.
    """

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
                        warning(name, f"{_sentence(texts[0])} {NOT_STORED}")
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
                warnings.append(warning(name, f"{text} {LEFT_OUT_AS.get(name, LEFT_OUT)}"))
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
            warning(name, LEFT_OUT_AS.get(name, LEFT_OUT)) for name in body if name != "red_flags"
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
                missing.append(warning(name, MISSING_FACTS[name]))
        if "age" not in loaded and "age_days" not in loaded and "age" not in warned:
            missing.append(warning("age", MISSING_FACTS["age"]))
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


class GapQuerySchema(StrictSchema):
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
