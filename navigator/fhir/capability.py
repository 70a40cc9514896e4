"""`GET /fhir/metadata`: the CapabilityStatement of navigator's FHIR API.

Modelled on the BaRS API's (`NHSDigital/booking-and-referral-fhir-api`,
`specification/examples1.4.0/metadata/BaRS_API_Capability_Statement.json`): `kind`
`instance`, `fhirVersion` 4.0.1 (FHIR R4, as BaRS and the DoS Search API; the resources are
built and checked with fhir.resources' R4B models, whose R4 subset they stay within), `format`
json only (navigator answers no XML), one `rest` entry in mode `server`, the `$process-message`
operation (FHIR's `MessageHeader-process-message` OperationDefinition) and `messaging` with the
BaRS referral request MessageDefinition in mode `receiver`.

It lists:
- `HealthcareService`: read, search-type, every search parameter of
  `navigator.fhir.search_params.HEALTHCARE_SERVICE_PARAMS` with its documentation;
- `Organization`: read, search-type (`ORGANIZATION_PARAMS`);
- `ServiceRequest`: read (a BaRS referral as received, with its current status);
- `CodeSystem`: read (navigator's vocabularies, `navigator.fhir.codesystems`);
- operation `process-message` (`POST /fhir/$process-message`).

The search parameters' documentation says `{base}` for `PUBLIC_BASE_URL/fhir`; here it is
filled in, so a client reads the real URLs.
"""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from navigator.fhir.codesystems import fhir_base
from navigator.fhir.search_params import (
    HEALTHCARE_SERVICE_PARAMS,
    ORGANIZATION_PARAMS,
    PAGING_PARAMS,
    REVINCLUDE_ENDPOINTS,
    SearchParam,
)

FHIR_VERSION = "4.0.1"
# When this statement last changed (FHIR: CapabilityStatement.date); edit with it.
DATE = "2026-12-01"
PROCESS_MESSAGE = "http://hl7.org/fhir/OperationDefinition/MessageHeader-process-message"
# The BaRS referral request (NHSDigital-FHIR-BookingAndReferrals,
# MessageDefinition/BARS-MessageDefinition-ServiceRequest-Request-Referral.xml, its `url`).
REFERRAL_REQUEST = (
    "https://fhir.nhs.uk/MessageDefinition/bars-message-servicerequest-request-referral"
)
MESSAGE_TRANSPORT = "http://terminology.hl7.org/CodeSystem/message-transport"
SECURITY = (
    "Every request but this statement and the CodeSystems carries an API key: "
    "`Authorization: Bearer <key>` (the same keys as navigator's /api/v1; $process-message "
    "needs the integrator role). Mutual TLS, which BaRS requires, is the proxy's in front of "
    "navigator. Errors are UK Core OperationOutcomes with the BaRS REC_* codes."
)


def _search_params(params: tuple[SearchParam, ...], base: str) -> list[dict[str, Any]]:
    return [
        {"name": p.name, "type": p.type, "documentation": p.documentation.replace("{base}", base)}
        for p in (*params, *PAGING_PARAMS)
    ]


def capability_statement() -> dict[str, Any]:
    """The CapabilityStatement (JSON-ready, validated by fhir.resources R4B). Needs an app
    context (`PUBLIC_BASE_URL`)."""
    base = fhir_base()
    read = {"code": "read"}
    search = {"code": "search-type"}
    resource = CapabilityStatement.model_validate(
        {
            "resourceType": "CapabilityStatement",
            "id": "navigator",
            "url": f"{base}/metadata",
            "name": "NavigatorFhirCapabilityStatement",
            "title": "navigator FHIR API",
            "status": "active",
            "experimental": False,
            "date": DATE,
            "publisher": "navigator",
            "description": (
                "navigator, a care navigation service, as a BaRS receiver of referrals "
                "(ServiceRequest messages) and as a FHIR search of its directory of services "
                "(HealthcareService, Organization), in the manner of the DoS Search API."
            ),
            "kind": "instance",
            "software": {"name": "navigator"},
            "implementation": {"description": "navigator FHIR API", "url": base},
            "fhirVersion": FHIR_VERSION,
            "format": ["json"],
            "rest": [
                {
                    "mode": "server",
                    "documentation": "navigator's FHIR API, under /fhir/.",
                    "security": {"cors": False, "description": SECURITY},
                    "resource": [
                        {
                            "type": "HealthcareService",
                            "documentation": (
                                "A directory service: opening times, eligibility, contact "
                                "(professional-only numbers marked 'Clinician Access Only'), "
                                "contained Locations and live capacity (extension "
                                f"{base}/StructureDefinition/service-capacity)."
                            ),
                            "interaction": [read, search],
                            "versioning": "no-version",
                            "readHistory": False,
                            "updateCreate": False,
                            "searchParam": _search_params(HEALTHCARE_SERVICE_PARAMS, base),
                        },
                        {
                            "type": "Organization",
                            "documentation": "An organisation that provides directory services.",
                            "interaction": [read, search],
                            "versioning": "no-version",
                            "searchRevInclude": [REVINCLUDE_ENDPOINTS],
                            "searchParam": _search_params(ORGANIZATION_PARAMS, base),
                        },
                        {
                            "type": "ServiceRequest",
                            "documentation": (
                                "A referral received by $process-message, as BaRS shows it, "
                                "with its current status."
                            ),
                            "interaction": [read],
                            "versioning": "no-version",
                        },
                        {
                            "type": "CodeSystem",
                            "documentation": (
                                "navigator's vocabularies: service-types, needs, "
                                "caller-roles, places, sectors."
                            ),
                            "interaction": [read],
                            "versioning": "no-version",
                        },
                    ],
                    "operation": [
                        {
                            "name": "process-message",
                            "definition": PROCESS_MESSAGE,
                            "documentation": (
                                "POST /fhir/$process-message: a BaRS referral request "
                                "(servicerequest-request) or its cancellation for a navigator "
                                "service named by NHSD-Target-Identifier."
                            ),
                        }
                    ],
                }
            ],
            "messaging": [
                {
                    "endpoint": [
                        {
                            "protocol": {"system": MESSAGE_TRANSPORT, "code": "http"},
                            "address": f"{base}/$process-message",
                        }
                    ],
                    "documentation": "BaRS messaging: navigator receives referral requests.",
                    "supportedMessage": [{"mode": "receiver", "definition": REFERRAL_REQUEST}],
                }
            ],
        }
    )
    return resource.model_dump(mode="json", exclude_none=True)
