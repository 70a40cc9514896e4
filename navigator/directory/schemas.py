"""API schemas for the directory: query arguments and the documented response shapes."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from navigator.core.fields import InstantField, InVocabulary, PostcodeField
from navigator.core.schemas import StrictSchema
from navigator.core.vocabulary import PATIENT_SEXES, REFERRAL_METHODS
from navigator.core.vocabulary import SEXES as SERVICE_SEXES
from navigator.core.vocabulary import STATUSES as SERVICE_STATUSES
from navigator.directory.capacity import MAX_RESET_MINUTES, MIN_RESET_MINUTES
from navigator.directory.capacity import STATUSES as CAPACITY_STATUSES
from navigator.directory.records import MAX_AGE_DAYS
from navigator.web.openapi import ResponseSchema


class ServiceSearchArgs(StrictSchema):
    q = fields.String(
        validate=validate.Length(max=200),
        metadata={
            "description": "Free text over name, description and organisation; the names "
            "people use (A&E, UCR, OOH, IAPT) also match their synonyms "
            "(directory_of_services/search_synonyms.yaml)"
        },
    )
    need = fields.String(validate=InVocabulary("needs"))
    service_type = fields.String(validate=InVocabulary("service_types"))
    sector = fields.String(validate=InVocabulary("sectors"))
    place = fields.String(validate=InVocabulary("places"))
    postcode = PostcodeField(
        metadata={
            "description": "Full postcode or outward code; adds distance_km and orders by distance",
            "type": "string",
        }
    )
    radius_km = fields.Float(validate=validate.Range(min=0, max=500, min_inclusive=False))
    age = fields.Float(validate=validate.Range(0, 130), metadata={"description": "Age in years"})
    age_days = fields.Integer(validate=validate.Range(0, MAX_AGE_DAYS))
    sex = fields.String(validate=validate.OneOf(PATIENT_SEXES))
    caller_role = fields.String(validate=InVocabulary("caller_roles"))
    open_at = InstantField(metadata={"description": "ISO 8601; no offset means Europe/London"})
    open_now = fields.Boolean()
    include_unavailable = fields.Boolean(
        load_default=False,
        metadata={"description": "Include defunct, temporarily closed and red-capacity services"},
    )
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))

    @validates_schema
    def _combinations(self, data: dict[str, Any], **_: Any) -> None:
        if "age" in data and "age_days" in data:
            raise ValidationError("Give age or age_days, not both", "age_days")
        if "open_at" in data and data.get("open_now"):
            raise ValidationError("Give open_at or open_now, not both", "open_now")
        if "radius_km" in data and "postcode" not in data:
            raise ValidationError("radius_km needs a postcode", "radius_km")


class CapacityUpdateSchema(StrictSchema):
    status = fields.String(required=True, validate=validate.OneOf(CAPACITY_STATUSES))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))
    reset_after_minutes = fields.Integer(
        load_default=None,
        allow_none=True,
        validate=validate.Range(MIN_RESET_MINUTES, MAX_RESET_MINUTES),
        metadata={
            "description": "Amber/red return to green after this (15–1440); default from settings"
        },
    )


# --- documented responses --------------------------------------------------------------
# Views build these bodies as plain dicts (the search is a hot path); the schemas document
# them, and tests/web/test_schemathesis.py checks every response against them.


class OrganisationRefSchema(ResponseSchema):
    name = fields.String()
    ods_code = fields.String(allow_none=True)


class LocationOutSchema(ResponseSchema):
    address = fields.String(allow_none=True)
    postcode = fields.String(allow_none=True)
    lat = fields.Float(allow_none=True)
    lng = fields.Float(allow_none=True)


class ItemCapacitySchema(ResponseSchema):
    """A service's capacity as directory items and navigations show it."""

    status = fields.String(validate=validate.OneOf(CAPACITY_STATUSES))
    note = fields.String(allow_none=True)
    updated_at = fields.String(allow_none=True)
    stale = fields.Boolean(metadata={"description": "Not confirmed for CAPACITY_STALE_HOURS"})


class CapacityOutSchema(ItemCapacitySchema):
    """`PUT /services/{id}/capacity`: the capacity now, with when amber or red resets."""

    reset_at = fields.String(
        allow_none=True, metadata={"description": "When amber or red returns to green"}
    )


class EligibilityOutSchema(ResponseSchema):
    min_age_days = fields.Integer()
    max_age_days = fields.Integer(allow_none=True)
    sex = fields.String(validate=validate.OneOf(SERVICE_SEXES))
    caller_roles = fields.List(fields.String(validate=InVocabulary("caller_roles")))


class ContactOutSchema(ResponseSchema):
    public_phone = fields.String(allow_none=True)
    website = fields.String(allow_none=True)
    professional_phone = fields.String(allow_none=True)


class ServiceItemSchema(ResponseSchema):
    id = fields.String()
    name = fields.String()
    public_name = fields.String(allow_none=True)
    description = fields.String()
    organisation = fields.Nested(OrganisationRefSchema)
    sector = fields.String(validate=InVocabulary("sectors"))
    service_type = fields.String(validate=InVocabulary("service_types"))
    status = fields.String(validate=validate.OneOf(SERVICE_STATUSES))
    needs = fields.List(fields.String(validate=InVocabulary("needs")))
    places = fields.List(fields.String(validate=InVocabulary("places")))
    location = fields.Nested(LocationOutSchema, allow_none=True)
    distance_km = fields.Float(
        allow_none=True, metadata={"description": "From the postcode searched for; else null"}
    )
    capacity = fields.Nested(ItemCapacitySchema)
    open_now = fields.Boolean()
    next_open = fields.String(allow_none=True)
    opening_summary = fields.String()
    eligibility = fields.Nested(EligibilityOutSchema)
    contact = fields.Nested(ContactOutSchema)
    referral_method = fields.String(allow_none=True, validate=validate.OneOf(REFERRAL_METHODS))
    referral_info = fields.String(allow_none=True)


class ServiceListSchema(ResponseSchema):
    items = fields.List(fields.Nested(ServiceItemSchema))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class ChangeSchema(ResponseSchema):
    changed_at = fields.String()
    changed_by = fields.String()
    field = fields.String()
    old = fields.Raw(allow_none=True)
    new = fields.Raw(allow_none=True)


class SourceTermOutSchema(ResponseSchema):
    taxonomy = fields.String()
    code = fields.String()
    name = fields.String()


class ServiceDetailSchema(ServiceItemSchema):
    locations = fields.List(fields.Dict())
    coverage = fields.Dict()
    restrictions = fields.Dict()
    opening = fields.Dict()
    assured_at = fields.String(allow_none=True)
    assured_by = fields.String(allow_none=True)
    classified_by = fields.String(
        allow_none=True,
        metadata={
            "description": "Who gave the service its type when it came from another directory: "
            "mapping:<mapping name> or person:<console user>; null when its directory file "
            "sets the type, or while nothing has classified it"
        },
    )
    source_terms = fields.List(
        fields.Nested(SourceTermOutSchema),
        metadata={"description": "The source feed's own taxonomy terms (e.g. the LGA's ESD)"},
    )
    changes = fields.List(fields.Nested(ChangeSchema))
