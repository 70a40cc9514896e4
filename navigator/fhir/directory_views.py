"""The FHIR directory: `GET /fhir/metadata`, `/fhir/HealthcareService`,
`/fhir/HealthcareService/<id>`, `/fhir/Organization`, `/fhir/Organization/<id>` and
`/fhir/CodeSystem/<id>`.

Who may call: the directory reads take an API key of any role, as `/api/v1/services` does;
the CapabilityStatement and the CodeSystems are public, as the API reference is: they describe
the API and hold no data. Every answer is `application/fhir+json`; every error an
OperationOutcome (`navigator.fhir.outcome`), a bad query string a 400 naming the parameter (the
edge's NUL and lone-surrogate check included). Read-only: no unit of work is opened.
"""

from __future__ import annotations

from fhir.resources.R4B.healthcareservice import HealthcareService
from fhir.resources.R4B.organization import Organization
from flask import Blueprint, request
from flask.typing import ResponseReturnValue

from navigator.core.db import utcnow
from navigator.core.errors import Problem
from navigator.core.extensions import current_session
from navigator.core.reference import GAZETTEER, VOCABULARY
from navigator.directory.capacity import capacities
from navigator.directory.reference import directory_index, stale_hours
from navigator.directory.store import read_organisations
from navigator.fhir.capability import capability_statement
from navigator.fhir.codesystems import codesystem, fhir_base
from navigator.fhir.healthcare_service import healthcare_service, shows_professional
from navigator.fhir.organization import organization, organization_searchset
from navigator.fhir.outcome import fhir_response
from navigator.fhir.search_query import parse_organization_search, parse_service_search
from navigator.fhir.service_search import healthcare_service_searchset
from navigator.web.access import public
from navigator.web.auth import require_roles
from navigator.web.edge import answers_bad_fields_with

blp = Blueprint("fhir_directory", __name__, url_prefix="/fhir")
# A NUL or lone surrogate in the query is a bad search parameter like any other: 400.
answers_bad_fields_with(blp, 400)

DESCRIBES_THE_API = "the FHIR API's CapabilityStatement: describes the API, no data"
VOCABULARIES = "navigator's vocabularies as FHIR CodeSystems: published codes, no data"


def _no_query() -> None:
    """A read takes no search parameters but `_format` (FHIR's own)."""
    unknown = [name for name in request.args if name != "_format"]
    if unknown:
        raise Problem(
            400,
            "A read takes no search parameters",
            code="not-supported",
            errors={name[:80]: ["Not a parameter of a read"] for name in unknown[:20]},
        )


@blp.route("/metadata")
@public(DESCRIBES_THE_API)
def metadata() -> ResponseReturnValue:
    return fhir_response(capability_statement())


@blp.route("/CodeSystem/<string:codesystem_id>")
@public(VOCABULARIES)
def read_codesystem(codesystem_id: str) -> ResponseReturnValue:
    _no_query()
    resource = codesystem(codesystem_id, VOCABULARY.get())
    if resource is None:
        raise Problem(404, "No CodeSystem with this id")
    return fhir_response(resource)


@blp.route("/HealthcareService")
@require_roles()
def search_healthcare_services() -> ResponseReturnValue:
    now, vocab = utcnow(), VOCABULARY.get()
    search = parse_service_search(request.args, vocab, GAZETTEER.get())
    bundle = healthcare_service_searchset(
        current_session(),
        directory_index(),
        search,
        vocab=vocab,
        base=fhir_base(),
        now=now,
        stale_hours=stale_hours(),
    )
    return fhir_response(bundle)


@blp.route("/HealthcareService/<string:service_id>")
@require_roles()
def read_healthcare_service(service_id: str) -> ResponseReturnValue:
    _no_query()
    entry = directory_index().by_id.get(service_id)
    if entry is None:
        raise Problem(404, "No HealthcareService with this id")
    now = utcnow()
    capacity = capacities(current_session(), [entry.id], now, stale_hours())[entry.id]
    # A read names no caller role: the key holder is a professional system (shows_professional).
    resource = healthcare_service(
        entry, capacity, VOCABULARY.get(), now=now, professional=shows_professional(None)
    )
    return fhir_response(
        HealthcareService.model_validate(resource).model_dump(mode="json", exclude_none=True)
    )


@blp.route("/Organization")
@require_roles()
def search_organizations() -> ResponseReturnValue:
    search = parse_organization_search(request.args)
    bundle = organization_searchset(
        read_organisations(current_session()),
        search,
        vocab=VOCABULARY.get(),
        base=fhir_base(),
        now=utcnow(),
    )
    return fhir_response(bundle)


@blp.route("/Organization/<string:organisation_id>")
@require_roles()
def read_organization(organisation_id: str) -> ResponseReturnValue:
    _no_query()
    record = read_organisations(current_session()).get(organisation_id)
    if record is None:
        raise Problem(404, "No Organization with this id")
    resource = organization(record, VOCABULARY.get())
    return fhir_response(
        Organization.model_validate(resource).model_dump(mode="json", exclude_none=True)
    )
