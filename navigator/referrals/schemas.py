from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from navigator.core.schemas import StrictSchema
from navigator.core.vocabulary import URGENCIES
from navigator.directory.fields import References
from navigator.patients.schemas import PatientRefMixin, check_patient_ref
from navigator.referrals.service import REJECTION_REASONS, STATUSES
from navigator.web.openapi import ResponseSchema


class ReferralInSchema(PatientRefMixin, StrictSchema):
    # An unknown navigation_id (or one the client may not see) is a 422 naming it from
    # `create_referral`, which reads the call anyway; the foreign key backs it.
    navigation_id = fields.String(validate=validate.Length(max=36))
    service_id = fields.String(
        required=True, validate=[validate.Length(max=100), References("service")]
    )
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    urgency = fields.String(required=True, validate=validate.OneOf(URGENCIES))
    consent = fields.Boolean(
        required=True, metadata={"description": "Must be true: the patient agreed to the referral"}
    )
    notes = fields.String(validate=validate.Length(max=4000))

    @validates_schema
    def _checks(self, data: dict[str, Any], **_: Any) -> None:
        errors = check_patient_ref(data)
        if data.get("consent") is False:
            errors["consent"] = ["The patient's consent is needed to refer"]
        if errors:
            raise ValidationError(errors)


class ReferralUpdateSchema(StrictSchema):
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    # One of REJECTION_REASONS whatever the status: a coded reason, so it is documented as an
    # enum and reported on; free text goes in `note`. Required for `rejected` (the service).
    reason = fields.String(
        validate=validate.OneOf(REJECTION_REASONS),
        metadata={"description": "Why; required when `status` is `rejected`"},
    )
    outcome = fields.String(validate=validate.Length(max=2000))
    note = fields.String(validate=validate.Length(max=2000))


class ReferralQuerySchema(StrictSchema):
    overdue = fields.Boolean(load_default=False)
    status = fields.String(validate=validate.OneOf(STATUSES))
    service_id = fields.String(validate=validate.Length(max=100))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(1, 200))


class ReferralEventSchema(ResponseSchema):
    at = fields.String()
    by = fields.String()
    from_ = fields.String(data_key="from", allow_none=True, validate=validate.OneOf(STATUSES))
    to = fields.String(validate=validate.OneOf(STATUSES))
    reason = fields.String(allow_none=True, validate=validate.OneOf(REJECTION_REASONS))
    note = fields.String(allow_none=True)
    outcome = fields.String(allow_none=True)


class ReferralSchema(ResponseSchema):
    # Lists leave out each referral's history; single reads include it.
    optional = frozenset({"history"})

    id = fields.String()
    navigation_id = fields.String(allow_none=True)
    service_id = fields.String()
    patient_id = fields.String()
    reason = fields.String()
    urgency = fields.String(validate=validate.OneOf(URGENCIES))
    consent = fields.Boolean()
    notes = fields.String(allow_none=True)
    status = fields.String(validate=validate.OneOf(STATUSES))
    outcome = fields.String(allow_none=True)
    created_at = fields.String()
    created_by = fields.String()
    due_by = fields.String()
    acknowledged_at = fields.String(allow_none=True)
    overdue = fields.Boolean()
    history = fields.List(fields.Nested(ReferralEventSchema))


class ReferralListSchema(ResponseSchema):
    items = fields.List(fields.Nested(ReferralSchema))
    total = fields.Integer()
