"""navigator's vocabularies as FHIR `CodeSystem` resources, and the URLs navigator's FHIR
resources name: the base, the CodeSystems, the identifier systems and the extensions.

Every URL navigator defines lives under `PUBLIC_BASE_URL/fhir`, so each deployment names its
own (its services' ids are its own) and the CodeSystems resolve: `GET /fhir/CodeSystem/<id>`
serves the very resource whose `url` a coding's `system` names.

- a CodeSystem: `{base}/CodeSystem/{id}`, id one of `CODE_SYSTEMS` (`service-types` …);
- a service's identifier: `{base}/Id/service` (value: the directory's service id, a slug);
- an organisation's identifier: `{base}/Id/organisation` (value: the directory's slug), and
  its ODS code under `ODS_SYSTEM`;
- live capacity (extension): `{base}/StructureDefinition/service-capacity`;
- age eligibility (extension): `{base}/StructureDefinition/eligibility-age-range`.

The codes are the vocabulary files' (`directory_of_services/vocabulary/*.yaml`), so a code in
a search or a resource is exactly the code `/api/v1` uses.
"""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.codesystem import CodeSystem
from flask import current_app

from navigator.core.vocabulary import Vocabulary

ODS_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"

# CodeSystem id (as served and as in its URL) -> (vocabulary scheme, name, title).
CODE_SYSTEMS: dict[str, tuple[str, str, str]] = {
    "service-types": ("service_types", "NavigatorServiceTypes", "navigator service types"),
    "needs": ("needs", "NavigatorNeeds", "navigator needs (what a caller needs help with)"),
    "caller-roles": ("caller_roles", "NavigatorCallerRoles", "navigator caller roles"),
    "places": ("places", "NavigatorPlaces", "navigator places (BLMK's local authority areas)"),
    "sectors": ("sectors", "NavigatorSectors", "navigator sectors"),
}
# A CodeSystem changes when its vocabulary file does; its version says which navigator
# release published it (the codes are never reused for another meaning).
VERSION = "1"


def fhir_base() -> str:
    """`PUBLIC_BASE_URL` + `/fhir`: where the FHIR API answers, and the root of every URL
    navigator defines (no trailing slash)."""
    return str(current_app.config["PUBLIC_BASE_URL"]).rstrip("/") + "/fhir"


def codesystem_url(codesystem_id: str) -> str:
    """The canonical URL of one of `CODE_SYSTEMS`, e.g. `{base}/CodeSystem/service-types`."""
    return f"{fhir_base()}/CodeSystem/{codesystem_id}"


def service_id_system() -> str:
    return f"{fhir_base()}/Id/service"


def organisation_id_system() -> str:
    return f"{fhir_base()}/Id/organisation"


def extension_url(name: str) -> str:
    """`{base}/StructureDefinition/{name}`: an extension navigator defines."""
    return f"{fhir_base()}/StructureDefinition/{name}"


def coding(codesystem_id: str, code: str, vocab: Vocabulary) -> dict[str, Any]:
    """A Coding of one of navigator's codes, with the vocabulary's label as `display`."""
    scheme = CODE_SYSTEMS[codesystem_id][0]
    return {
        "system": codesystem_url(codesystem_id),
        "code": code,
        "display": vocab.label(scheme, code),
    }


def codesystem(codesystem_id: str, vocab: Vocabulary) -> dict[str, Any] | None:
    """The CodeSystem resource (JSON-ready, validated by fhir.resources R4B) for one of
    `CODE_SYSTEMS`, every term a concept (`code`, `display` = label, `definition` =
    description); None for an id navigator does not define."""
    known = CODE_SYSTEMS.get(codesystem_id)
    if known is None:
        return None
    scheme, name, title = known
    concepts = [
        {"code": term.code, "display": term.label}
        | ({"definition": term.description.strip()} if term.description.strip() else {})
        for term in vocab.terms[scheme].values()
    ]
    resource = CodeSystem.model_validate(
        {
            "resourceType": "CodeSystem",
            "id": codesystem_id,
            "url": codesystem_url(codesystem_id),
            "version": VERSION,
            "name": name,
            "title": title,
            "status": "active",
            "experimental": False,
            "publisher": "navigator",
            "description": (
                f"The {title}: the codes navigator's directory, its /api/v1 and its FHIR "
                f"resources use, from the vocabulary file {scheme}.yaml."
            ),
            "caseSensitive": True,
            "content": "complete",
            "count": len(concepts),
            "concept": concepts,
        }
    )
    return resource.model_dump(mode="json", exclude_none=True)
