"""What the outbox needs from an SMS provider, and the errors a provider's client raises
(after GOV.UK Notify's `app/clients/sms/`).

The outbox (`navigator.sms.outbox`) knows only `SmsClient` and these errors, so another
provider, or a fake in a test, can stand in for `clients.twilio.TwilioSmsClient`. A client
never touches the database and never retries: retrying, backoff and never sending twice are
the outbox's.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime


class SmsClientError(Exception):
    """The provider could not be asked, or refused. `str(error)` is a short description with
    no number and no message body, kept in `SmsMessage.last_error` (at most 200 characters)."""


class SmsRejected(SmsClientError):
    """The provider answered and refused (a bad number, an unsubscribed handset, wrong
    credentials): sending the same request again will not help, so the message fails."""


class SmsUnavailable(SmsClientError):
    """The provider may do better later: a timeout, a lost connection, rate limiting or a
    server error. Ambiguous: the provider may have accepted the message before the answer was
    lost, so the outbox asks `find_sent` before sending it again."""


class SmsClient(ABC):
    """A provider's SMS API, reduced to the two calls the outbox makes."""

    #: Short provider name, for logs.
    name: str
    #: The longest one call may wait for the provider, in seconds. The outbox's sending lease
    #: must be well over it, or a slow send could be taken for a dead one and sent again.
    timeout: float

    @abstractmethod
    def send_sms(self, to: str, body: str, *, reference: str) -> str:
        """Send `body` to `to` (E.164). `reference` is navigator's message id: the provider
        hands it back with each delivery receipt, so the receipt finds its message even if we
        never stored the provider's id. Returns the provider's id for the message.

        Raises SmsRejected (will not get better) or SmsUnavailable (may; possibly sent)."""

    @abstractmethod
    def find_sent(self, to: str, body: str, *, since: datetime) -> str | None:
        """The provider's id of an outbound message to `to` with exactly this `body`, created
        at or after `since` (aware UTC), else None. Raises SmsClientError if the provider
        cannot be asked."""
