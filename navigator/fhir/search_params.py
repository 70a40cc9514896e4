"""The FHIR directory search's parameters: what `GET /fhir/HealthcareService` and
`GET /fhir/Organization` accept, and the parsed searches they become (`ServiceSearch`,
`OrganizationSearch`, each with its `Paging`).

Each parameter is declared once (`HEALTHCARE_SERVICE_PARAMS`, `ORGANIZATION_PARAMS`, and the
`PAGING_PARAMS` every search takes) with its FHIR type and documentation, and the
CapabilityStatement lists exactly these (`navigator.fhir.capability`), so what is documented is
what is parsed (`navigator.fhir.search_query`). The `searchset` Bundle and its paging links
are in `navigator.fhir.searchset`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from navigator.core.places import Located, Point
from navigator.fhir.codesystems import ODS_SYSTEM

DEFAULT_COUNT, MAX_COUNT = 20, 100
MAX_OFFSET = 1_000_000
MAX_NEAR_KM = 500.0  # as /api/v1's radius_km
MAX_AGE_YEARS = 130
FORMATS = ("json", "application/json", "application/fhir+json")
REVINCLUDE_ENDPOINTS = "Endpoint:organization"


@dataclass(frozen=True)
class SearchParam:
    """One search parameter as the CapabilityStatement lists it (`rest.resource.searchParam`):
    `type` is a FHIR search parameter type (token, string, number, date, special)."""

    name: str
    type: str
    documentation: str


# The result parameters every search takes (FHIR §3.1.1.5.x).
PAGING_PARAMS = (
    SearchParam(
        "_count",
        "number",
        f"Entries per page: default {DEFAULT_COUNT}, at most {MAX_COUNT} (a larger value is "
        "served as the maximum); 0 answers the total alone.",
    ),
    SearchParam(
        "_offset",
        "number",
        f"The page's first entry, counted from 0 (at most {MAX_OFFSET:,}); the Bundle's "
        "next/previous links carry it.",
    ),
    SearchParam("_format", "token", f"Only JSON: one of {', '.join(FORMATS)}."),
)

HEALTHCARE_SERVICE_PARAMS = (
    SearchParam("_id", "token", "Service ids (navigator's slugs), comma-separated for OR."),
    SearchParam(
        "identifier",
        "token",
        "Service ids: `{base}/Id/service|<id>` or `<id>`, comma-separated for OR. Services "
        "carry no ODS code of their own: search their organisation's with "
        "organization.identifier.",
    ),
    SearchParam(
        "organization.identifier",
        "token",
        f"The providing organisation's ODS code: `{ODS_SYSTEM}|<code>` or `<code>`; or its "
        "navigator id: `{base}/Id/organisation|<id>`. Comma-separated for OR.",
    ),
    SearchParam(
        "service-type",
        "token",
        "Service types from the CodeSystem `{base}/CodeSystem/service-types` "
        "(`system|code` or `code`), comma-separated for OR.",
    ),
    SearchParam(
        "active",
        "token",
        "`true` (the default): services whose status is active; `false`: temporarily closed "
        "or defunct ones. A service reporting red capacity is never returned by a search, as "
        "DoS never returns one to 111 (read it by id); every service carries its live "
        "capacity (extension service-capacity).",
    ),
    SearchParam(
        "location.address-postalcode",
        "string",
        "A service location's postcode: a full postcode (that postcode) or an outward code "
        "(every postcode in that district); any spacing and case.",
    ),
    SearchParam(
        "location.near",
        "special",
        "Distance search, FHIR's `near` syntax: `latitude|longitude|distance|units`, e.g. "
        f"`52.13|-0.47|10|km`; units `km` (the default) or `[mi_i]`; distance above 0, at most "
        f"{MAX_NEAR_KM:g} km; without a distance, no limit. Services with a location within "
        "the distance, nearest first; each entry's search.extension location-distance gives "
        "it.",
    ),
    SearchParam(
        "coverage-postcode",
        "string",
        "navigator's own: services that serve a caller at this postcode (full or outward "
        "code), by place, postcode district or radius, as /api/v1/services?postcode= decides; "
        "nearest first (from the postcode district's centroid) unless location.near orders.",
    ),
    SearchParam(
        "need",
        "token",
        "navigator's own: services that meet this need, from the CodeSystem "
        "`{base}/CodeSystem/needs` (`system|code` or `code`; one value).",
    ),
    SearchParam(
        "caller-role",
        "token",
        "navigator's own: services that take calls or referrals from this caller role "
        "(CodeSystem `{base}/CodeSystem/caller-roles`; one value). It also decides what is "
        "shown: professional-only phone numbers (telecom marked 'Clinician Access Only') are "
        "left out for `public` and `relative`.",
    ),
    SearchParam(
        "age",
        "number",
        f"navigator's own: services that admit a patient of this age in years (0 to "
        f"{MAX_AGE_YEARS}, decimals allowed, e.g. 0.5); a plain value, no prefixes.",
    ),
    SearchParam(
        "open-at",
        "date",
        "navigator's own: services open at this instant, a dateTime with a time "
        "(`2026-12-01T14:30:00Z`; without an offset, Europe/London wall-clock time); no "
        "prefixes. Opening times include bank holidays, specified dates and recurring sessions.",
    ),
)

ORGANIZATION_PARAMS = (
    SearchParam("_id", "token", "Organisation ids (navigator's slugs), comma-separated for OR."),
    SearchParam(
        "identifier",
        "token",
        f"The organisation's ODS code: `{ODS_SYSTEM}|<code>` or `<code>`; or its navigator "
        "id: `{base}/Id/organisation|<id>`. Comma-separated for OR.",
    ),
    SearchParam(
        "_revinclude",
        "special",
        f"Only `{REVINCLUDE_ENDPOINTS}`, accepted as the DoS Search API sends it: navigator "
        "holds no Endpoints, so none are included.",
    ),
)


@dataclass(frozen=True)
class Paging:
    count: int = DEFAULT_COUNT
    offset: int = 0


@dataclass(frozen=True)
class Near:
    point: Point
    km: float | None


@dataclass(frozen=True)
class ServiceSearch:
    """A `GET /fhir/HealthcareService` query, parsed. None: no such filter."""

    ids: frozenset[str] | None = None
    ods_codes: frozenset[str] | None = None
    organisation_ids: frozenset[str] | None = None
    service_types: frozenset[str] | None = None
    postcode: str | None = None  # location.address-postalcode, normalised
    near: Near | None = None
    coverage: Located | None = None
    active: bool | None = None
    need: str | None = None
    caller_role: str | None = None
    age_days: int | None = None
    open_at: datetime | None = None
    paging: Paging = Paging()
    # The parameters as given (validated), without the paging ones: the links repeat them.
    query: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class OrganizationSearch:
    ids: frozenset[str] | None = None
    ods_codes: frozenset[str] | None = None
    organisation_ids: frozenset[str] | None = None
    paging: Paging = Paging()
    query: tuple[tuple[str, str], ...] = ()
