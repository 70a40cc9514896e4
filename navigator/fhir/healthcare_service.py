"""A directory service as a FHIR R4 `HealthcareService` (`healthcare_service`): what the
search `GET /fhir/HealthcareService` (`navigator.fhir.service_search`) and the read
`GET /fhir/HealthcareService/{id}` answer with.

The shape follows the DoS Search API (`NHSDigital/ftrs-directory-of-services`,
`docs/specification/dos-search.yaml`, its HealthcareService example): `providedBy` an
Organization reference, `type`, `eligibility`, `telecom` with each phone number's audience in
the core extension `contactpoint-comment` ("Public" or "Clinician Access Only", the DoS's own
words). Where navigator holds more, it says it in core elements where they fit and in two
extensions of its own where they do not:

Element by element, from the directory record:

- `identifier`: `{base}/Id/service` + the service id (services carry no ODS code of their own);
- `providedBy`: `Organization/<organisation id>`, with the ODS code as `identifier` when known;
- `category` / `type` / `characteristic`: sector / service type / needs, each a navigator
  CodeSystem (`navigator.fhir.codesystems`);
- `location`: `#loc-N`, each service location as a `contained` Location (name, address,
  postcode, position): navigator serves no Location endpoint;
- `telecom`: public phone ("Public"), professional phone ("Clinician Access Only", only when
  `professional`), email, website;
- `eligibility`: sex (administrative-gender), age range (usage-context-type `age`, with exact
  days in the extension `eligibility-age-range`), each caller role admitted (caller-roles),
  each place (places) or GP practice a service is restricted to;
- `availableTime`, `notAvailable`, `availabilityExceptions`: the opening times
  (`navigator.fhir.availability`);
- `referralMethod`: the referral method (service-referral-method where one fits);
- extension `service-capacity`: the live RAG status.

The capacity extension (`{base}/StructureDefinition/service-capacity`) is complex:
`status` valueCode (green | amber | red, 1..1), `stale` valueBoolean (1..1; true when not
updated within `CAPACITY_STALE_HOURS`, or never), `updated` valueInstant (0..1), `resetAt`
valueInstant (0..1; when an amber or red status returns to green), `note` valueString (0..1).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from navigator.core.clock import to_local, years_for_max_age_days, years_for_min_age_days
from navigator.core.vocabulary import Vocabulary
from navigator.directory.capacity import Capacity
from navigator.directory.index import Entry
from navigator.fhir.availability import (
    availability_exceptions,
    available_time,
    not_available,
)
from navigator.fhir.codesystems import (
    ODS_SYSTEM,
    coding,
    extension_url,
    service_id_system,
)

CONTACTPOINT_COMMENT = "http://hl7.org/fhir/StructureDefinition/contactpoint-comment"
PUBLIC_NUMBER, CLINICIAN_ONLY = "Public", "Clinician Access Only"  # the DoS's own words
GENDER_SYSTEM = "http://hl7.org/fhir/administrative-gender"
USAGE_CONTEXT_TYPE = "http://terminology.hl7.org/CodeSystem/usage-context-type"
REFERRAL_METHOD_SYSTEM = "http://terminology.hl7.org/CodeSystem/service-referral-method"
UCUM = "http://unitsofmeasure.org"
CAPACITY_EXTENSION = "service-capacity"
AGE_RANGE_EXTENSION = "eligibility-age-range"
# Caller roles who are not told professional-only numbers (caller_roles.yaml: "professional-
# only phone numbers and referral instructions must never be shown to public callers").
NOT_PROFESSIONAL = frozenset({"public", "relative"})
# navigator's referral methods that service-referral-method names (the rest are text only).
REFERRAL_CODES = {"phone": ("phone", "Phone"), "bars": ("elec", "Secure Messaging")}
REFERRAL_TEXT = {
    "phone": "Phone",
    "email": "Email",
    "online": "Online",
    "walk_in": "Walk in",
    "bars": "BaRS (Booking and Referral Standard)",
    "ers": "NHS e-Referral Service",
    "self_referral": "Self-referral",
}


def shows_professional(caller_role: str | None) -> bool:
    """Whether professional-only details (the "Clinician Access Only" number) are shown: not
    when the search says the caller is `public` or `relative`. Without a caller role they are,
    as `/api/v1/services` shows them to every API key: the key holder is a professional
    system (an NHS 111 or care navigation service), not a member of the public."""
    return caller_role not in NOT_PROFESSIONAL


def healthcare_service(
    entry: Entry,
    capacity: Capacity,
    vocab: Vocabulary,
    *,
    now: datetime,
    professional: bool,
) -> dict[str, Any]:
    """One directory service as a HealthcareService (a JSON-ready dict, not yet validated:
    the caller validates it alone or in its Bundle with fhir.resources). `professional`:
    whether the "Clinician Access Only" number is included (`shows_professional`)."""
    record, org = entry.record, entry.organisation
    provided_by: dict[str, Any] = {"reference": f"Organization/{org['id']}", "display": org["name"]}
    if org["ods_code"]:
        provided_by["identifier"] = {"system": ODS_SYSTEM, "value": org["ods_code"]}
    contained, references = _locations(record["locations"])
    resource: dict[str, Any] = {
        "resourceType": "HealthcareService",
        "id": entry.id,
        "extension": [_capacity_extension(capacity)],
        "identifier": [{"use": "official", "system": service_id_system(), "value": entry.id}],
        "active": entry.active,
        "providedBy": provided_by,
        "category": [{"coding": [coding("sectors", record["sector"], vocab)]}],
        "type": [{"coding": [coding("service-types", entry.service_type, vocab)]}],
        "name": record["name"],
    }
    if contained:
        resource["contained"] = contained
        resource["location"] = references
    if record["public_name"]:
        resource["comment"] = f"Known to the public as {record['public_name']}"
    if record["description"].strip():
        resource["extraDetails"] = record["description"]
    if telecom := _telecom(record["contact"], professional):
        resource["telecom"] = telecom
    resource["eligibility"] = _eligibility(record["eligibility"], vocab)
    if record["needs"]:
        resource["characteristic"] = [
            {"coding": [coding("needs", need, vocab)]} for need in record["needs"]
        ]
    if method := record["referral"]["method"]:
        concept: dict[str, Any] = {"text": REFERRAL_TEXT.get(method, method)}
        if method in REFERRAL_CODES:
            code, display = REFERRAL_CODES[method]
            concept["coding"] = [
                {"system": REFERRAL_METHOD_SYSTEM, "code": code, "display": display}
            ]
        resource["referralMethod"] = [concept]
    if available := available_time(entry.schedule):
        resource["availableTime"] = available
    today = to_local(now).date()
    if closures := not_available(entry, record["opening"], today):
        resource["notAvailable"] = closures
    resource["availabilityExceptions"] = availability_exceptions(
        entry.opening_summary, record["opening"], today
    )
    return resource


def _capacity_extension(capacity: Capacity) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [
        {"url": "status", "valueCode": capacity.status},
        {"url": "stale", "valueBoolean": capacity.stale},
    ]
    if capacity.updated_at is not None:
        parts.append({"url": "updated", "valueInstant": _instant(capacity.updated_at)})
    if capacity.reset_at is not None:
        parts.append({"url": "resetAt", "valueInstant": _instant(capacity.reset_at)})
    if capacity.note:
        parts.append({"url": "note", "valueString": capacity.note})
    return {"url": extension_url(CAPACITY_EXTENSION), "extension": parts}


def _instant(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _locations(locations: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[Any]]:
    contained, references = [], []
    for number, location in enumerate(locations, start=1):
        resource: dict[str, Any] = {"resourceType": "Location", "id": f"loc-{number}"}
        if location["name"]:
            resource["name"] = location["name"]
        address = {
            key: value
            for key, value in (("text", location["address"]), ("postalCode", location["postcode"]))
            if value
        }
        if address:
            resource["address"] = address | {"country": "GB"}
        if location["lat"] is not None and location["lng"] is not None:
            resource["position"] = {"latitude": location["lat"], "longitude": location["lng"]}
        contained.append(resource)
        references.append({"reference": f"#loc-{number}", "display": location["name"] or None})
    for reference in references:
        if reference["display"] is None:
            del reference["display"]
    return contained, references


def _telecom(contact: dict[str, Any], professional: bool) -> list[dict[str, Any]]:
    def phone(number: str, audience: str) -> dict[str, Any]:
        return {
            "extension": [{"url": CONTACTPOINT_COMMENT, "valueString": audience}],
            "system": "phone",
            "value": number,
            "use": "work",
        }

    telecom = []
    if contact["public_phone"]:
        telecom.append(phone(contact["public_phone"], PUBLIC_NUMBER))
    if professional and contact["professional_phone"]:
        telecom.append(phone(contact["professional_phone"], CLINICIAN_ONLY))
    if contact.get("email"):
        telecom.append({"system": "email", "value": contact["email"], "use": "work"})
    if contact["website"]:
        telecom.append({"system": "url", "value": contact["website"], "use": "work"})
    return telecom


def _eligibility(elig: dict[str, Any], vocab: Vocabulary) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if elig["sex"] != "any":
        out.append(
            {
                "code": {
                    "coding": [
                        {
                            "system": GENDER_SYSTEM,
                            "code": elig["sex"],
                            "display": elig["sex"].title(),
                        }
                    ]
                },
                "comment": f"Only for {elig['sex']} patients",
            }
        )
    low, high = elig["min_age_days"], elig["max_age_days"]
    if low > 0 or high is not None:
        days: dict[str, Any] = {"low": _days(low)}
        if high is not None:
            days["high"] = _days(high)
        if high is None:
            words = f"Aged {years_for_min_age_days(low)} years or over"
        else:
            words = f"Aged {years_for_min_age_days(low)} to {years_for_max_age_days(high)} years"
        out.append(
            {
                "extension": [{"url": extension_url(AGE_RANGE_EXTENSION), "valueRange": days}],
                "code": {
                    "coding": [
                        {"system": USAGE_CONTEXT_TYPE, "code": "age", "display": "Age Range"}
                    ]
                },
                "comment": f"{words} ({low} to {'any' if high is None else high} days of age)",
            }
        )
    for role in elig["caller_roles"]:
        out.append(
            {
                "code": {"coding": [coding("caller-roles", role, vocab)]},
                "comment": f"Takes calls or referrals from: {vocab.label('caller_roles', role)}",
            }
        )
    for place in elig["places"]:
        out.append(
            {
                "code": {"coding": [coding("places", place, vocab)]},
                "comment": f"Only for patients in {vocab.label('places', place)}",
            }
        )
    if elig["gp_practices"]:
        out.append(
            {
                "code": {"text": "Registered with a listed GP practice"},
                "comment": "Only for patients registered with the GP practice (ODS code) "
                + ", ".join(elig["gp_practices"]),
            }
        )
    return out


def _days(value: int) -> dict[str, Any]:
    return {"value": value, "unit": "days", "system": UCUM, "code": "d"}
