"""A BaRS referral message: read the Bundle with fhir.resources (R4B), check the standard's
invariants, and map it to navigator's own request shapes (issue 16).

Sources (NHSDigital/NHSDigital-FHIR-BookingAndReferrals @ 0cf8fdaa):
`guides/.../Core/1-5-0/Error-Handling/Failure-Scenarios-1-1-x/Bundle-Processing.page.md` (the
receiver's pseudo code: `Bundle.meta.versionId` missing → 400 `invariant`, an unsupported one →
422; event `servicerequest-request` with reason `new` needs ServiceRequest `active`, category
Referral needs CarePlan `completed` and Encounter `triaged` or `finished`; reason `update` of a
Referral needs ServiceRequest `revoked` or `entered-in-error`, anything else → 400
`invariant`), and the examples `REFREQ01` (111 to ED), `SERVREQ01` (revoked, reason `update`)
and `SERVREQ02` (entered-in-error, reason `delete`).

Every refusal is a `Problem` whose `errors` name FHIR paths (`Bundle.entry[3].resource.status`,
`ServiceRequest.status`) and rules, never a value from the message: diagnostics carry no
patient data.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, cast

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.careplan import CarePlan
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.flag import Flag
from fhir.resources.R4B.messageheader import MessageHeader
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.servicerequest import ServiceRequest

from navigator.bars.terms import (
    CATEGORY_SYSTEM,
    FLAG_CATEGORY_SYSTEM,
    NHS_NUMBER_SYSTEM,
    ODS_SYSTEM,
)
from navigator.core.errors import Problem
from navigator.core.identifiers import normalise_nhs_number, normalise_ods_code, normalise_postcode
from navigator.web.edge import json_text_errors

# Code systems of the standard read only here (the shared ones are in navigator.bars.terms;
# the events system is spelt two ways in the standard: the code decides, not the system).
DX_SYSTEM = "https://fhir.nhs.uk/CodeSystem/pathways-dx-codes"
SG_SYSTEM = "https://fhir.nhs.uk/CodeSystem/pathways-sg-codes"
SD_SYSTEM = "https://fhir.nhs.uk/CodeSystem/pathways-sd-codes"
USE_CASE_SYSTEMS = (
    "https://fhir.nhs.uk/CodeSystem/usecases-categories-bars",  # REFREQ01's spelling
    "https://fhir.nhs.uk/CodeSystem/usecase-categories-bars",  # the content-negotiation page's
)
# BaRS flag categories (FLA01-FLA10 examples) → what the console shows them as.
FLAG_CATEGORIES = {"SG": "safeguarding", "RA": "reasonable_adjustment"}

# The resource types navigator reads from a referral, each validated in full.
READ_TYPES = frozenset(
    {"MessageHeader", "ServiceRequest", "Patient", "Encounter", "CarePlan", "Flag", "Organization"}
)
REFERRAL_REQUEST = "servicerequest-request"
# Events of the standard navigator does not receive: refused 422 not-supported, not 400.
OTHER_EVENTS = frozenset(
    {"servicerequest-response", "booking-request", "booking-response", "message-response"}
)
NEW, UPDATE, DELETE = "new", "update", "delete"
CANCELLED_STATUSES = frozenset({"revoked", "entered-in-error"})
# Bundle.meta.versionId is the BaRS Core version the message was built against (REFREQ01
# "1.0.0", SERVREQ01 "1.1.0"): navigator reads major version 1.
SUPPORTED_MAJOR = "1"
# FHIR's id type (R4 datatypes: `[A-Za-z0-9\-\.]{1,64}`): what a MessageHeader or
# ServiceRequest id navigator keeps must be, as it goes back in `response.identifier` and as a
# resource id in every status response.
FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
# The years a message's times may fall in. Python's datetime stops at years 1 and 9999, so a
# time at either end with an offset (9999-12-31T23:59:59-14:00) cannot be converted to UTC;
# no referral is dated outside these years (review of issue 16).
YEARS = (1900, 2200)
# MessageHeader.source.contact values longer than this are dropped (BarsReferral.sender_phone).
PHONE_MAX = 40


def invariant(path: str, rule: str) -> Problem:
    """400 `invariant`: a content rule of the standard failed at `path`."""
    return Problem(400, f"{path}: {rule}", code="invariant", errors={path: [rule]})


def unsupported(path: str, why: str) -> Problem:
    """422 `not-supported` (REC_UNPROCESSABLE_ENTITY): valid BaRS that navigator does not do."""
    return Problem(422, f"{path}: {why}", code="not-supported", errors={path: [why]})


def bad_value(path: str, why: str, code: str = "value") -> Problem:
    return Problem(400, f"{path}: {why}", code=code, errors={path: [why]})


def entry_id(resource: Any, full_url: str | None, path: str) -> str:
    """The id navigator keeps for an entry's resource (review of issue 16; FHIR R4 Bundle:
    `fullUrl` is a `urn:uuid:` or an absolute URL ending in `Type/id`): `resource.id` (already
    a FHIR id: fhir.resources checks it), else the uuid of a `urn:uuid:` fullUrl, else the
    last segment of an absolute fullUrl, when either is a FHIR id (`FHIR_ID`). Anything else
    (no id and no fullUrl, or `https://sender/ServiceRequest/a:b`) is 400 `invariant` at
    `path` (the entry's `fullUrl`): such an id could not go back in a response message."""
    if resource.id:
        return str(resource.id)
    url = str(full_url or "")
    candidate = url[len("urn:uuid:") :] if url.startswith("urn:uuid:") else url.rstrip("/")
    candidate = candidate.rsplit("/", 1)[-1]
    if FHIR_ID.fullmatch(candidate):
        return candidate
    raise invariant(
        path, "Give the resource an id, or a fullUrl that is a urn:uuid or ends in a FHIR id."
    )


def check_time(value: Any, path: str) -> None:
    """400 `value` at `path` for a time outside the years `YEARS` (review of issue 16: such a
    time with an offset overflows on conversion to UTC)."""
    if isinstance(value, datetime | date) and not YEARS[0] <= value.year <= YEARS[1]:
        raise bad_value(path, f"The time must fall between the years {YEARS[0]} and {YEARS[1]}.")


# --- Parsing --------------------------------------------------------------------------------


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _fhir_path(loc: tuple[Any, ...]) -> str:
    """pydantic's error location as a FHIR path: ('entry', 3, 'resource', 'status') →
    `Bundle.entry[3].resource.status`. Names and indexes only, never the input."""
    path = "Bundle"
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif isinstance(part, str) and part.replace("_", "").isalnum() and len(part) <= 60:
            path += f".{part}"
        else:
            path += ".?"
    return path


def parse_bundle(body: bytes, *, max_depth: int = 32) -> tuple[Bundle, dict[str, Any]]:
    """(the Bundle as fhir.resources reads it, the JSON as sent). Raises Problem 400: not
    UTF-8, not JSON, nested deeper than `max_depth`, a string with NUL or a lone surrogate
    (PostgreSQL cannot store NUL; `json_text_errors` names the paths), not a Bundle, or not
    valid FHIR R4B (each failing path named, `structure`)."""
    try:
        value = json.loads(body.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise bad_value("body", "The body is not valid UTF-8.", "structure") from None
    except RecursionError:
        raise bad_value("body", "The body is nested too deep.", "structure") from None
    except ValueError:
        raise bad_value("body", "The body is not valid JSON.", "structure") from None
    errors = json_text_errors(value, max_depth=max_depth)
    if errors is None:
        raise bad_value("body", f"The body nests more than {max_depth} deep.", "structure")
    if errors:
        raise Problem(
            400,
            "Text that cannot be stored (NUL or a lone surrogate) in: " + ", ".join(errors),
            code="value",
            errors={f"Bundle.{path}": texts for path, texts in errors.items()},
        )
    if not isinstance(value, dict) or value.get("resourceType") != "Bundle":
        raise bad_value("Bundle", "The body must be a FHIR Bundle resource.", "structure")
    entries = value.get("entry")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        entries = None  # left to fhir.resources, which names what is wrong
    try:
        if entries is None:
            return Bundle.model_validate(value), value
        # The envelope, then each resource: those navigator reads are validated in full with
        # their R4B model; the others (medications, allergies, questionnaires …) are kept as
        # received and only checked to be a known R4B resource type. Validating every
        # resource of REFREQ01 costs ~25 ms, half the 50 ms budget (bench/README.md).
        envelope = {
            **value,
            "entry": [{k: v for k, v in e.items() if k != "resource"} for e in entries],
        }
        bundle = Bundle.model_validate(envelope)
        for position, entry in enumerate(entries):
            if "resource" in entry:
                assert bundle.entry is not None
                bundle.entry[position].resource = _resource(entry["resource"], position)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise _structure_problem(exc) from None
    except (TypeError, KeyError, AttributeError, RecursionError):
        raise bad_value("Bundle", "The Bundle is not valid FHIR R4.", "structure") from None
    return bundle, value


def _resource(data: Any, position: int) -> Any:
    """One entry's resource: validated with its R4B model when navigator reads that type,
    else None (kept only in the JSON as received) once its type is known."""
    path = f"Bundle.entry[{position}].resource"
    kind = data.get("resourceType") if isinstance(data, dict) else None
    if not isinstance(kind, str):
        raise bad_value(path, "Each resource needs its resourceType.", "structure")
    try:
        model = get_fhir_model_class(kind)
    except (KeyError, ValueError, ImportError):
        raise bad_value(path, "Not an R4 resource type.", "structure") from None
    if kind not in READ_TYPES:
        return None
    try:
        return model.model_validate(data)
    except ValueError as exc:
        raise _structure_problem(exc, prefix=("entry", position, "resource")) from None


def _structure_problem(exc: ValueError, prefix: tuple[Any, ...] = ()) -> Problem:
    fields: dict[str, list[str]] = {}
    listed = getattr(exc, "errors", None)
    for error in listed() if callable(listed) else []:
        path = _fhir_path(prefix + tuple(error.get("loc", ())))
        # pydantic's error *type* (missing, string_type, extra_forbidden …), not its message,
        # which can quote the input.
        fields.setdefault(path, []).append(f"Not valid FHIR R4 ({error.get('type', 'invalid')})")
        if len(fields) >= 20:
            break
    return Problem(
        400,
        "The Bundle is not valid FHIR R4: " + ", ".join(fields or ["Bundle"]),
        code="structure",
        errors=fields or {"Bundle": ["Not valid FHIR R4"]},
    )


# --- The message ----------------------------------------------------------------------------


@dataclass
class Entries:
    """The Bundle's resources by fullUrl and by `Type/id`, for resolving references."""

    by_ref: dict[str, tuple[int, Any]] = field(default_factory=dict)

    @classmethod
    def of(cls, bundle: Bundle) -> Entries:
        entries = cls()
        for i, entry in enumerate(bundle.entry or []):
            resource = entry.resource
            if resource is None:
                continue
            kind = resource.get_resource_type()
            if entry.fullUrl:
                entries.by_ref.setdefault(str(entry.fullUrl), (i, resource))
            if resource.id:
                entries.by_ref.setdefault(f"{kind}/{resource.id}", (i, resource))
        return entries

    def resolve(self, reference: Any, kind: str) -> tuple[int, Any] | None:
        """The entry (index, resource) a Reference names, if it is in the Bundle and of
        `kind`."""
        ref = getattr(reference, "reference", None) if reference is not None else None
        if not ref:
            return None
        found = self.by_ref.get(str(ref))
        if found is None and "/" in str(ref):  # an absolute URL ending in Type/id
            found = self.by_ref.get("/".join(str(ref).rstrip("/").split("/")[-2:]))
        if found is None or found[1].get_resource_type() != kind:
            return None
        return found


@dataclass
class BarsMessage:
    """What navigator reads from one BaRS message (no patient data leaves this in errors)."""

    bundle: Bundle
    header: MessageHeader
    event: str
    reason: str
    time: datetime  # Bundle.timestamp: when the sender built the message (aware UTC)
    service_request: ServiceRequest
    service_request_id: str  # the sender's ServiceRequest id (`entry_id`: a FHIR id)
    category: str | None  # referral | validation | … (message-category-servicerequest)
    use_case: str | None  # e.g. a1t1 "111 to ED"
    patient: Patient | None = None
    encounter: Encounter | None = None
    care_plan: CarePlan | None = None
    flags: list[Flag] = field(default_factory=list)
    entries: Entries = field(default_factory=Entries)
    # The MessageHeader's id (`entry_id`; REFREQ01's has none, so the uuid of its fullUrl),
    # else the Bundle's id: what REFRESP01's `response.identifier` names.
    message_id: str = ""

    @property
    def sender_endpoint(self) -> str:
        return str(self.header.source.endpoint or "") if self.header.source else ""

    @property
    def sender_name(self) -> str | None:
        name = self.header.source.name if self.header.source else None
        return str(name)[:200] if name else None

    @property
    def sender_phone(self) -> str | None:
        """`MessageHeader.source.contact` when its system is `phone` (REFREQ01: `+44 (0113)
        123 4567`), for a navigator to ring when a status response cannot be delivered; None
        when absent, another system, or longer than `PHONE_MAX` characters (its column)."""
        contact = self.header.source.contact if self.header.source else None
        if contact is None or contact.system != "phone" or not contact.value:
            return None
        phone = " ".join(str(contact.value).split())
        return phone if 0 < len(phone) <= PHONE_MAX else None

    @property
    def is_cancellation(self) -> bool:
        return self.reason in (UPDATE, DELETE)


def _code(concept: Any) -> str | None:
    """The first code of a CodeableConcept (or a Coding)."""
    if concept is None:
        return None
    codings = getattr(concept, "coding", None)
    if codings is None and getattr(concept, "code", None) is not None:
        return str(concept.code)
    for coding in codings or []:
        if coding.code:
            return str(coding.code)
    return None


def _coded(concepts: list[Any] | None, systems: tuple[str, ...]) -> str | None:
    for concept in concepts or []:
        for coding in concept.coding or []:
            if coding.system in systems and coding.code:
                return str(coding.code)
    return None


def _aware(value: datetime | date | str | None) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return None


def read_message(bundle: Bundle) -> BarsMessage:
    """The message's parts, after the standard's invariants (400 `invariant`) and what
    navigator does not support (422 `not-supported`), in the standard's order: the Bundle,
    then MessageHeader event and reason, then the focus and its workflow statuses."""
    if bundle.type != "message":
        raise invariant("Bundle.type", "A BaRS message is a Bundle of type 'message'.")
    version = bundle.meta.versionId if bundle.meta else None
    if not version:
        raise invariant("Bundle.meta.versionId", "Give the BaRS Core version (e.g. 1.0.0).")
    if str(version).split(".")[0] != SUPPORTED_MAJOR:
        raise unsupported("Bundle.meta.versionId", "navigator reads BaRS Core version 1.x.")
    time = _aware(bundle.timestamp)
    if time is None:
        raise invariant("Bundle.timestamp", "A message Bundle needs its timestamp.")
    check_time(time, "Bundle.timestamp")
    check_time(bundle.meta.lastUpdated if bundle.meta else None, "Bundle.meta.lastUpdated")
    entries = bundle.entry or []
    for position, item in enumerate(entries):
        meta = item.resource.meta if item.resource is not None else None
        if meta is not None:
            check_time(meta.lastUpdated, f"Bundle.entry[{position}].resource.meta.lastUpdated")
    first = entries[0].resource if entries else None
    if first is None or first.get_resource_type() != "MessageHeader":
        raise invariant("Bundle.entry[0]", "The first entry of a message is its MessageHeader.")
    header = cast(MessageHeader, first)
    if first.id or entries[0].fullUrl or not bundle.id:
        message_id = entry_id(first, entries[0].fullUrl, "Bundle.entry[0].fullUrl")
    else:
        message_id = str(bundle.id)
    event = _code(header.eventCoding)
    if event in OTHER_EVENTS:
        raise unsupported("MessageHeader.eventCoding", "navigator receives referral requests only.")
    if event != REFERRAL_REQUEST:
        raise invariant("MessageHeader.eventCoding", "Unknown event: not a BaRS workflow.")
    reason = _code(header.reason)
    if reason not in (NEW, UPDATE, DELETE):
        raise invariant("MessageHeader.reason", "The reason must be new, update or delete.")
    index = Entries.of(bundle)
    focus = header.focus or []
    found = index.resolve(focus[0], "ServiceRequest") if focus else None
    if found is None:
        raise invariant(
            "MessageHeader.focus", "The focus must reference a ServiceRequest in the Bundle."
        )
    position, service_request = found
    sr_id = entry_id(
        service_request, entries[position].fullUrl, f"Bundle.entry[{position}].fullUrl"
    )
    message = BarsMessage(
        bundle=bundle,
        header=header,
        event=event,
        reason=reason,
        time=time,
        service_request=service_request,
        service_request_id=str(sr_id),
        category=_coded(service_request.category, (CATEGORY_SYSTEM,)),
        use_case=_coded(service_request.category, USE_CASE_SYSTEMS),
        entries=index,
        message_id=message_id,
    )
    if reason == NEW:
        _check_new(message, index)
    elif service_request.status not in CANCELLED_STATUSES:
        # The standard: an update of a Referral carries ServiceRequest revoked or
        # entered-in-error; any other combination is an unknown workflow (400 invariant).
        raise invariant(
            "ServiceRequest.status",
            "An update or delete of a referral must carry status revoked or entered-in-error.",
        )
    message.flags = [
        cast(Flag, e.resource)
        for e in entries
        if e.resource is not None and e.resource.get_resource_type() == "Flag"
        if getattr(e.resource, "status", None) == "active"
    ]
    return message


def _check_new(message: BarsMessage, index: Entries) -> None:
    sr = message.service_request
    if sr.status != "active":
        raise invariant("ServiceRequest.status", "A new referral must be active.")
    if message.category is None:
        raise invariant("ServiceRequest.category", "Give the category (e.g. referral).")
    if message.category != "referral":
        raise unsupported("ServiceRequest.category", "navigator receives referrals only.")
    patient = index.resolve(sr.subject, "Patient")
    if patient is None:
        raise invariant("ServiceRequest.subject", "The subject must be a Patient in the Bundle.")
    message.patient = patient[1]
    encounter = index.resolve(sr.encounter, "Encounter")
    if encounter is None:
        raise invariant("ServiceRequest.encounter", "Give the Encounter in the Bundle.")
    if encounter[1].status not in ("triaged", "finished"):
        raise invariant("Encounter.status", "A referral's Encounter is triaged or finished.")
    message.encounter = encounter[1]
    plans = [index.resolve(ref, "CarePlan") for ref in sr.basedOn or []]
    plan = next((p[1] for p in plans if p is not None), None)
    if plan is None:
        raise invariant("ServiceRequest.basedOn", "Give the CarePlan in the Bundle.")
    if plan.status != "completed":
        raise invariant("CarePlan.status", "A referral's CarePlan is completed.")
    message.care_plan = plan


# --- Mapping to navigator's shapes ---------------------------------------------------------


def nhs_number(patient: Patient) -> str | None:
    """The patient's NHS number, or None when the message gives none (accepted: BaRS allows
    patients without one). Raises 400 `value` for one that is not valid."""
    for ident in patient.identifier or []:
        if ident.system == NHS_NUMBER_SYSTEM and ident.value:
            number = normalise_nhs_number(str(ident.value))
            if number is None:
                raise bad_value("Patient.identifier", "Not a valid NHS number.")
            return number
    return None


def _name(patient: Patient) -> str | None:
    names = sorted(patient.name or [], key=lambda n: n.use != "official")
    for name in names:
        parts = [str(p) for p in (*(name.given or []), name.family) if p]
        text = name.text or " ".join(parts)
        if text and text.strip():
            return " ".join(str(text).split())[:200]
    return None


def _home_postcode(patient: Patient) -> str | None:
    addresses = sorted(patient.address or [], key=lambda a: a.use != "home")
    for address in addresses:
        if address.postalCode:
            return normalise_postcode(str(address.postalCode), allow_outward=False)
    return None


def _gp_practice(patient: Patient, index: Entries) -> str | None:
    for ref in patient.generalPractitioner or []:
        found = index.resolve(ref, "Organization")
        organisation: Organization | None = found[1] if found else None
        for ident in (organisation.identifier or []) if organisation else []:
            if str(ident.system or "").lower() == ODS_SYSTEM.lower() and ident.value:
                return normalise_ods_code(str(ident.value))
    return None


def patient_data(message: BarsMessage) -> dict[str, Any]:
    """The patient as `PatientInSchema` loads one: nhs_number (or None), name, date_of_birth
    (a date or None), sex, postcode (a full postcode or None), gp_practice_ods. 400 when the
    Patient has no name (`required`) or an invalid NHS number (`value`)."""
    patient = message.patient
    assert patient is not None  # a new referral's Patient is checked by read_message
    name = _name(patient)
    if name is None:
        raise bad_value("Patient.name", "Give the patient's name.", "required")
    born = patient.birthDate
    return {
        "nhs_number": nhs_number(patient),
        "name": name,
        "date_of_birth": born if isinstance(born, date) and born <= date.today() else None,
        "sex": patient.gender if patient.gender in ("female", "male", "other") else "unknown",
        "postcode": _home_postcode(patient),
        "gp_practice_ods": _gp_practice(patient, message.entries),
        "care_home_service_id": None,
    }


@dataclass(frozen=True)
class Clinical:
    """The clinical content of a referral, as navigator records it on the navigation."""

    disposition: str | None  # Dx02 (NHS Pathways disposition)
    symptom_group: str | None  # SG1010
    symptom_discriminator: str | None  # SD4389
    reason: str  # the reason for referral, for the referral and the call notes
    patient_instruction: str | None  # the safety-netting advice given to the patient
    case_ref: str | None  # the sender's case number (Encounter.identifier)


def _pathways(plan: CarePlan | None, system: str) -> tuple[str | None, str | None]:
    """(code, display) of the first CarePlan activity outcome in this Pathways system."""
    for activity in (plan.activity or []) if plan else []:
        for concept in activity.outcomeCodeableConcept or []:
            for coding in concept.coding or []:
                if coding.system == system and coding.code:
                    return str(coding.code), str(coding.display) if coding.display else None
    return None, None


def _prefixed(prefix: str, code: str | None) -> str | None:
    """A Pathways code with its conventional prefix (DX02 and 02 → Dx02; 1010 → SG1010),
    or None when it is not a short alphanumeric code."""
    if not code:
        return None
    bare = code.strip()
    if bare[: len(prefix)].lower() == prefix.lower():
        bare = bare[len(prefix) :]
    if not bare.isascii() or not bare.isalnum() or not 0 < len(bare) <= 6:
        return None
    return f"{prefix}{bare}"


def clinical(message: BarsMessage) -> Clinical:
    """The disposition, symptom group and discriminator (CarePlan activity outcomes, as
    REFREQ01 carries them), the reason for referral (ServiceRequest.reasonCode, else the
    symptom discriminator's and disposition's descriptions), the safety-netting
    `patientInstruction`, and the sender's case number."""
    sr, plan = message.service_request, message.care_plan
    dx, dx_text = _pathways(plan, DX_SYSTEM)
    sg, _ = _pathways(plan, SG_SYSTEM)
    sd, sd_text = _pathways(plan, SD_SYSTEM)
    reasons = [
        str(c.text or next((d.display for d in c.coding or [] if d.display), "") or "")
        for c in sr.reasonCode or []
    ]
    reasons = [r for r in reasons if r.strip()] or [t for t in (sd_text, dx_text) if t]
    reason = "; ".join(reasons) or "Referral from NHS 111 (BaRS)"
    case_ref = None
    if message.encounter is not None:
        case_ref = next((str(i.value) for i in message.encounter.identifier or [] if i.value), None)
    instruction = str(sr.patientInstruction) if sr.patientInstruction else None
    return Clinical(
        disposition=_prefixed("Dx", dx),
        symptom_group=_prefixed("SG", sg),
        symptom_discriminator=_prefixed("SD", sd),
        reason=reason[:2000],
        patient_instruction=instruction,
        case_ref=case_ref[:100] if case_ref else None,
    )


def flags(message: BarsMessage) -> list[dict[str, Any]]:
    """The active Flags as the console shows them: `[{"category": "safeguarding" |
    "reasonable_adjustment" | "other", "code", "display", "text"}]` (FLA01-FLA10), one dict
    per coding of `Flag.code`, in order (a Flag without codings is one dict with code and
    display None). Review of issue 16: the standard's FLA10 carries two safeguarding codings
    in one Flag ("Adult safeguarding concern", "Alleged being subjected to abuse"); keeping
    only the first would hide the second from the console."""
    shown = []
    for flag in message.flags:
        category = FLAG_CATEGORIES.get(_coded(flag.category, (FLAG_CATEGORY_SYSTEM,)) or "")
        text = str(flag.code.text) if flag.code and flag.code.text else None
        codings: list[Any] = (
            [c for c in (flag.code.coding or []) if c.code or c.display] if flag.code else []
        )
        for coding in codings or [None]:
            shown.append(
                {
                    "category": category or "other",
                    "code": str(coding.code) if coding and coding.code else None,
                    "display": str(coding.display) if coding and coding.display else None,
                    "text": text,
                }
            )
    return shown


def from_111(message: BarsMessage) -> bool:
    """Whether the referral comes from NHS 111: its use case is one of the 111 ones (a1…, as
    REFREQ01's "111 to ED" a1t1) or its decision support is NHS Pathways."""
    if message.use_case and message.use_case.lower().startswith("a1"):
        return True
    for extension in message.header.extension or []:
        for part in extension.extension or []:
            if part.url == "RequesterCDSSsoftware" and str(part.valueString or "") == "Pathways":
                return True
    return False
