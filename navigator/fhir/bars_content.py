"""A new BaRS referral's content mapped to navigator's own shapes (issue 16): the patient as
`PatientInSchema` loads one (`patient_data`), the clinical content a navigation records
(`clinical`), the Flags as the console shows them (`flags`), whether it comes from NHS 111
(`from_111`), and the patient and clinical content together (`referral_content`).

Reads a `BarsMessage` that `bars_message.read_message` has checked (a new referral's Patient,
Encounter and CarePlan are there). Refusals are 400s naming FHIR paths (`bars_bundle`), never
a value from the message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from fhir.resources.R4B.careplan import CarePlan
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.patient import Patient

from navigator.bars.terms import FLAG_CATEGORY_SYSTEM, NHS_NUMBER_SYSTEM, ODS_SYSTEM
from navigator.core.identifiers import normalise_nhs_number, normalise_ods_code, normalise_postcode
from navigator.fhir.bars_bundle import bad_value
from navigator.fhir.bars_message import BarsMessage, Entries, coded

# NHS Pathways code systems, as REFREQ01's CarePlan activity outcomes carry them.
DX_SYSTEM = "https://fhir.nhs.uk/CodeSystem/pathways-dx-codes"
SG_SYSTEM = "https://fhir.nhs.uk/CodeSystem/pathways-sg-codes"
SD_SYSTEM = "https://fhir.nhs.uk/CodeSystem/pathways-sd-codes"
# BaRS flag categories (FLA01-FLA10 examples) → what the console shows them as.
FLAG_CATEGORIES = {"SG": "safeguarding", "RA": "reasonable_adjustment"}


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
        category = FLAG_CATEGORIES.get(coded(flag.category, (FLAG_CATEGORY_SYSTEM,)) or "")
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


@dataclass(frozen=True)
class ReferralContent:
    """What a new referral says about its patient (`patient_data`) and its clinical content
    (`clinical`)."""

    patient: dict[str, Any]
    facts: Clinical


def referral_content(message: BarsMessage) -> ReferralContent:
    """The patient and clinical content of a new referral. Raises the Bundle's 400s (`value`
    for an invalid NHS number, `required` for a patient without a name): step 4 of the
    standard's order, so `process_message.receive_message` calls this before the target
    checks' 422s (review of issue 16; BaRS Core 1.5.0 Error-Handling, Bundle-Processing)."""
    return ReferralContent(patient_data(message), clinical(message))
