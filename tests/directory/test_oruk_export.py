"""Open Referral UK export: navigator's vocabulary as HSDS taxonomy terms, no professional-only
detail in a public export (hazard H5), and what the UK profile 3.0 schemas demand of each
object (tests/data/oruk/NOTES.md §4): no null, UUID ids, the organisation's description; ages
that keep their precision, the source feed's own terms, and no capacity (README, "Open
Referral UK")."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from navigator.core.reference import VOCABULARY
from navigator.directory.capacity import set_capacity
from navigator.directory.oruk_export import export_oruk, source_term_id
from navigator.directory.oruk_terms import DETAILS_TERM, NAMESPACE, hsds_id
from tests.builders import load_directory, service
from tests.directory.oruk_samples import (
    HOSTILE,
    UUID_ORGANISATION,
    UUID_SERVICE,
    awkward_organisations,
    awkward_services,
    nulls,
)


def test_vocabulary_terms_appear_as_oruk_attributes(session: Session) -> None:
    load_directory(services=[service(id="s", needs=["loneliness", "carer_support"])])
    item = export_oruk(session, VOCABULARY.get(), include_professional=False)[0]
    names = {a["taxonomy_term"].get("code") for a in item["attributes"]}
    assert {"urgent_community_response", "loneliness", "carer_support", "community"} <= names


def test_a_public_export_leaves_out_professional_details(session: Session) -> None:
    """The professional line and referral instructions appear only in a professional export,
    in any field, including the `navigator-details` attribute."""
    load_directory(services=[service(id="s")])
    public = json.dumps(export_oruk(session, include_professional=False))
    professional = json.dumps(export_oruk(session, include_professional=True))
    for secret in ("01632 960002", "Ring the professional line."):
        assert secret not in public
        assert secret in professional
    assert "01632 960001" in public  # the public number stays


def test_no_null_and_uuid_ids_with_the_slugs_in_navigator_details(session: Session) -> None:
    """The UK profile's schemas allow no null and want every id a UUID (NOTES.md §4): absent
    values are left out; the service and organisation ids are uuid5s of the navigator slugs,
    which `navigator-details` carries for navigator's own import to read back."""
    load_directory(organisations=awkward_organisations(), services=awkward_services())
    exported = {s["name"]: s for s in export_oruk(session, include_professional=True)}
    assert [path for s in exported.values() for path in nulls(s)] == []
    bare = exported[HOSTILE]  # no email, url, public name, maximum age, location or assurance
    assert not {"email", "url", "alternate_name", "maximum_age", "assured_date"} & set(bare)
    assert bare["service_at_locations"] == [] and bare["minimum_age"] == 0
    assert bare["id"] == str(uuid.uuid5(NAMESPACE, "service:awkward-hostile"))
    assert (
        bare["organization_id"]
        == bare["organization"]["id"]
        == hsds_id("organisation", "awkward-org")
    )
    assert bare["organization"]["description"]  # required by the profile
    assert "website" not in bare["organization"]
    details = next(a for a in bare["attributes"] if a["taxonomy_term"]["name"] == DETAILS_TERM)
    assert json.loads(details["value"])["id"] == "awkward-hostile"
    assert json.loads(details["value"])["organisation"] == "awkward-org"
    for attribute in bare["attributes"]:
        assert attribute["link_id"] == bare["id"]
        assert "parent_id" not in attribute["taxonomy_term"]


def test_a_service_whose_id_is_a_uuid_keeps_it(session: Session) -> None:
    """Services kept from another ORUK feed publish the feed's own id, unchanged."""
    load_directory(organisations=awkward_organisations(), services=awkward_services())
    exported = {s["id"]: s for s in export_oruk(session, include_professional=False)}
    assert exported[UUID_SERVICE]["organization_id"] == UUID_ORGANISATION


def test_fractional_ages_keep_their_precision(session: Session) -> None:
    """548 days (18 months) exports as 1.5 years, not rounded to 1 or 2 (issue 15)."""
    load_directory(organisations=awkward_organisations(), services=awkward_services())
    exported = {s["id"]: s for s in export_oruk(session, include_professional=False)}
    toddlers = exported[hsds_id("service", "awkward-toddlers")]
    assert (toddlers["minimum_age"], toddlers["maximum_age"]) == (1.5, 2.5)
    assert toddlers["eligibility_description"].startswith("From age 1.5; up to age 2.5")


def test_source_terms_and_unclassified_are_published_as_attributes(session: Session) -> None:
    """A service re-published from a council feed keeps the feed's own terms (ESD URIs as
    `term_uri`; CURIEs and local codes without one), next to navigator's `unclassified`."""
    load_directory(organisations=awkward_organisations(), services=awkward_services())
    exported = {s["id"]: s for s in export_oruk(session, include_professional=False)}
    terms = {
        a["taxonomy_term"]["code"]: a["taxonomy_term"]
        for a in exported[hsds_id("service", "awkward-unclassified")]["attributes"]
        if "code" in a["taxonomy_term"]
    }
    assert terms["unclassified"]["taxonomy"] == "navigator-service-types"
    esd = terms["http://id.esd.org.uk/service/242"]
    assert esd["term_uri"] == "http://id.esd.org.uk/service/242"
    assert (esd["taxonomy"], esd["name"]) == ("esdServiceTypes", "Care at home")
    assert esd["id"] == source_term_id("esdServiceTypes", "http://id.esd.org.uk/service/242")
    curie = terms["esdServiceType:298"]
    assert "term_uri" not in curie and curie["name"] == "esdServiceType:298"  # no name given
    assert terms["bccagegroup:18"]["name"] == "Older People"


def test_no_capacity_is_published(session: Session) -> None:
    """navigator's RAG capacity is not an HSDS 3.1 `service_capacity` (no count of units) and
    is for professionals: a red status and its note never reach the export (README)."""
    load_directory(services=[service(id="s")])
    set_capacity(
        session,
        "s",
        status="red",
        note="Sister-in-charge: no visits till 6",
        reset_after_minutes=60,
        changed_by="t",
        now=datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
        default_reset_minutes=240,
    )
    for professional in (True, False):
        exported = export_oruk(session, include_professional=professional)
        assert "capacities" not in exported[0] and "Sister-in-charge" not in json.dumps(exported)
