"""The mapping between canonical records and the directory tables.

Protects: every field of a service survives the round trip record -> rows -> record (weekly,
overnight, bank-holiday and specified-date sessions, closed dates, locations in order, the SMS
number and its consent, assurance), so a reload of unchanged data finds nothing to change and
the index and the ORUK export see exactly what was loaded.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from navigator.core.db import transaction
from navigator.directory.records import (
    OrganisationSchema,
    ServiceSchema,
    canonical_organisation,
    canonical_service,
)
from navigator.directory.store import (
    insert_organisations,
    insert_services,
    read_organisations,
    read_services,
)
from tests.builders import organisation, service


def test_a_record_read_back_from_the_tables_equals_the_record_written(session: Session) -> None:
    org = canonical_organisation(OrganisationSchema().load(organisation(charity_number="123")))
    raw = service(
        id="home",
        service_type="care_home",
        opening={
            "weekly": {"monday": [["18:30", "08:00"]], "tuesday": [["09:00", "12:00"]]},
            "bank_holidays": [["10:00", "14:00"]],
            "specified_dates": [
                {"date": "2026-12-25", "closed": True},
                {"date": "2026-12-24", "sessions": [["09:00", "11:00"], ["12:00", "13:00"]]},
            ],
        },
        locations=[
            {"name": "Second", "postcode": "MK40 1AA"},
            {"name": "First", "address": "1 Test Street, Bedford", "lat": 52.1, "lng": -0.4},
        ],
        sms={
            "number": "07700 900101",
            "consent": True,
            "consent_recorded_at": "2026-09-30T10:00:00+01:00",
        },
    )
    record = canonical_service(ServiceSchema().load(raw))
    with transaction(session):
        insert_organisations(session, [org])
        insert_services(session, [record], changed_by="tests")

    assert read_organisations(session) == {"test-trust": org}
    assert read_services(session) == {"home": record}
    assert read_services(session, ["home", "nobody"]) == {"home": record}
    assert [loc["name"] for loc in record["locations"]] == ["Second", "First"]
    assert record["sms"]["consent_recorded_at"] == "2026-09-30T09:00:00Z"
