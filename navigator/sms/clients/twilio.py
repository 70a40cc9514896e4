"""Twilio behind `SmsClient`: the official `twilio` client with an explicit timeout, its
errors mapped to navigator's, and what Twilio's delivery receipts mean in navigator's statuses.

`TWILIO_API_BASE` sends the client's requests to another server instead of api.twilio.com
(the local fake, `navigator.sms.fake_twilio`, in development and tests)."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from navigator.sms.clients import SmsClient, SmsRejected, SmsUnavailable
from navigator.sms.models import DELIVERED, FAILED, SENT, UNDELIVERED

TWILIO_API = "https://api.twilio.com"
# Where Twilio calls navigator back (`navigator.sms.webhooks`), under PUBLIC_BASE_URL.
STATUS_PATH = "/webhooks/twilio/status"
INBOUND_PATH = "/webhooks/twilio/inbound"

# Twilio's message statuses, as navigator's.
FROM_TWILIO = {
    "accepted": SENT,
    "scheduled": SENT,
    "queued": SENT,
    "sending": SENT,
    "sent": SENT,
    "delivered": DELIVERED,
    "read": DELIVERED,
    "undelivered": UNDELIVERED,
    "failed": FAILED,
}


def delivery_status(message_status: str, error_code: str | None) -> tuple[str, str | None] | None:
    """A delivery receipt's `MessageStatus` and `ErrorCode` as navigator's status and error
    text; None for a status navigator does not track."""
    status = FROM_TWILIO.get(message_status)
    if status is None:
        return None
    return status, (f"Twilio error {error_code}" if error_code else None)


@dataclass(frozen=True)
class TwilioSettings:
    """The `TWILIO_*` settings, `PUBLIC_BASE_URL` (for callbacks) and the HTTP timeout."""

    account_sid: str | None
    auth_token: str | None
    from_number: str | None
    messaging_service_sid: str | None
    api_base: str | None
    public_base_url: str
    http_timeout: float  # seconds

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> TwilioSettings:
        return cls(
            account_sid=config.get("TWILIO_ACCOUNT_SID"),
            auth_token=config.get("TWILIO_AUTH_TOKEN"),
            from_number=config.get("TWILIO_FROM"),
            messaging_service_sid=config.get("TWILIO_MESSAGING_SERVICE_SID"),
            api_base=config.get("TWILIO_API_BASE"),
            public_base_url=config["PUBLIC_BASE_URL"].rstrip("/"),
            http_timeout=float(config["SMS_HTTP_TIMEOUT_SECONDS"]),
        )

    def problems(self) -> list[str]:
        """What stops sending through Twilio (the worker refuses to start with any)."""
        out = []
        if not (self.account_sid and self.auth_token):
            out.append("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are required")
        if not (self.from_number or self.messaging_service_sid):
            out.append("TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID is required")
        return out

    def status_callback(self, message_id: str) -> str:
        """The receipt URL for one message: it carries navigator's id (see `send_sms`)."""
        return f"{self.public_base_url}{STATUS_PATH}?{urlencode({'message_id': message_id})}"


class RoutedHttpClient(TwilioHttpClient):
    """Twilio's own HTTP client with an explicit timeout, sending to `api_base` instead of
    api.twilio.com when one is configured (the local fake in development and tests)."""

    def __init__(self, *, timeout: float, api_base: str | None = None) -> None:
        super().__init__(timeout=timeout, logger=logging.getLogger("navigator.sms.twilio_http"))
        self.logger.setLevel(logging.WARNING)  # request logs would carry numbers and bodies
        self.api_base = api_base.rstrip("/") if api_base else None

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        if self.api_base and url.startswith(TWILIO_API):
            url = self.api_base + url[len(TWILIO_API) :]
        return super().request(method, url, *args, **kwargs)


class TwilioSmsClient(SmsClient):
    """`SmsClient` over Twilio's Messages API. Sends from the messaging service when one is
    configured, else from `TWILIO_FROM`."""

    name = "twilio"

    def __init__(self, settings: TwilioSettings) -> None:
        self.settings = settings
        self.timeout = settings.http_timeout
        http = RoutedHttpClient(timeout=settings.http_timeout, api_base=settings.api_base)
        self.client = Client(settings.account_sid, settings.auth_token, http_client=http)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> TwilioSmsClient:
        return cls(TwilioSettings.from_config(config))

    def send_sms(self, to: str, body: str, *, reference: str) -> str:
        """See `SmsClient.send_sms`; the reference rides in the status callback URL."""
        with _mapped_errors():
            return str(
                self.client.messages.create(
                    to=to,
                    body=body,
                    status_callback=self.settings.status_callback(reference),
                    **self._sender(),
                ).sid
            )

    def find_sent(self, to: str, body: str, *, since: datetime) -> str | None:
        """See `SmsClient.find_sent`: Twilio's messages to `to` sent since `since` (the first
        100, newest first), matched on the exact body and an outbound direction."""
        with _mapped_errors():
            for found in self.client.messages.list(to=to, date_sent_after=since, limit=100):
                if found.body == body and str(found.direction or "").startswith("outbound"):
                    return str(found.sid)
        return None

    def _sender(self) -> dict[str, str]:
        if self.settings.messaging_service_sid:
            return {"messaging_service_sid": self.settings.messaging_service_sid}
        assert self.settings.from_number, "TwilioSettings.problems() requires one or the other"
        return {"from_": self.settings.from_number}


@contextmanager
def _mapped_errors() -> Iterator[None]:
    """Twilio's and requests' exceptions raised inside, as navigator's `SmsClientError`s."""
    try:
        yield
    except TwilioRestException as exc:
        # 4xx (bad number, unsubscribed, ...) will not get better; 429 and 5xx may.
        error = f"Twilio {exc.status} error {exc.code}"
        if exc.status < 500 and exc.status != 429:
            raise SmsRejected(error) from exc
        raise SmsUnavailable(error) from exc
    except (requests.RequestException, TwilioException) as exc:
        # Timeouts and lost connections: Twilio may or may not have the message.
        raise SmsUnavailable(f"{type(exc).__name__} talking to Twilio") from exc
