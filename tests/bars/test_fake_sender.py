"""The local fake BaRS sender answers as a BaRS receiver does, so the outbox tests prove
something: a repeated X-Request-Id is 409 with the issue code and REC code of the API's own
example (booking-and-referral-fhir-api
`examples1.4.0/OperationOutcome/REC/409-REC_CONFLICT-duplicate.json`, vendored), missing ids
are 400, a body that is not a message Bundle is 400, and "down" really refuses connections."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from navigator.bars.fake_sender import FakeBarsSender

DUPLICATE = Path(__file__).resolve().parent.parent / "data" / "bars" / "responses"
MESSAGE = {
    "resourceType": "Bundle",
    "type": "message",
    "entry": [
        {
            "fullUrl": "urn:uuid:1cbdfb97-5859-48a4-8301-d54eab818d68",
            "resource": {
                "resourceType": "MessageHeader",
                "eventCoding": {
                    "system": "https://fhir.nhs.uk/CodeSystem/message-events-bars",
                    "code": "servicerequest-response",
                },
                "source": {"endpoint": "https://navigator.example/fhir"},
            },
        }
    ],
}


@pytest.fixture
def fake() -> Iterator[FakeBarsSender]:
    with FakeBarsSender() as sender:
        yield sender


def post(fake: FakeBarsSender, body: object, **headers: str) -> requests.Response:
    return requests.post(
        f"{fake.endpoint}/$process-message", data=json.dumps(body), headers=headers, timeout=5
    )


def ids() -> dict[str, str]:
    return {"X-Request-Id": str(uuid.uuid4()), "X-Correlation-Id": str(uuid.uuid4())}


def test_a_repeated_request_id_is_409_duplicate_as_the_api_example() -> None:
    example = json.loads((DUPLICATE / "409-REC_CONFLICT-duplicate.json").read_text())
    with FakeBarsSender() as fake:
        headers = ids()
        assert post(fake, MESSAGE, **headers).status_code == 200
        again = post(fake, MESSAGE, **headers)
        assert again.status_code == 409
        [issue], [theirs] = again.json()["issue"], example["issue"]
        assert issue["code"] == theirs["code"] == "duplicate"
        assert issue["details"] == theirs["details"]
        assert again.headers["X-Request-Id"] == headers["X-Request-Id"]
        assert len(fake.received()) == 1
        assert fake.attempts == 2


def test_missing_or_malformed_ids_and_non_messages_are_400(fake: FakeBarsSender) -> None:
    assert post(fake, MESSAGE).status_code == 400
    assert post(fake, MESSAGE, **(ids() | {"X-Request-Id": "not-a-uuid"})).status_code == 400
    assert post(fake, {"resourceType": "Patient"}, **ids()).status_code == 400
    assert post(fake, MESSAGE | {"type": "collection"}, **ids()).status_code == 400
    assert fake.received() == []


def test_down_refuses_connections_and_up_listens_on_the_same_port(fake: FakeBarsSender) -> None:
    port = fake.port
    fake.down()
    with pytest.raises(requests.ConnectionError):
        post(fake, MESSAGE, **ids())
    fake.up()
    assert fake.port == port
    assert post(fake, MESSAGE, **ids()).status_code == 200


def test_told_failures_carry_retry_after_and_are_not_recorded(fake: FakeBarsSender) -> None:
    fake.fail_next(1, status=503, retry_after=7)
    answer = post(fake, MESSAGE, **ids())
    assert (answer.status_code, answer.headers["Retry-After"]) == (503, "7")
    assert answer.json()["issue"][0]["details"]["coding"][0]["code"] == "REC_SERVICE_UNAVAILABLE"
    assert fake.received() == []


def test_it_listens_on_loopback_only() -> None:
    with pytest.raises(ValueError, match="loopback"):
        FakeBarsSender(host="0.0.0.0")  # noqa: S104 - the refusal is the point
