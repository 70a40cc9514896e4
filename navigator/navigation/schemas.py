from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from navigator.api.fields import (
    BoundedList,
    DateField,
    InstantField,
    InVocabulary,
    NhsNumberField,
    PostcodeField,
    References,
    scheme_size,
)
from navigator.api.openapi import ResponseSchema
from navigator.db import utcnow
from navigator.directory.records import MAX_AGE_DAYS
from navigator.directory.schemas import ServiceItemSchema
from navigator.directory.vocabulary import PATIENT_SEXES
from navigator.navigation.routing import CRITERIA
from navigator.rules.model import URGENCIES
from navigator.sms.models import MESSAGE_STATUSES, REPLY_KINDS

FALLBACKS = ("fallback", "catch_all", "national")


class NavigationRequestSchema(Schema):
    class Meta:
        unknown = RAISE

    caller_role = fields.String(required=True, validate=InVocabulary("caller_roles"))
    need = fields.String(
        validate=InVocabulary("needs"),
        metadata={"description": "Required unless red_flags are given"},
    )
    red_flags = BoundedList(
        fields.String(validate=InVocabulary("red_flags")),
        max_length=scheme_size("red_flags"),
        unique=True,
        load_default=list,
        metadata={"description": "Each red flag code at most once"},
    )
    age = fields.Float(
        validate=validate.Range(0, 130), metadata={"description": "Age in years (or give age_days)"}
    )
    age_days = fields.Integer(validate=validate.Range(0, MAX_AGE_DAYS))
    sex = fields.String(load_default="unknown", validate=validate.OneOf(PATIENT_SEXES))
    postcode = PostcodeField(required=True, metadata={"type": "string"})
    at = InstantField(
        load_default=utcnow, metadata={"description": "Call time, ISO 8601 (default now)"}
    )
    gp_practice_ods = fields.String(
        validate=validate.Regexp(r"^[A-Za-z0-9]{3,10}$", error="Not an ODS code")
    )
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
        if not data.get("need") and not data.get("red_flags"):
            errors["need"] = ["Give the caller's need (or at least one red flag)"]
        if "age" in data and "age_days" in data:
            errors["age_days"] = ["Give age or age_days, not both"]
        if "age" not in data and "age_days" not in data:
            errors["age"] = ["Give the patient's age (age in years or age_days)"]
        if errors:
            raise ValidationError(errors)
        if "gp_practice_ods" in data:
            data["gp_practice_ods"] = data["gp_practice_ods"].upper()


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
