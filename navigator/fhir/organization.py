"""A directory organisation as a FHIR R4 `Organization`, and the search behind
`GET /fhir/Organization`.

The shape is the DoS Search API's (`NHSDigital/ftrs-directory-of-services`,
`docs/fhir/examples/Bundle-ServiceDetailsByOdsCode-Example.json`): the ODS code as an
`official` identifier with system `https://fhir.nhs.uk/Id/ods-organization-code`, `active`,
`name`. navigator adds its own id (`{base}/Id/organisation`, always present, as an organisation
without an ODS code, a charity say, has no other), `type` (the organisation's sector, a navigator
CodeSystem) and the website as `telecom`. The resource id is navigator's organisation id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from navigator.core.vocabulary import Vocabulary
from navigator.directory.records import Record
from navigator.fhir.codesystems import ODS_SYSTEM, coding, organisation_id_system
from navigator.fhir.search_params import OrganizationSearch
from navigator.fhir.searchset import searchset_bundle


def organization(record: Record, vocab: Vocabulary) -> dict[str, Any]:
    """One organisation record (`directory.records.canonical_organisation`) as an
    Organization (JSON-ready, not yet validated: the caller validates it with fhir.resources)."""
    identifiers = []
    if record["ods_code"]:
        identifiers.append({"use": "official", "system": ODS_SYSTEM, "value": record["ods_code"]})
    identifiers.append(
        {"use": "secondary", "system": organisation_id_system(), "value": record["id"]}
    )
    resource: dict[str, Any] = {
        "resourceType": "Organization",
        "id": record["id"],
        "identifier": identifiers,
        "active": True,
        "name": record["name"],
    }
    if vocab.has("sectors", record["sector"]):
        resource["type"] = [{"coding": [coding("sectors", record["sector"], vocab)]}]
    if record["website"]:
        resource["telecom"] = [{"system": "url", "value": record["website"], "use": "work"}]
    return resource


def find_organisations(
    organisations: dict[str, Record], search: OrganizationSearch
) -> list[Record]:
    """The organisations matching `search`, by name then id. Identifiers combine with OR (an
    ODS code or a navigator id); `_id` narrows that further."""
    found = []
    for record in organisations.values():
        if search.ids is not None and record["id"] not in search.ids:
            continue
        if search.ods_codes is not None or search.organisation_ids is not None:
            by_ods = bool(search.ods_codes) and (record["ods_code"] or "") in (
                search.ods_codes or ()
            )
            by_id = bool(search.organisation_ids) and record["id"] in (
                search.organisation_ids or ()
            )
            if not (by_ods or by_id):
                continue
        found.append(record)
    found.sort(key=lambda r: (r["name"], r["id"]))
    return found


def organization_searchset(
    organisations: dict[str, Record],
    search: OrganizationSearch,
    *,
    vocab: Vocabulary,
    base: str,
    now: datetime,
) -> dict[str, Any]:
    """The answer to `GET /fhir/Organization`: one page of `find_organisations` as a searchset
    Bundle of Organization resources under navigator's FHIR `base` URL."""
    found = find_organisations(organisations, search)
    paging = search.paging
    entries = [
        {
            "fullUrl": f"{base}/Organization/{record['id']}",
            "resource": organization(record, vocab),
            "search": {"mode": "match"},
        }
        for record in found[paging.offset : paging.offset + paging.count]
    ]
    return searchset_bundle(
        url=f"{base}/Organization",
        query=search.query,
        paging=paging,
        total=len(found),
        entries=entries,
        now=now,
    )
