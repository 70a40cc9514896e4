"""`GET /fhir/HealthcareService` and `/fhir/HealthcareService/{id}` (issue 16, §2): every
search parameter, the resource's shape, professional-only numbers, and validity; a search
gives active services unless `active=false` (then only the inactive ones) and never a red one,
a read by id any service.

Sources: FHIR R4 search (http://hl7.org/fhir/R4/search.html: searchset, `total`, `self`,
`search.mode`, tokens `system|code`, `near`), and the DoS Search API
(`NHSDigital/ftrs-directory-of-services`, vendored in `tests/data/fhir/dos/`, SOURCES.md):
its HealthcareService search example marks a professional-only number with the
`contactpoint-comment` extension "Clinician Access Only" and a public one "Public".
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.healthcareservice import HealthcareService
from flask.testing import FlaskClient

from navigator.core.db import utcnow
from navigator.core.reference import VOCABULARY
from navigator.directory.capacity import effective, set_capacity
from navigator.directory.opening import schedule_from_opening
from navigator.directory.reference import directory_index
from navigator.fhir.availability import available_time
from navigator.fhir.healthcare_service import healthcare_service
from tests.fhir.directory_fixtures import (
    ACTIVE_IDS,
    ALL_IDS,
    BASE,
    FHIR_JSON,
    GP_OPENING,
    INACTIVE_IDS,
    ODS,
    Auth,
    ids,
    load_fhir_directory,
    report_capacity,
    search,
)

DOS = Path(__file__).resolve().parent.parent / "data" / "fhir" / "dos"
SERVICE_TYPES = f"{BASE}/CodeSystem/service-types"
CONTACTPOINT_COMMENT = "http://hl7.org/fhir/StructureDefinition/contactpoint-comment"
CAPACITY_URL = f"{BASE}/StructureDefinition/service-capacity"


@pytest.fixture
def directory(app_ctx: Any) -> None:
    load_fhir_directory()


def _resource(client: FlaskClient, auth: Auth, service_id: str) -> dict[str, Any]:
    response = client.get(f"/fhir/HealthcareService/{service_id}", headers=auth["integrator"])
    assert response.status_code == 200, response.get_json()
    assert response.mimetype == FHIR_JSON
    body: dict[str, Any] = response.get_json()
    return body


def _capacity(resource: dict[str, Any]) -> dict[str, Any]:
    """The service-capacity extension's parts, by name."""
    (extension,) = [e for e in resource["extension"] if e["url"] == CAPACITY_URL]
    return {
        part["url"]: next(v for k, v in part.items() if k.startswith("value"))
        for part in extension["extension"]
    }


def _dos_example_service() -> dict[str, Any]:
    spec = yaml.safe_load((DOS / "dos-search.yaml").read_text())
    get = spec["paths"]["/HealthcareService"]["get"]
    example = get["responses"]["200"]["content"]["application/fhir+json"]["example"]
    resource: dict[str, Any] = example["entry"][0]["resource"]
    return resource


# --- the searchset ------------------------------------------------------------------------


def test_search_without_parameters_is_a_valid_searchset_of_every_active_service(
    client: FlaskClient, auth: Auth, directory: None
) -> None:
    bundle = search(client, auth, "")
    Bundle.model_validate(bundle)  # the whole Bundle, every resource in it
    assert bundle["type"] == "searchset"
    assert bundle["total"] == len(ACTIVE_IDS)
    assert {e["resource"]["id"] for e in bundle["entry"]} == ACTIVE_IDS
    assert all(e["resource"]["active"] is True for e in bundle["entry"])
    assert bundle["link"][0]["relation"] == "self"
    assert bundle["link"][0]["url"].startswith(f"{BASE}/HealthcareService?")
    for entry in bundle["entry"]:
        assert entry["fullUrl"] == f"{BASE}/HealthcareService/{entry['resource']['id']}"
        assert entry["search"] == {"mode": "match"}
        HealthcareService.model_validate(entry["resource"])


def test_the_bundle_has_the_dos_search_example_shape(
    client: FlaskClient, auth: Auth, directory: None
) -> None:
    """DoS Search's example searchset: type, total, a self link, fullUrl + resource + search
    match in each entry; navigator's carries the same keys (and more)."""
    spec = yaml.safe_load((DOS / "dos-search.yaml").read_text())
    get = spec["paths"]["/HealthcareService"]["get"]
    theirs = get["responses"]["200"]["content"]["application/fhir+json"]["example"]
    ours = search(client, auth, f"organization.identifier={ODS}|RC9")
    assert set(theirs) <= set(ours)
    assert set(theirs["entry"][0]) == set(ours["entry"][0])
    assert theirs["entry"][0]["search"] == ours["entry"][0]["search"]
    assert {lk["relation"] for lk in theirs["link"]} <= {lk["relation"] for lk in ours["link"]}
    their_keys = set(_dos_example_service()) - {"endpoint"}  # navigator holds no Endpoints
    assert their_keys <= set(ours["entry"][0]["resource"])


# --- every search parameter ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("_id=bedford-gp,luton-ucr", {"bedford-gp", "luton-ucr"}),
        ("identifier=bedford-gp", {"bedford-gp"}),
        (f"identifier={BASE}/Id/service|luton-ucr", {"luton-ucr"}),
        ("identifier=no-such-service", set()),
        (f"organization.identifier={ODS}|RD8", {"luton-ucr"}),
        ("organization.identifier=rd8", {"luton-ucr"}),
        (f"organization.identifier={ODS}|RD8,{ODS}|RC9", ACTIVE_IDS - {"befriending"}),
        (f"organization.identifier={BASE}/Id/organisation|helping-hands", {"befriending"}),
        ("organization.identifier=X99", set()),
        ("service-type=gp_practice", {"bedford-gp"}),
        (f"service-type={SERVICE_TYPES}|gp_practice,community_pharmacy", {"bedford-gp", "befriending"}),
        ("active=false", INACTIVE_IDS),
        ("active=true", ACTIVE_IDS),
        # The other filters narrow the inactive services too; an id does not bring one back.
        ("_id=closed-ucr,bedford-ucr", {"bedford-ucr"}),
        ("_id=closed-ucr,bedford-ucr&active=false", {"closed-ucr"}),
        (f"organization.identifier={ODS}|RC9&active=false", {"closed-ucr"}),
        (f"organization.identifier={ODS}|RD8&active=false", {"gone-pharmacy"}),
        ("service-type=community_pharmacy", {"befriending"}),
        ("service-type=community_pharmacy&active=false", {"gone-pharmacy"}),
        ("service-type=gp_practice&active=false", set()),
        ("location.address-postalcode=LU4&active=false", {"gone-pharmacy"}),
        ("coverage-postcode=LU4 0DZ&active=false", {"gone-pharmacy"}),
        ("caller-role=public&active=false", INACTIVE_IDS),
        ("open-at=2026-11-23T20:00:00Z&active=false", INACTIVE_IDS),
        ("location.address-postalcode=LU4 0DZ", {"luton-ucr"}),
        ("location.address-postalcode=lu40dz", {"luton-ucr"}),
        ("location.address-postalcode=LU4", {"luton-ucr"}),
        ("location.address-postalcode=LU4 0DA", set()),
        ("coverage-postcode=LU4 0DZ", {"luton-ucr"}),
        ("need=unwell_needs_gp", {"bedford-gp"}),
        (f"need={BASE}/CodeSystem/needs|loneliness", {"adults-only"}),
        ("caller-role=public", ACTIVE_IDS - {"adults-only"}),
        ("caller-role=nhs111", ACTIVE_IDS),
        ("age=10", ACTIVE_IDS - {"adults-only"}),
        ("age=18", ACTIVE_IDS),
        ("age=64.5", ACTIVE_IDS),
        ("age=65", ACTIVE_IDS - {"adults-only"}),
        ("open-at=2026-11-23T12:00:00Z", ACTIVE_IDS),  # a Monday noon
        ("open-at=2026-11-23T20:00:00Z", ACTIVE_IDS - {"bedford-gp"}),
        ("open-at=2026-11-29T01:00:00", ACTIVE_IDS),  # Saturday night's session, past midnight
        ("open-at=2026-11-29T03:00:00", ACTIVE_IDS - {"bedford-gp"}),
        ("service-type=gp_practice&open-at=2026-11-23T20:00:00%2B00:00", set()),
        ("need=fall_no_injury&coverage-postcode=MK42 9DJ&caller-role=public&active=true",
         {"bedford-ucr", "befriending"}),
    ],
)  # fmt: skip
def test_each_parameter_filters(
    client: FlaskClient, auth: Auth, directory: None, query: str, expected: set[str]
) -> None:
    assert set(ids(client, auth, query)) == expected


def test_near_finds_services_within_the_distance_nearest_first(
    client: FlaskClient, auth: Auth, directory: None
) -> None:
    """FHIR `near` (lat|long|distance|units); the distance is in each entry's search
    extension location-distance (a FHIR core extension)."""
    luton = search(client, auth, "location.near=51.89|-0.47|5|km")
    assert [e["resource"]["id"] for e in luton["entry"]] == ["luton-ucr"]
    distance = luton["entry"][0]["search"]["extension"][0]
    assert distance["url"] == "http://hl7.org/fhir/StructureDefinition/location-distance"
    assert distance["valueDistance"]["code"] == "km"
    assert distance["valueDistance"]["value"] < 1
    everywhere = search(client, auth, "location.near=51.89|-0.47")
    order = [e["resource"]["id"] for e in everywhere["entry"]]
    assert order[0] == "luton-ucr" and set(order) == ACTIVE_IDS
    values = [e["search"]["extension"][0]["valueDistance"]["value"] for e in everywhere["entry"]]
    assert values == sorted(values)
    in_miles = ids(client, auth, "location.near=51.89|-0.47|20|[mi_i]")
    assert set(in_miles) == ACTIVE_IDS  # Bedford is ~26 km (16 miles) from Luton
    assert ids(client, auth, "location.near=51.89|-0.47|20|km") == ["luton-ucr"]


def test_coverage_postcode_orders_by_distance(
    client: FlaskClient, auth: Auth, directory: None
) -> None:
    bundle = search(client, auth, "coverage-postcode=MK42")
    values = [e["search"]["extension"][0]["valueDistance"]["value"] for e in bundle["entry"]]
    assert values == sorted(values)
    # Every active service covering Bedford (Luton's covers Luton only).
    assert {e["resource"]["id"] for e in bundle["entry"]} == ACTIVE_IDS - {"luton-ucr"}


def test_a_search_for_a_public_caller_hides_the_clinician_only_number(
    client: FlaskClient, auth: Auth, directory: None
) -> None:
    def numbers(query: str) -> dict[str, str]:
        bundle = search(client, auth, f"_id=bedford-ucr&{query}")
        telecom = bundle["entry"][0]["resource"]["telecom"]
        return {
            t["value"]: t["extension"][0]["valueString"] for t in telecom if t["system"] == "phone"
        }

    both = {"01632 960001": "Public", "01632 960002": "Clinician Access Only"}
    assert numbers("") == both  # an API key holder is a professional system
    assert numbers("caller-role=professional") == both
    assert numbers("caller-role=nhs111") == both
    assert numbers("caller-role=public") == {"01632 960001": "Public"}
    assert numbers("caller-role=relative") == {"01632 960001": "Public"}


def test_professional_numbers_are_marked_as_the_dos_marks_them(
    client: FlaskClient, auth: Auth, directory: None
) -> None:
    theirs = _dos_example_service()["telecom"]
    ours = _resource(client, auth, "bedford-ucr")["telecom"]
    for audience in ("Public", "Clinician Access Only"):
        their = next(t for t in theirs if t["extension"][0]["valueString"] == audience)
        our = next(t for t in ours if t.get("extension", [{}])[0].get("valueString") == audience)
        assert our["system"] == their["system"] == "phone"
        assert (
            our["extension"]
            == their["extension"]
            == [{"url": CONTACTPOINT_COMMENT, "valueString": audience}]
        )


# --- one service --------------------------------------------------------------------------


def test_read_gives_the_service_with_its_identifier_organisation_and_types(
    client: FlaskClient, auth: Auth, directory: None
) -> None:
    resource = _resource(client, auth, "luton-ucr")
    HealthcareService.model_validate(resource)
    assert resource["id"] == "luton-ucr"
    assert resource["identifier"] == [
        {"use": "official", "system": f"{BASE}/Id/service", "value": "luton-ucr"}
    ]
    assert resource["providedBy"] == {
        "reference": "Organization/luton-trust",
        "identifier": {"system": ODS, "value": "RD8"},
        "display": "Organisation luton-trust",
    }
    type_coding = resource["type"][0]["coding"][0]
    assert (type_coding["system"], type_coding["code"]) == (
        SERVICE_TYPES,
        "urgent_community_response",
    )
    assert resource["active"] is True
    assert resource["location"] == [{"reference": "#loc-1", "display": "Base"}]
    assert resource["contained"] == [
        {
            "resourceType": "Location",
            "id": "loc-1",
            "name": "Base",
            "address": {"text": "1 Test Street, Bedford", "postalCode": "LU4 0DZ", "country": "GB"},
            "position": {"latitude": 51.892, "longitude": -0.473},
        }
    ]
    assert resource["characteristic"] == [
        {"coding": [{"system": f"{BASE}/CodeSystem/needs", "code": "fall_no_injury",
                     "display": resource["characteristic"][0]["coding"][0]["display"]}]}
    ]  # fmt: skip
    assert resource["referralMethod"][0]["coding"][0]["code"] == "phone"


def test_the_service_type_display_is_the_vocabulary_label(
    app_ctx: Any, client: FlaskClient, auth: Auth, directory: None
) -> None:
    resource = _resource(client, auth, "bedford-gp")
    assert resource["type"][0]["coding"][0]["display"] == VOCABULARY.get().label(
        "service_types", "gp_practice"
    )


def test_eligibility_carries_sex_ages_roles_places_and_practices(
    client: FlaskClient, auth: Auth, directory: None
) -> None:
    eligibility = _resource(client, auth, "adults-only")["eligibility"]
    codes = [
        (
            e["code"].get("coding", [{}])[0].get("system"),
            e["code"].get("coding", [{}])[0].get("code"),
        )
        for e in eligibility
    ]
    assert codes == [
        ("http://hl7.org/fhir/administrative-gender", "female"),
        ("http://terminology.hl7.org/CodeSystem/usage-context-type", "age"),
        (f"{BASE}/CodeSystem/caller-roles", "nhs111"),
        (f"{BASE}/CodeSystem/caller-roles", "professional"),
        (f"{BASE}/CodeSystem/places", "bedford"),
        (None, None),  # the GP practice restriction: text, with the ODS codes in the comment
    ]
    age = eligibility[1]
    assert age["extension"] == [
        {
            "url": f"{BASE}/StructureDefinition/eligibility-age-range",
            "valueRange": {
                "low": {
                    "value": 6575,
                    "unit": "days",
                    "system": "http://unitsofmeasure.org",
                    "code": "d",
                },
                "high": {
                    "value": 23741,
                    "unit": "days",
                    "system": "http://unitsofmeasure.org",
                    "code": "d",
                },
            },
        }
    ]
    assert age["comment"].startswith("Aged 18 to 64 years")
    assert "E81001" in eligibility[-1]["comment"]


def test_capacity_is_an_extension_with_status_staleness_and_time(
    app_ctx: Any, session: Any, client: FlaskClient, auth: Auth, directory: None
) -> None:
    """A read by id gives any capacity, red included; a search gives green and amber ones
    (red ones never: test_a_red_service_is_never_found_by_a_search)."""

    def capacity(service_id: str) -> dict[str, Any]:
        return _capacity(_resource(client, auth, service_id))

    assert capacity("bedford-ucr") == {"status": "green", "stale": True}  # never reported
    set_capacity(
        session,
        "bedford-ucr",
        status="red",
        note="Full until the evening",
        reset_after_minutes=120,
        changed_by="tests",
        now=datetime.now(UTC),
        default_reset_minutes=240,
    )
    session.commit()
    red = capacity("bedford-ucr")
    assert red["status"] == "red" and red["stale"] is False
    assert red["note"] == "Full until the evening"
    assert set(red) == {"status", "stale", "updated", "resetAt", "note"}
    # An amber service is still found by a search, and says it is amber.
    report_capacity(session, "luton-ucr", "amber")
    (entry,) = search(client, auth, "_id=luton-ucr")["entry"]
    amber = _capacity(entry["resource"])
    assert amber["status"] == "amber" and amber["stale"] is False
    assert set(amber) == {"status", "stale", "updated", "resetAt", "note"}


# --- what a search never gives --------------------------------------------------------------

# Every parameter, each giving bedford-ucr (active, 24/7, all ages and roles, covering Bedford,
# at MK42 9DJ) while its capacity is not red.
FINDS_BEDFORD_UCR = [
    "",
    "_id=bedford-ucr",
    f"identifier={BASE}/Id/service|bedford-ucr",
    f"organization.identifier={ODS}|RC9",
    f"organization.identifier={BASE}/Id/organisation|test-trust",
    "service-type=urgent_community_response",
    "active=true",
    "location.address-postalcode=MK42 9DJ",
    "location.near=52.126|-0.472|1|km",
    "coverage-postcode=MK42 9DJ",
    "need=fall_no_injury",
    "caller-role=public",
    "caller-role=nhs111",
    "age=0",
    "age=90",
    "open-at=2026-11-29T03:00:00Z",
    "need=fall_no_injury&coverage-postcode=MK42 9DJ&caller-role=public&active=true&_count=1",
]


@pytest.mark.parametrize("query", FINDS_BEDFORD_UCR)
def test_a_red_service_is_never_found_by_a_search(
    app_ctx: Any, session: Any, client: FlaskClient, auth: Auth, directory: None, query: str
) -> None:
    """A search never gives a service whose capacity is red now, whatever it is asked, as
    `/api/v1/services` leaves red services out (README, its default) and as legacy DoS
    returns only green and amber services: a client showing the first result must not offer
    a full service (H35). The total counts it out too. (The DoS FHIR Search specification
    vendored in tests/data/fhir/dos/ says nothing of capacity.)"""
    before = search(client, auth, query)
    assert "bedford-ucr" in {e["resource"]["id"] for e in before["entry"]}
    report_capacity(session, "bedford-ucr", "red")
    after = search(client, auth, query)
    assert "bedford-ucr" not in {e["resource"]["id"] for e in after.get("entry", [])}
    assert after["total"] == before["total"] - 1
    # Read by id, it is there, saying it is red.
    read = _resource(client, auth, "bedford-ucr")
    HealthcareService.model_validate(read)
    assert read["active"] is True
    assert _capacity(read)["status"] == "red" and _capacity(read)["stale"] is False


def test_a_red_inactive_service_is_not_found_by_active_false_either(
    app_ctx: Any, session: Any, client: FlaskClient, auth: Auth, directory: None
) -> None:
    report_capacity(session, "closed-ucr", "red")
    assert set(ids(client, auth, "active=false")) == INACTIVE_IDS - {"closed-ucr"}
    assert ids(client, auth, "_id=closed-ucr&active=false") == []
    read = _resource(client, auth, "closed-ucr")
    assert read["active"] is False and _capacity(read)["status"] == "red"


def test_amber_is_found_and_a_red_status_past_its_reset_time_is_green_again(
    app_ctx: Any, session: Any, client: FlaskClient, auth: Auth, directory: None
) -> None:
    """Amber services are found (DoS returns green and amber). A red status resets to green
    at its reset time (DoS-style auto-reset): from then a search finds the service again,
    and its capacity says green, as the read does."""
    report_capacity(session, "bedford-gp", "amber")
    report_capacity(session, "luton-ucr", "red")
    assert set(ids(client, auth, "")) == ACTIVE_IDS - {"luton-ucr"}
    report_capacity(
        session, "luton-ucr", "red", now=utcnow() - timedelta(minutes=90), reset_after_minutes=60
    )
    (entry,) = search(client, auth, "_id=luton-ucr")["entry"]
    assert _capacity(entry["resource"])["status"] == "green"
    assert _capacity(_resource(client, auth, "luton-ucr"))["status"] == "green"
    assert set(ids(client, auth, "")) == ACTIVE_IDS


def test_a_search_gives_active_services_unless_active_false_asks_for_the_others(
    client: FlaskClient, auth: Auth, directory: None
) -> None:
    """Like DoS and `/api/v1/services`, a search answers with services that can take a patient;
    `active=false` gives only the temporarily closed and defunct ones, each saying why in
    `notAvailable`. A read by id gives any service, inactive ones included."""
    default, explicit = search(client, auth, ""), search(client, auth, "active=true")
    inactive = search(client, auth, "active=false")
    for bundle, expected, active in ((default, ACTIVE_IDS, True), (explicit, ACTIVE_IDS, True),
                                     (inactive, INACTIVE_IDS, False)):  # fmt: skip
        Bundle.model_validate(bundle)
        assert bundle["total"] == len(expected)
        assert {e["resource"]["id"] for e in bundle["entry"]} == expected
        assert all(e["resource"]["active"] is active for e in bundle["entry"])
    why = {
        e["resource"]["id"]: e["resource"]["notAvailable"][0]["description"]
        for e in inactive["entry"]
    }
    assert why == {"closed-ucr": "Temporarily closed", "gone-pharmacy": "Closed permanently"}
    for service_id in ALL_IDS:
        assert _resource(client, auth, service_id)["active"] is (service_id in ACTIVE_IDS)


def test_opening_times_become_available_time_not_available_and_exceptions(
    client: FlaskClient, auth: Auth, directory: None
) -> None:
    resource = _resource(client, auth, "bedford-gp")
    assert resource["availableTime"] == [
        {"daysOfWeek": ["mon", "tue", "wed", "thu", "fri"],
         "availableStartTime": "08:00:00", "availableEndTime": "18:30:00"},
        {"daysOfWeek": ["sat"], "availableStartTime": "22:00:00", "availableEndTime": "23:59:59"},
        {"daysOfWeek": ["sun"], "availableStartTime": "00:00:00", "availableEndTime": "02:00:00"},
    ]  # fmt: skip
    closed = [n for n in resource["notAvailable"] if n["description"] == "Closed on 24 Dec 2099"]
    assert closed == [
        {
            "description": "Closed on 24 Dec 2099",
            "during": {"start": "2099-12-24T00:00:00Z", "end": "2099-12-25T00:00:00Z"},
        }
    ]
    # Bank holidays are closed and the GP is open on weekdays: the next ones are listed.
    assert any(n["description"] == "Closed: bank holiday" for n in resource["notAvailable"])
    assert "bank holidays closed" in resource["availabilityExceptions"]
    assert "31 Dec 2099 09:00–12:00" in resource["availabilityExceptions"]
    always = _resource(client, auth, "bedford-ucr")
    assert always["availableTime"] == [
        {"daysOfWeek": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "allDay": True}
    ]
    assert "notAvailable" not in always
    assert _resource(client, auth, "closed-ucr")["notAvailable"] == [
        {"description": "Temporarily closed"}
    ]


def test_bank_holidays_in_the_coming_year_are_listed_from_a_given_day(app_ctx: Any) -> None:
    """England's bank holidays (the `holidays` package): from 1 December 2026, Christmas Day,
    Boxing Day (a Saturday, when the GP would hold its night session) and its substitute day,
    Monday 28 December, come first."""
    load_fhir_directory()
    entry = directory_index().by_id["bedford-gp"]
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    resource = healthcare_service(
        entry, effective(None, now, 24), VOCABULARY.get(), now=now, professional=False
    )
    days = [n["during"]["start"][:10] for n in resource["notAvailable"] if "during" in n]
    assert days[:3] == ["2026-12-25", "2026-12-26", "2026-12-28"]
    assert "telecom" in resource and all(
        t.get("extension", [{}])[0].get("valueString") != "Clinician Access Only"
        for t in resource["telecom"]
    )


def test_a_whole_day_session_is_all_day() -> None:
    schedule = schedule_from_opening(
        {"weekly": {"sunday": [["00:00", "24:00"]], "monday": [["09:00", "09:00"]]}}
    )
    assert available_time(schedule) == [
        {"daysOfWeek": ["mon"], "availableStartTime": "09:00:00", "availableEndTime": "23:59:59"},
        {"daysOfWeek": ["tue"], "availableStartTime": "00:00:00", "availableEndTime": "09:00:00"},
        {"daysOfWeek": ["sun"], "allDay": True},
    ]
    assert GP_OPENING["bank_holidays"] == []


def test_an_unknown_service_is_a_404_operation_outcome(
    client: FlaskClient, auth: Auth, directory: None
) -> None:
    response = client.get("/fhir/HealthcareService/no-such-service", headers=auth["integrator"])
    assert response.status_code == 404 and response.mimetype == FHIR_JSON
    body = response.get_json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["code"] == "not-found"
    assert body["issue"][0]["details"]["coding"][0]["code"] == "REC_NOT_FOUND"


def test_every_api_role_may_search_and_read(
    client: FlaskClient, auth: Auth, directory: None
) -> None:
    for role in ("integrator", "navigator", "provider", "admin"):
        assert client.get("/fhir/HealthcareService", headers=auth[role]).status_code == 200
        assert (
            client.get("/fhir/HealthcareService/bedford-ucr", headers=auth[role]).status_code == 200
        )


def test_without_a_key_the_answer_is_401_operation_outcome(
    client: FlaskClient, directory: None
) -> None:
    for url in ("/fhir/HealthcareService", "/fhir/HealthcareService/bedford-ucr"):
        response = client.get(url)
        assert response.status_code == 401 and response.mimetype == FHIR_JSON
        assert response.get_json()["issue"][0]["details"]["coding"][0]["code"] == "REC_UNAUTHORIZED"
