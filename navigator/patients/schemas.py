from __future__ import annotations

from datetime import date
from typing import Any

from marshmallow import ValidationError, fields, validate

from navigator.core.fields import (
    DateField,
    FullPostcodeField,
    InVocabulary,
    NhsNumberField,
    OdsCodeField,
)
from navigator.core.schemas import StrictSchema
from navigator.core.vocabulary import PATIENT_SEXES
from navigator.directory.fields import References
from navigator.web.openapi import ResponseSchema

# "link": a client without the full view sent an NHS number already held and was given the
# patient's id (not the held record), so it is not a "read" (navigator.patients.service).
AUDIT_ACTIONS = ("read", "create", "update", "link")


def _past_date(value: date) -> None:
    if value > date.today() or value.year < 1880:
        raise ValidationError("Not a plausible date of birth")


class PatientInSchema(StrictSchema):
    nhs_number = NhsNumberField(load_default=None, allow_none=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    date_of_birth = DateField(load_default=None, allow_none=True, validate=_past_date)
    sex = fields.String(load_default="unknown", validate=validate.OneOf(PATIENT_SEXES))
    postcode = FullPostcodeField(load_default=None, allow_none=True)
    gp_practice_ods = OdsCodeField(load_default=None, allow_none=True)
    care_home_service_id = fields.String(
        load_default=None,
        allow_none=True,
        validate=[validate.Length(max=100), References("care_home")],
    )


class PatientSchema(ResponseSchema):
    id = fields.String()
    nhs_number = fields.String(allow_none=True)
    name = fields.String()
    date_of_birth = fields.String(allow_none=True)
    sex = fields.String(validate=validate.OneOf(PATIENT_SEXES))
    postcode = fields.String(allow_none=True)
    place = fields.String(allow_none=True, validate=InVocabulary("places"))
    gp_practice_ods = fields.String(allow_none=True)
    care_home_service_id = fields.String(allow_none=True)
    created_at = fields.String()
    warnings = fields.List(
        fields.String(), metadata={"description": "Demographics that differ from the record held"}
    )


class PatientRefMixin:
    """`patient_id` or an inline `patient`, on every request that concerns a patient."""

    patient_id = fields.String(validate=validate.Length(max=36))
    patient = fields.Nested(PatientInSchema)


class AuditQuerySchema(StrictSchema):
    patient_id = fields.String(required=True, validate=validate.Length(min=1, max=36))


class AuditEventSchema(ResponseSchema):
    at = fields.String()
    actor = fields.String()
    action = fields.String(
        validate=validate.OneOf(AUDIT_ACTIONS),
        metadata={
            "description": "read, create or update the record; link: a client that may not see "
            "the held record sent its NHS number and was given only the patient's id"
        },
    )
    entity = fields.String()
    entity_id = fields.String()
    route = fields.String()


class AuditListSchema(ResponseSchema):
    patient_id = fields.String()
    items = fields.List(fields.Nested(AuditEventSchema))


def check_patient_ref(data: dict[str, Any]) -> dict[str, list[str]]:
    if bool(data.get("patient_id")) == bool(data.get("patient")):
        return {"patient_id": ["Give exactly one of patient_id or patient"]}
    return {}
