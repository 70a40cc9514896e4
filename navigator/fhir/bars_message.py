"""A BaRS referral message read from its Bundle (issue 16): the standard's invariants checked,
in the standard's order, and the parts navigator reads (`BarsMessage`).

Sources (NHSDigital/NHSDigital-FHIR-BookingAndReferrals @ 0cf8fdaa):
`guides/.../Core/1-5-0/Error-Handling/Failure-Scenarios-1-1-x/Bundle-Processing.page.md` (the
receiver's pseudo code: `Bundle.meta.versionId` missing → 400 `invariant`, an unsupported one →
422; event `servicerequest-request` with reason `new` needs ServiceRequest `active`, category
Referral needs CarePlan `completed` and Encounter `triaged` or `finished`; reason `update` of a
Referral needs ServiceRequest `revoked` or `entered-in-error`, anything else → 400
`invariant`), and the examples `REFREQ01` (111 to ED), `SERVREQ01` (revoked, reason `update`)
and `SERVREQ02` (entered-in-error, reason `delete`).

The Bundle comes from `bars_bundle.parse_bundle`; its refusals (`invariant`, `unsupported`,
`bad_value`) name FHIR paths and rules, never a value from the message. The patient and
clinical content are mapped to navigator's shapes by `bars_content`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, cast

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.careplan import CarePlan
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.flag import Flag
from fhir.resources.R4B.messageheader import MessageHeader
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.servicerequest import ServiceRequest

from navigator.bars.terms import CATEGORY_SYSTEM
from navigator.fhir.bars_bundle import bad_value, invariant, unsupported

# Code systems of the standard read here (the shared ones are in navigator.bars.terms; the
# events system is spelt two ways in the standard: the code decides, not the system).
USE_CASE_SYSTEMS = (
    "https://fhir.nhs.uk/CodeSystem/usecases-categories-bars",  # REFREQ01's spelling
    "https://fhir.nhs.uk/CodeSystem/usecase-categories-bars",  # the content-negotiation page's
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


def coded(concepts: list[Any] | None, systems: tuple[str, ...]) -> str | None:
    """The first code of these CodeableConcepts whose system is one of `systems`."""
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
        category=coded(service_request.category, (CATEGORY_SYSTEM,)),
        use_case=coded(service_request.category, USE_CASE_SYSTEMS),
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
