"""The Twilio client (`navigator.sms.clients.twilio`): the official `twilio` client against the
local fake Twilio. It sends with navigator's id in the receipt URL, finds a message Twilio
accepted though the answer was lost, and turns every failure into navigator's two errors:
`SmsRejected` (fail now) or `SmsUnavailable` (retry, after looking first)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest

from navigator.core.db import utcnow
from navigator.core.settings import DEV_TWILIO_ACCOUNT_SID, DEV_TWILIO_AUTH_TOKEN
from navigator.sms.clients import SmsClient, SmsRejected, SmsUnavailable
from navigator.sms.clients.twilio import TwilioSettings, TwilioSmsClient, delivery_status
from navigator.sms.fake_twilio import FakeTwilio
from tests.sms.conftest import closed_port_url

TO = "+447700900101"
BODY = "NHS BLMK care navigation, ref CASE-1. Reply 1 if well, 2 to call back, STOP to stop."
TIMEOUT = 0.3


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    fake = FakeTwilio(
        account_sid=DEV_TWILIO_ACCOUNT_SID,
        auth_token=DEV_TWILIO_AUTH_TOKEN,
        public_base_url="http://127.0.0.1:9",
    )
    fake.callbacks_enabled = False  # no app to receive them here
    yield fake.start()
    fake.stop()


@pytest.fixture
def settings(fake: FakeTwilio) -> TwilioSettings:
    return TwilioSettings(
        account_sid=DEV_TWILIO_ACCOUNT_SID,
        auth_token=DEV_TWILIO_AUTH_TOKEN,
        from_number="+447700900000",
        messaging_service_sid=None,
        api_base=fake.url,
        public_base_url="https://navigator.example",
        http_timeout=TIMEOUT,
    )


def test_it_is_an_sms_client_whose_timeout_is_the_http_timeout(settings: TwilioSettings) -> None:
    client = TwilioSmsClient(settings)
    assert isinstance(client, SmsClient)
    assert client.timeout == TIMEOUT  # the outbox's lease must be over twice this


def test_a_text_is_sent_with_our_id_in_the_receipt_url(
    fake: FakeTwilio, settings: TwilioSettings
) -> None:
    sid = TwilioSmsClient(settings).send_sms(TO, BODY, reference="message-1")
    [sent] = fake.sent()
    assert sent["sid"] == sid and sent["to"] == TO and sent["body"] == BODY
    assert sent["from"] == "+447700900000"
    assert sent["status_callback"] == (
        "https://navigator.example/webhooks/twilio/status?message_id=message-1"
    )


def test_a_messaging_service_is_used_when_configured(
    fake: FakeTwilio, settings: TwilioSettings
) -> None:
    service = replace(settings, from_number=None, messaging_service_sid="MG" + "1" * 32)
    TwilioSmsClient(service).send_sms(TO, BODY, reference="message-1")
    assert fake.sent()[0]["messaging_service_sid"] == "MG" + "1" * 32


def test_a_refusal_is_rejected_naming_twilios_status_and_code(settings: TwilioSettings) -> None:
    wrong = TwilioSmsClient(replace(settings, auth_token="not-the-token"))
    with pytest.raises(SmsRejected, match=r"^Twilio 401 error 20003$"):
        wrong.send_sms(TO, BODY, reference="message-1")
    # Listing, the `twilio` library reports a refused page without its HTTP status (a plain
    # TwilioException): it counts as unavailable, so a retry looks again rather than failing.
    with pytest.raises(SmsUnavailable, match=r"^TwilioException talking to Twilio$"):
        wrong.find_sent(TO, BODY, since=utcnow())


def test_server_errors_timeouts_and_lost_connections_are_unavailable(
    fake: FakeTwilio, settings: TwilioSettings
) -> None:
    client = TwilioSmsClient(settings)
    fake.fail(1, "500")
    with pytest.raises(SmsUnavailable, match=r"^Twilio 500 error 20500$"):
        client.send_sms(TO, BODY, reference="message-1")
    fake.fail(1, "timeout", seconds=TIMEOUT * 2)
    with pytest.raises(SmsUnavailable, match=r"^ReadTimeout talking to Twilio$"):
        client.send_sms(TO, BODY, reference="message-1")
    nowhere = TwilioSmsClient(replace(settings, api_base=closed_port_url()))
    with pytest.raises(SmsUnavailable, match=r"^ConnectionError talking to Twilio$"):
        nowhere.send_sms(TO, BODY, reference="message-1")
    with pytest.raises(SmsUnavailable):
        nowhere.find_sent(TO, BODY, since=utcnow())


def test_a_text_accepted_though_the_answer_was_lost_is_found_by_number_and_body(
    fake: FakeTwilio, settings: TwilioSettings
) -> None:
    client = TwilioSmsClient(settings)
    started = utcnow() - timedelta(minutes=5)
    fake.fail(1, "accept_timeout", seconds=TIMEOUT * 2)
    with pytest.raises(SmsUnavailable):
        client.send_sms(TO, BODY, reference="message-1")
    [accepted] = fake.sent()
    assert client.find_sent(TO, BODY, since=started) == accepted["sid"]
    assert client.find_sent(TO, BODY + " ", since=started) is None  # the exact body only
    assert client.find_sent("+447700900102", BODY, since=started) is None
    assert client.find_sent(TO, BODY, since=utcnow() + timedelta(minutes=5)) is None


@pytest.mark.parametrize(
    ("twilio", "error_code", "expected"),
    [
        ("queued", None, ("sent", None)),
        ("sent", None, ("sent", None)),
        ("delivered", None, ("delivered", None)),
        ("read", None, ("delivered", None)),
        ("undelivered", "30003", ("undelivered", "Twilio error 30003")),
        ("failed", "30008", ("failed", "Twilio error 30008")),
        ("receiving", None, None),  # an inbound status: not one navigator tracks
        ("", None, None),
    ],
)
def test_receipts_are_read_as_navigators_statuses(
    twilio: str, error_code: str | None, expected: tuple[str, str | None] | None
) -> None:
    assert delivery_status(twilio, error_code) == expected
