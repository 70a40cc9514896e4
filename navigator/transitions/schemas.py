from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from navigator.core.fields import DateField, InstantField, InVocabulary, OdsCodeField
from navigator.core.schemas import StrictSchema
from navigator.directory.fields import References
from navigator.patients.schemas import PatientRefMixin, check_patient_ref
from navigator.transitions.dtoc import CARE_TYPES, REASONS, RESPONSIBLE
from navigator.transitions.service import TYPES
from navigator.web.openapi import ResponseSchema


class TransitionInSchema(PatientRefMixin, StrictSchema):
    event_id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    type = fields.String(required=True, validate=validate.OneOf(TYPES))
    occurred_at = InstantField(required=True)
    place = fields.String(
        validate=InVocabulary("places"),
        metadata={"description": "Default: from the patient's postcode"},
    )
    organisation = OdsCodeField()
    specialty = fields.String(validate=validate.Length(max=60))
    pathway = fields.Integer(
        validate=validate.Range(0, 3), metadata={"description": "Discharge to Assess pathway 0-3"}
    )
    destination = fields.String(validate=validate.Length(max=100))
    from_organisation = OdsCodeField()
    to_organisation = OdsCodeField()

    @validates_schema
    def _by_type(self, data: dict[str, Any], **_: Any) -> None:
        errors = check_patient_ref(data)
        if data.get("type") == "discharge" and "pathway" not in data:
            errors["pathway"] = ["A discharge needs its Discharge to Assess pathway (0-3)"]
        if data.get("type") == "transfer":
            for key in ("from_organisation", "to_organisation"):
                if key not in data:
                    errors[key] = ["A transfer needs both organisations"]
        if errors:
            raise ValidationError(errors)


class TransitionSchema(ResponseSchema):
    id = fields.String()
    event_id = fields.String()
    type = fields.String(validate=validate.OneOf(TYPES))
    occurred_at = fields.String()
    patient_id = fields.String()
    place = fields.String(
        allow_none=True,
        validate=InVocabulary("places"),
        metadata={
            "description": "A client that may not see the patient's held record is shown only "
            "the place it named, else that of the postcode it sent, else null"
        },
    )
    organisation = fields.String(allow_none=True)
    specialty = fields.String(allow_none=True)
    pathway = fields.Integer(allow_none=True)
    destination = fields.String(allow_none=True)
    from_organisation = fields.String(allow_none=True)
    to_organisation = fields.String(allow_none=True)
    readmission_30d = fields.Boolean(
        metadata={
            "description": "An emergency admission 0-29 days after a discharge; a client that "
            "may not see the patient's held record is shown it from its own discharges only"
        }
    )
    readmission_excluded = fields.Boolean(
        metadata={"description": "Cancer or obstetrics: left out of CISP readmissions"}
    )
    created_at = fields.String()


class DtocInSchema(PatientRefMixin, StrictSchema):
    provider_ods = OdsCodeField(required=True)
    site = fields.String(validate=validate.Length(max=200))
    care_type = fields.String(required=True, validate=validate.OneOf(CARE_TYPES))
    clinically_ready_at = InstantField(allow_none=True)
    mdt_ready_at = InstantField(allow_none=True)
    safe_to_transfer_at = InstantField(allow_none=True)
    reason = fields.String(required=True, validate=validate.OneOf(REASONS))
    responsible = fields.String(required=True, validate=validate.OneOf(RESPONSIBLE))
    receiving_service_id = fields.String(validate=[validate.Length(max=100), References("service")])
    expected_transfer_date = DateField()

    @validates_schema
    def _patient(self, data: dict[str, Any], **_: Any) -> None:
        if errors := check_patient_ref(data):
            raise ValidationError(errors)


class DtocUpdateSchema(StrictSchema):
    clinically_ready_at = InstantField()
    mdt_ready_at = InstantField()
    safe_to_transfer_at = InstantField()
    reason = fields.String(validate=validate.OneOf(REASONS))
    responsible = fields.String(validate=validate.OneOf(RESPONSIBLE))
    effective_at = InstantField(
        metadata={"description": "From when a new reason or responsibility applies"}
    )
    receiving_service_id = fields.String(validate=[validate.Length(max=100), References("service")])
    receiving_accepted_at = InstantField()
    expected_transfer_date = DateField()
    site = fields.String(validate=validate.Length(max=200))
    transferred_at = InstantField(metadata={"description": "Closes the episode"})
    destination = fields.String(validate=validate.Length(max=100))
    pathway = fields.Integer(validate=validate.Range(0, 3))


class DtocQuerySchema(StrictSchema):
    open = fields.Boolean(load_default=True)
    place = fields.String(validate=InVocabulary("places"))


class DtocIntervalSchema(ResponseSchema):
    """From when a reason and responsibility applied, and who recorded it."""

    effective_at = fields.String(
        allow_none=True, metadata={"description": "null for the episode's first interval"}
    )
    reason = fields.String(validate=validate.OneOf(REASONS))
    responsible = fields.String(validate=validate.OneOf(RESPONSIBLE))
    recorded_by = fields.String()


class DtocSchema(ResponseSchema):
    id = fields.String()
    patient_id = fields.String()
    provider_ods = fields.String()
    site = fields.String(allow_none=True)
    care_type = fields.String(validate=validate.OneOf(CARE_TYPES))
    place = fields.String(
        allow_none=True,
        validate=InVocabulary("places"),
        metadata={
            "description": "A provider that may not see the patient's held record is shown "
            "only the place of the postcode it sent, else null"
        },
    )
    clinically_ready_at = fields.String(allow_none=True)
    mdt_ready_at = fields.String(allow_none=True)
    safe_to_transfer_at = fields.String(allow_none=True)
    ready_at = fields.String(allow_none=True)
    receiving_service_id = fields.String(allow_none=True)
    receiving_accepted_at = fields.String(allow_none=True)
    expected_transfer_date = fields.String(allow_none=True)
    transferred_at = fields.String(allow_none=True)
    destination = fields.String(allow_none=True)
    pathway = fields.Integer(allow_none=True)
    open = fields.Boolean()
    reason = fields.String(validate=validate.OneOf(REASONS))
    responsible = fields.String(validate=validate.OneOf(RESPONSIBLE))
    history = fields.List(fields.Nested(DtocIntervalSchema))
    delayed_days = fields.Integer()
    delayed_days_by_month = fields.Dict(keys=fields.String(), values=fields.Integer())
    delayed_days_by_reason = fields.Dict(keys=fields.String(), values=fields.Integer())
    delayed_days_by_responsible = fields.Dict(keys=fields.String(), values=fields.Integer())


class DtocListSchema(ResponseSchema):
    items = fields.List(fields.Nested(DtocSchema))
