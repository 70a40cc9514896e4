"""The canonical form of a directory record.

Protects: "unchanged" on a reload means "the same canonical record", so the same service
written with its lists in another order, or an entry repeated, must give the same record, and
the canonical form of a canonical record (as read back from the tables) must be itself.
"""

from __future__ import annotations

import json
from typing import Any

from navigator.directory.records import ServiceSchema, canonical_service
from tests.builders import service


def _canonical(raw: dict[str, Any]) -> dict[str, Any]:
    return canonical_service(ServiceSchema().load(raw))


def test_order_and_repetition_do_not_change_the_canonical_record() -> None:
    first = service(
        needs=["loneliness", "carer_support", "loneliness"],
        eligibility={"caller_roles": ["public", "nhs111"]},
        opening={"weekly": {"monday": [["13:00", "17:00"], ["08:00", "12:00"]]}},
    )
    second = service(
        needs=["carer_support", "loneliness"],
        eligibility={"caller_roles": ["nhs111", "public", "public"]},
        opening={"weekly": {"monday": [["08:00", "12:00"], ["13:00", "17:00"]]}},
    )
    assert _canonical(first) == _canonical(second)


def test_the_canonical_form_is_a_fixed_point_and_plain_json() -> None:
    record = _canonical(
        service(
            postcode="mk42 9dj",
            opening={
                "weekly": {"friday": [["18:30", "08:00"]]},
                "bank_holidays": [["10:00", "14:00"]],
                "specified_dates": [{"date": "2026-12-25", "closed": True}],
            },
        )
    )
    assert canonical_service(record) == record
    assert json.loads(json.dumps(record)) == record
    assert record["locations"][0]["postcode"] == "MK42 9DJ"
