"""Directory records: the navigator format's schema and its canonical form.

A *record* is the canonical, JSON-able dict of one organisation or service. Loading,
exporting, change history and the in-memory index all work on records, so "unchanged"
means exactly "the same canonical record". The schemas validate a raw record (a navigator
file, an ORUK import, a console edit); `canonical_organisation` / `canonical_service` give the
one shape of a validated record or of a row read back from the tables. Mapping records to and
from the tables is `navigator.directory.store`'s job. The `opening` block (opening times,
recurring entries) has its schema and canonical form in `navigator.directory.opening_records`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import phonenumbers
from marshmallow import (
    ValidationError,
    fields,
    validate,
    validates_schema,
)

from navigator.core.clock import max_age_days_from_years
from navigator.core.identifiers import (
    normalise_ods_code,
    normalise_phone,
    normalise_postcode,
    uk_mobile_e164,
)
from navigator.core.places import parse_postcode
from navigator.core.schemas import StrictSchema
from navigator.core.vocabulary import REFERRAL_METHODS, SEXES, STATUSES, Vocabulary
from navigator.directory.opening_records import OpeningSchema, canonical_opening

Record = dict[str, Any]

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")
# The oldest age a record holds: every 130-year-old (ORUK `maximum_age: 130`, read as the DoS
# reads a whole maximum: to the day before the 131st birthday, 47,847 days).
MAX_AGE_DAYS = max_age_days_from_years(130)


class _Identifier(fields.String):
    """An identifier loaded as its one ASCII spelling (`navigator.core.identifiers`), so a record
    typed with full-width or Arabic-Indic digits is stored and matched like any other."""

    def __init__(self, normalise: Callable[[str], str | None], message: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.normalise, self.message = normalise, message

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = self.normalise(super()._deserialize(value, attr, data, **kwargs))
        if text is None:
            raise ValidationError(self.message)
        return text


def _phone_text(value: str) -> str | None:
    text = normalise_phone(value)
    if text is None or (text.isdigit() and 3 <= len(text) <= 6):  # 111, 999, short codes
        return text
    try:
        parsed = phonenumbers.parse(text, "GB")
    except phonenumbers.NumberParseException:
        return None
    return text if phonenumbers.is_possible_number(parsed) else None


def _full_postcode(value: str) -> str | None:
    return normalise_postcode(value, allow_outward=False)


def _district(value: str) -> str | None:
    text = normalise_postcode(value)
    return text if text is not None and " " not in text else None


def _ods_field(**kwargs: Any) -> _Identifier:
    return _Identifier(normalise_ods_code, "Not an ODS code", **kwargs)


def _phone_field() -> _Identifier:
    message = "Not a possible UK phone number"
    return _Identifier(_phone_text, message, allow_none=True, load_default=None)


_Text = fields.String(allow_none=True, load_default=None)


def _up_to(limit: int) -> fields.String:
    """Optional text as long as its column allows (longer: a field error, not a 500)."""
    return fields.String(allow_none=True, load_default=None, validate=validate.Length(max=limit))


class OrganisationSchema(StrictSchema):
    id = fields.String(required=True, validate=validate.Regexp(SLUG, error="Not a lowercase slug"))
    name = fields.String(required=True, validate=validate.Length(min=1, max=300))
    ods_code = _ods_field(allow_none=True, load_default=None)
    charity_number = _up_to(20)
    sector = fields.String(required=True)
    website = fields.Url(allow_none=True, load_default=None, validate=validate.Length(max=500))


class EligibilitySchema(StrictSchema):
    min_age_days = fields.Integer(load_default=0, validate=validate.Range(0, MAX_AGE_DAYS))
    max_age_days = fields.Integer(
        allow_none=True, load_default=None, validate=validate.Range(0, MAX_AGE_DAYS)
    )
    sex = fields.String(load_default="any", validate=validate.OneOf(SEXES))
    caller_roles = fields.List(fields.String(), required=True, validate=validate.Length(min=1))
    gp_practices = fields.List(_ods_field(), load_default=list)
    places = fields.List(fields.String(), load_default=list)

    @validates_schema
    def _ages_in_order(self, data: Mapping[str, Any], **_: Any) -> None:
        if data.get("max_age_days") is not None and data["max_age_days"] < data["min_age_days"]:
            raise ValidationError("max_age_days is below min_age_days", "max_age_days")


class CoverageSchema(StrictSchema):
    places = fields.List(fields.String(), load_default=list)
    postcode_districts = fields.List(
        _Identifier(_district, "Not a postcode district (outward code)"), load_default=list
    )
    radius_km = fields.Float(allow_none=True, load_default=None, validate=validate.Range(0, 500))


class LocationSchema(StrictSchema):
    name = _up_to(300)
    address = _up_to(500)
    postcode = _Identifier(
        _full_postcode, "Not a valid UK postcode", allow_none=True, load_default=None
    )
    lat = fields.Float(allow_none=True, load_default=None, validate=validate.Range(49.0, 61.0))
    lng = fields.Float(allow_none=True, load_default=None, validate=validate.Range(-9.0, 2.5))


class ContactSchema(StrictSchema):
    public_phone = _phone_field()
    professional_phone = _phone_field()
    email = fields.Email(allow_none=True, load_default=None, validate=validate.Length(max=254))
    website = fields.Url(allow_none=True, load_default=None, validate=validate.Length(max=500))


class SmsNumberField(fields.String):
    """A UK mobile number, loaded as E.164."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return uk_mobile_e164(text)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc


class SmsSchema(StrictSchema):
    """A care home's number for follow-up texts and its recorded consent to receive them."""

    number = SmsNumberField(required=True)
    consent = fields.Boolean(required=True)
    consent_recorded_at = fields.AwareDateTime(
        allow_none=True, load_default=None, default_timezone=UTC
    )

    @validates_schema
    def _consent_is_recorded(self, data: Mapping[str, Any], **_: Any) -> None:
        if data["consent"] and data["consent_recorded_at"] is None:
            raise ValidationError("Say when consent was recorded", "consent_recorded_at")


class ReferralSchema(StrictSchema):
    method = fields.String(
        allow_none=True, load_default=None, validate=validate.OneOf(REFERRAL_METHODS)
    )
    info = _Text


class SourceTermSchema(StrictSchema):
    """A taxonomy term the source feed classified a service with (ORUK `attributes` /
    HSDS-UK `service_taxonomys`), kept as given: e.g. taxonomy `esdServiceTypes`, code
    `http://id.esd.org.uk/service/242`, name `Care at home`."""

    taxonomy = fields.String(required=True, validate=validate.Length(min=1, max=200))
    code = fields.String(required=True, validate=validate.Length(min=1, max=300))
    name = fields.String(load_default="", validate=validate.Length(max=300))


class ServiceSchema(StrictSchema):
    id = fields.String(required=True, validate=validate.Regexp(SLUG, error="Not a lowercase slug"))
    organisation = fields.String(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=300))
    public_name = _up_to(300)
    description = fields.String(load_default="")
    service_type = fields.String(required=True)
    sector = fields.String(required=True)
    needs = fields.List(fields.String(), load_default=list)
    status = fields.String(load_default="active", validate=validate.OneOf(STATUSES))
    eligibility = fields.Nested(EligibilitySchema, required=True)
    coverage = fields.Nested(CoverageSchema, load_default=dict)
    locations = fields.List(fields.Nested(LocationSchema), load_default=list)
    contact = fields.Nested(ContactSchema, load_default=dict)
    referral = fields.Nested(ReferralSchema, load_default=dict)
    opening = fields.Nested(OpeningSchema, load_default=dict)
    assured_at = fields.AwareDateTime(allow_none=True, load_default=None, default_timezone=UTC)
    assured_by = _up_to(200)
    classified_by = _up_to(200)
    source_terms = fields.List(fields.Nested(SourceTermSchema), load_default=list)
    sms = fields.Nested(SmsSchema, allow_none=True, load_default=None)

    @validates_schema
    def _sms_for_care_homes_only(self, data: Mapping[str, Any], **_: Any) -> None:
        if data.get("sms") and data.get("service_type") != "care_home":
            raise ValidationError("Only care homes have an SMS number for follow-ups", "sms")


def vocabulary_errors(record: Mapping[str, Any], vocab: Vocabulary) -> dict[str, list[str]]:
    """Values outside the controlled vocabulary, by field."""
    errors: dict[str, list[str]] = defaultdict(list)

    def check(field: str, scheme: str, values: Iterable[str]) -> None:
        for value in values:
            if not vocab.has(scheme, value):
                errors[field].append(f"{value!r} is not a known {scheme[:-1].replace('_', ' ')}")

    check("sector", "sectors", [record["sector"]])
    if "service_type" in record:
        check("service_type", "service_types", [record["service_type"]])
        check("needs", "needs", record["needs"])
        check("eligibility.caller_roles", "caller_roles", record["eligibility"]["caller_roles"])
        check("eligibility.places", "places", record["eligibility"]["places"])
        check("coverage.places", "places", record["coverage"]["places"])
    return dict(errors)


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


def canonical_organisation(data: Mapping[str, Any]) -> Record:
    """The one canonical shape of an organisation record (from a loaded file or the tables)."""
    return {
        "id": data["id"],
        "name": data["name"],
        "ods_code": data["ods_code"].upper() if data.get("ods_code") else None,
        "charity_number": data.get("charity_number"),
        "sector": data["sector"],
        "website": data.get("website"),
    }


def canonical_service(data: Mapping[str, Any]) -> Record:
    """The one canonical shape of a service record (from a loaded file or from the tables)."""
    elig, cov = data["eligibility"], data.get("coverage") or {}
    contact, referral = data.get("contact") or {}, data.get("referral") or {}
    assured = data.get("assured_at")
    return {
        "id": data["id"],
        "organisation": data["organisation"],
        "name": data["name"],
        "public_name": data.get("public_name"),
        "description": data.get("description") or "",
        "service_type": data["service_type"],
        "sector": data["sector"],
        "needs": sorted(set(data.get("needs") or [])),
        "status": data.get("status") or "active",
        "eligibility": {
            "min_age_days": int(elig.get("min_age_days") or 0),
            "max_age_days": elig.get("max_age_days"),
            "sex": elig.get("sex") or "any",
            "caller_roles": sorted(set(elig["caller_roles"])),
            "gp_practices": sorted({p.upper() for p in elig.get("gp_practices") or []}),
            "places": sorted(set(elig.get("places") or [])),
        },
        "coverage": {
            "places": sorted(set(cov.get("places") or [])),
            "postcode_districts": sorted({d.upper() for d in cov.get("postcode_districts") or []}),
            "radius_km": _opt_float(cov.get("radius_km")),
        },
        "locations": [
            {
                "name": loc.get("name"),
                "address": loc.get("address"),
                "postcode": _normal_postcode(loc.get("postcode")),
                "lat": _opt_float(loc.get("lat")),
                "lng": _opt_float(loc.get("lng")),
            }
            for loc in data.get("locations") or []
        ],
        "contact": {
            key: contact.get(key)
            for key in ("public_phone", "professional_phone", "email", "website")
        },
        "referral": {"method": referral.get("method"), "info": referral.get("info")},
        "opening": canonical_opening(data.get("opening") or {}),
        "assured_at": _iso(assured) if isinstance(assured, datetime) else assured,
        "assured_by": data.get("assured_by"),
        "classified_by": data.get("classified_by"),
        "source_terms": sorted(
            (
                {"taxonomy": t["taxonomy"], "code": t["code"], "name": t.get("name") or ""}
                for t in data.get("source_terms") or []
            ),
            key=lambda t: (t["taxonomy"], t["code"], t["name"]),
        ),
        "sms": _canonical_sms(data.get("sms")),
    }


def _canonical_sms(sms: Mapping[str, Any] | None) -> Record | None:
    if not sms or not sms.get("number"):
        return None
    recorded = sms.get("consent_recorded_at")
    return {
        "number": sms["number"],
        "consent": bool(sms.get("consent")),
        "consent_recorded_at": _iso(recorded) if isinstance(recorded, datetime) else recorded,
    }


def _normal_postcode(value: str | None) -> str | None:
    parsed = parse_postcode(value, allow_outward=False) if value else None
    return parsed.text if parsed else value
