from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from navigator.api.fields import InstantField, InVocabulary, NhsNumberField, PostcodeField
from navigator.db import utcnow
from navigator.directory.records import MAX_AGE_DAYS
from navigator.directory.schemas import ServiceItemSchema
from navigator.directory.vocabulary import PATIENT_SEXES


class NavigationRequestSchema(Schema):
    class Meta:
        unknown = RAISE

    caller_role = fields.String(required=True, validate=InVocabulary("caller_roles"))
    need = fields.String(
        validate=InVocabulary("needs"),
        metadata={"description": "Required unless red_flags are given"},
    )
    red_flags = fields.List(fields.String(validate=InVocabulary("red_flags")), load_default=list)
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
    care_home_service_id = fields.String(validate=validate.Length(max=100))
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


class RecommendationSchema(Schema):
    service = fields.Nested(ServiceItemSchema)
    rule_id = fields.String()
    reasons = fields.List(fields.String())
    fallback = fields.String(
        allow_none=True, metadata={"description": "null, fallback, catch_all or national"}
    )


class AlternativeSchema(Schema):
    service = fields.Nested(ServiceItemSchema)
    reasons = fields.List(
        fields.String(), metadata={"description": "Why it ranks lower, then why it fits"}
    )


class GapSchema(Schema):
    service_id = fields.String()
    service_name = fields.String()
    criterion = fields.String()
    detail = fields.String()


class FollowUpReplySchema(Schema):
    id = fields.Integer()
    received_at = fields.String()
    kind = fields.String(metadata={"description": "well, call_back, free_text, stop or start"})
    body = fields.String()


class FollowUpSchema(Schema):
    id = fields.String(metadata={"description": "navigator's own message id"})
    due_at = fields.String(metadata={"description": "When it is (or was) due, out of quiet hours"})
    status = fields.String(
        metadata={
            "description": "scheduled, sending, sent, delivered, undelivered, failed or cancelled"
        }
    )
    to = fields.String(metadata={"description": "The care home's number, E.164"})
    replies = fields.List(fields.Nested(FollowUpReplySchema))


class NavigationSchema(Schema):
    id = fields.String()
    urgency = fields.String()
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

    from_ = fields.Date(
        data_key="from",
        load_default=_thirty_days_ago,
        metadata={"description": "YYYY-MM-DD, inclusive (default 30 days ago)"},
    )
    to = fields.Date(
        load_default=_today, metadata={"description": "YYYY-MM-DD, inclusive (default today)"}
    )

    @validates_schema
    def _ordered(self, data: dict[str, Any], **_: Any) -> None:
        if data["to"] < data["from_"]:
            raise ValidationError("must not be before from", "to")


class GapRowSchema(Schema):
    service_id = fields.String()
    service_name = fields.String(allow_none=True)
    service_type = fields.String(allow_none=True)
    criterion = fields.String()
    detail = fields.String()
    count = fields.Integer()
    last_seen = fields.String()


class GapReportSchema(Schema):
    from_ = fields.String(data_key="from")
    to = fields.String()
    items = fields.List(fields.Nested(GapRowSchema))
