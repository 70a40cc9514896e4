"""Who may be texted: care homes with an SMS number and recorded consent, not opted out.

`set_opt_out` is the console's switch; a STOP reply calls `opt_out_number`. Both record the
change in the service's history and cancel messages not yet sent.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from navigator.core.errors import Problem
from navigator.directory.models import Service
from navigator.directory.store import record_change
from navigator.sms.models import CANCELLED, SCHEDULED, SmsMessage


def sms_recipient(session: Session, service_id: str | None) -> Service | None:
    """The care home when texts may go to it: a care home with an SMS number and recorded
    consent, not opted out, and not defunct."""
    if not service_id:
        return None
    home = session.get(Service, service_id)
    if (
        home is None
        or home.service_type != "care_home"
        or home.status == "defunct"
        or not home.sms_number
        or not home.sms_consent
        or home.sms_opted_out_at is not None
    ):
        return None
    return home


def cancel_scheduled_to(session: Session, number: str, *, now: datetime) -> int:
    """Cancel every message still waiting to go to a number (an opt-out)."""
    result = session.execute(
        update(SmsMessage)
        .where(SmsMessage.to_number == number, SmsMessage.status == SCHEDULED)
        .values(status=CANCELLED, finished_at=now, updated_at=now, last_error="opted out")
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _switch(session: Session, home: Service, opted_out: bool, *, by: str, now: datetime) -> None:
    old = home.sms_opted_out_at
    if opted_out and old is None:
        home.sms_opted_out_at = now
    elif not opted_out and old is not None:
        home.sms_opted_out_at = None
    else:
        return
    record_change(
        session,
        home.id,
        "sms_opted_out_at",
        old.isoformat() if old else None,
        now.isoformat() if opted_out else None,
        changed_by=by,
    )


def set_opt_out(
    session: Session, service_id: str, opted_out: bool, *, by: str, now: datetime
) -> Service:
    """Switch a care home's texts off (cancelling those not yet sent) or back on. In the
    caller's transaction; 404 for an unknown service, 422 for one that is not a care home."""
    home = session.get(Service, service_id)
    if home is None:
        raise Problem(404, f"No service with id {service_id!r}.")
    if home.service_type != "care_home":
        raise Problem(422, "Only care homes receive follow-up texts.")
    _switch(session, home, opted_out, by=by, now=now)
    if opted_out and home.sms_number:
        cancel_scheduled_to(session, home.sms_number, now=now)
    return home


def homes_with_number(session: Session, number: str) -> list[Service]:
    return list(session.scalars(select(Service).where(Service.sms_number == number)))


def opt_out_number(
    session: Session, number: str, *, opted_out: bool, by: str, now: datetime
) -> int:
    """A STOP (or START) from a number: every home with that number; returns how many."""
    homes = homes_with_number(session, number)
    for home in homes:
        _switch(session, home, opted_out, by=by, now=now)
    if opted_out:
        cancel_scheduled_to(session, number, now=now)
    return len(homes)
