"""What the console shows of a referral received by BaRS (issue 16): the sender, the Flags
that came with it (safeguarding and reasonable adjustments first and prominently), the
safety-netting 111 gave the patient, and whether each status response reached the sender.

Read functions only: the console's pages call them inside their own (audited) unit of work;
nothing here writes. A referral without a `BarsReferral` row was not received by BaRS and
these functions return None or empty for it, so its pages look as before.

BaRS sits below referrals and navigation in the layers: the referrals table is named here as
`BarsReferral`'s foreign key names it (`sqlalchemy.table()`), with the columns read, not
through the referrals package's ORM class.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import column, select, table
from sqlalchemy.orm import Session

from navigator.bars.models import (
    FAILED,
    SCHEDULED,
    SENDING,
    SENT,
    BarsOutboxMessage,
    BarsReferral,
)

REFERRALS = table(
    "referrals", column("id"), column("navigation_id"), column("patient_id"), column("created_at")
)

# BarsReferral.flags[].category, as the receiver writes it.
SAFEGUARDING, REASONABLE_ADJUSTMENT, OTHER = "safeguarding", "reasonable_adjustment", "other"
# Safeguarding first (hazard: a flag not shown), then reasonable adjustments, then the rest.
CATEGORY_ORDER = (SAFEGUARDING, REASONABLE_ADJUSTMENT, OTHER)
CATEGORY_LABELS = {
    SAFEGUARDING: "Safeguarding",
    REASONABLE_ADJUSTMENT: "Reasonable adjustment",
    OTHER: "Other flag",
}
PROMINENT = (SAFEGUARDING, REASONABLE_ADJUSTMENT)


@dataclass(frozen=True)
class ShownFlag:
    """One Flag as the console shows it. `category` is one of CATEGORY_ORDER (an unknown or
    missing category counts as `other`); `title` is the Flag's display text, else its code,
    else the category's label; `text` is the sender's free text, or None. All plain text from
    the sender: templates escape it."""

    category: str
    title: str
    text: str | None
    code: str | None

    @property
    def category_label(self) -> str:
        return CATEGORY_LABELS[self.category]


@dataclass(frozen=True)
class BarsShown:
    """What the console shows of one or more BaRS referrals (one on the referral page, all of
    a call's on the call page).

    `flags` are ordered safeguarding, reasonable adjustment, other (each group in the order
    received, repeats across a call's referrals shown once); `senders` and
    `patient_instructions` are distinct, in the order of the referrals; `referrals` are
    (referral id, patient id) of the BaRS referrals read, for the page's audit record."""

    flags: tuple[ShownFlag, ...]
    senders: tuple[str, ...]
    patient_instructions: tuple[str, ...]
    referrals: tuple[tuple[str, str], ...]
    # The senders' phone numbers (MessageHeader.source.contact), to ring when not told.
    phones: tuple[str, ...] = ()

    @property
    def prominent(self) -> tuple[ShownFlag, ...]:
        """Safeguarding and reasonable-adjustment flags, safeguarding first."""
        return tuple(f for f in self.flags if f.category in PROMINENT)

    @property
    def others(self) -> tuple[ShownFlag, ...]:
        return tuple(f for f in self.flags if f.category not in PROMINENT)

    @property
    def has_safeguarding(self) -> bool:
        return any(f.category == SAFEGUARDING for f in self.flags)

    @property
    def sender(self) -> str:
        """Who sent it, in words: "NHS 111 Example and …", or "the sender" when unnamed."""
        return " and ".join(self.senders) if self.senders else "the sender"


@dataclass(frozen=True)
class ResponseDelivery:
    """One status response to the sender and where it has got to.

    `state` is the outbox row's (scheduled, sending, sent, failed); `referral_status` the
    referral status it reports (accepted, rejected, completed, …); `attempts` the tries made so far;
    `next_attempt_at` when a waiting one is tried next, `sent_at` when one was delivered and
    `created_at` when the status changed (aware UTC datetimes; templates show London time);
    `last_error` the last failure as the outbox recorded it (never patient data)."""

    referral_status: str
    state: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
    last_error: str | None

    @property
    def status_label(self) -> str:
        return self.referral_status.replace("_", " ").capitalize()

    @property
    def delivered(self) -> bool:
        return self.state == SENT

    @property
    def failed(self) -> bool:
        return self.state == FAILED

    @property
    def waiting(self) -> bool:
        return self.state in (SCHEDULED, SENDING)


def _text(value: Any) -> str | None:
    """A Flag field as text: None for missing or blank. The receiver writes strings; anything
    else is shown as its text rather than dropped, so no flag disappears."""
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return text.strip() or None


def shown_flags(flags: Iterable[Any]) -> list[ShownFlag]:
    """`BarsReferral.flags` (list of {"category", "code", "display", "text"}) as ShownFlags,
    safeguarding first, then reasonable adjustments, then others; within a group in the order
    given. An entry that is not a mapping is shown as an `other` flag with its text, never
    dropped: a flag not shown is a hazard, an odd-looking one is not."""
    shown: list[ShownFlag] = []
    for flag in flags:
        if not isinstance(flag, Mapping):
            shown.append(ShownFlag(OTHER, CATEGORY_LABELS[OTHER], _text(flag), None))
            continue
        category = flag.get("category")
        category = category if category in CATEGORY_ORDER else OTHER
        code, display, text = (_text(flag.get(k)) for k in ("code", "display", "text"))
        title = display or code or CATEGORY_LABELS[category]
        shown.append(ShownFlag(category, title, text, code))
    return sorted(shown, key=lambda f: CATEGORY_ORDER.index(f.category))


def _shown(rows: Sequence[tuple[BarsReferral, str]]) -> BarsShown | None:
    if not rows:
        return None
    flags: list[ShownFlag] = []
    senders: list[str] = []
    instructions: list[str] = []
    phones: list[str] = []
    for bars, _ in rows:
        if (phone := _text(bars.sender_phone)) and phone not in phones:
            phones.append(phone)
        flags.extend(f for f in shown_flags(bars.flags or []) if f not in flags)
        if (name := _text(bars.sender_name)) and name not in senders:
            senders.append(name)
        text = _text(bars.patient_instruction)
        if text and text not in instructions:
            instructions.append(text)
    return BarsShown(
        flags=tuple(sorted(flags, key=lambda f: CATEGORY_ORDER.index(f.category))),
        senders=tuple(senders),
        patient_instructions=tuple(instructions),
        referrals=tuple((bars.referral_id, patient_id) for bars, patient_id in rows),
        phones=tuple(phones),
    )


def referral_shown(session: Session, referral_id: str) -> BarsShown | None:
    """What the referral page shows of a BaRS referral; None for any other referral."""
    rows = session.execute(
        select(BarsReferral, REFERRALS.c.patient_id)
        .join(REFERRALS, REFERRALS.c.id == BarsReferral.referral_id)
        .where(BarsReferral.referral_id == referral_id)
    ).all()
    return _shown([(bars, patient_id) for bars, patient_id in rows])


def call_shown(session: Session, navigation_id: str) -> BarsShown | None:
    """What the call page shows of the BaRS referrals of a navigation (oldest first, their
    flags merged); None when none of its referrals came by BaRS."""
    rows = session.execute(
        select(BarsReferral, REFERRALS.c.patient_id)
        .join(REFERRALS, REFERRALS.c.id == BarsReferral.referral_id)
        .where(REFERRALS.c.navigation_id == navigation_id)
        .order_by(REFERRALS.c.created_at, REFERRALS.c.id)
    ).all()
    return _shown([(bars, patient_id) for bars, patient_id in rows])


def flag_markers(session: Session, referral_ids: Sequence[str]) -> dict[str, list[str]]:
    """For a list of referrals: {referral id: the prominent categories its BaRS flags carry,
    safeguarding first}, only for referrals that have any. Categories only, no flag text: the
    list is a marker to open the referral, whose page is audited when read."""
    if not referral_ids:
        return {}
    markers: dict[str, list[str]] = {}
    rows = session.execute(
        select(BarsReferral.referral_id, BarsReferral.flags).where(
            BarsReferral.referral_id.in_(list(referral_ids))
        )
    ).all()
    for referral_id, flags in rows:
        categories = {f.category for f in shown_flags(flags or [])}
        found = [c for c in PROMINENT if c in categories]
        if found:
            markers[referral_id] = found
    return markers


def deliveries(session: Session, referral_id: str) -> list[ResponseDelivery]:
    """The referral's status responses to its BaRS sender, oldest first, each with its
    delivery state from the outbox; empty for a referral not received by BaRS or whose status
    has not changed since. The one reading of a referral's responses: the console shows it,
    the tests check the outbox through it."""
    rows = session.scalars(
        select(BarsOutboxMessage)
        .where(BarsOutboxMessage.referral_id == referral_id)
        .order_by(BarsOutboxMessage.created_at, BarsOutboxMessage.id)
    )
    return [
        ResponseDelivery(
            referral_status=row.referral_status,
            state=row.state,
            attempts=row.attempts,
            created_at=row.created_at,
            next_attempt_at=row.next_attempt_at,
            sent_at=row.sent_at,
            last_error=row.last_error,
        )
        for row in rows
    ]
