"""DTOC delayed days follow the national SitRep: recompute every stored `dtoc_days` row.

Until now date D was a delayed day when the patient was delayed at the midnight that *began*
D (00:00 on D). The national DTOC SitRep's period runs from 00:01 on the 1st to 24:00 on the
last calendar day, so the midnight that *ends* D (24:00 on D, Europe/London) counts for D, in
D's month, under the reason and responsibility in force at that instant (issue 13, section 7;
../shared/domain/dtoc-and-cisp.md, "Delayed transfer of care"). Each stored row is therefore
one day too late: a delay ready 31 January 10:00 and transferred 1 February 10:00 was stored
as 1 February and now is 31 January. No schema change; only the data.

The rule is restated here on purpose rather than imported from `navigator.transitions.dtoc`:
a data migration must give the same rows for as long as it exists, and the app's code and
models will change after it. It reads and writes with SQLAlchemy Core on plain table
descriptions, and computes London midnights with `zoneinfo` (time zone arithmetic is not the
same in SQLite and PostgreSQL SQL). Open episodes are counted up to the moment the migration
runs, as the app does whenever it computes the CISP measures.

Downgrade recomputes the rows under the old convention, so code of revision 0008 reads the
numbers it was written for.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 09:00:00
"""

import datetime
from collections import defaultdict
from collections.abc import Iterator, Sequence
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LONDON = ZoneInfo("Europe/London")
UTC = datetime.UTC
BATCH = 5000

episodes = sa.table(
    "dtoc_episodes",
    sa.column("id", sa.String()),
    sa.column("ready_at", sa.DateTime()),
    sa.column("transferred_at", sa.DateTime()),
    sa.column("place", sa.String()),
    sa.column("care_type", sa.String()),
)
intervals = sa.table(
    "dtoc_intervals",
    sa.column("id", sa.Integer()),
    sa.column("episode_id", sa.String()),
    sa.column("effective_at", sa.DateTime()),
    sa.column("reason", sa.String()),
    sa.column("responsible", sa.String()),
)
days = sa.table(
    "dtoc_days",
    sa.column("episode_id", sa.String()),
    sa.column("day", sa.Date()),
    sa.column("local_month", sa.String()),
    sa.column("place", sa.String()),
    sa.column("care_type", sa.String()),
    sa.column("reason", sa.String()),
    sa.column("responsible", sa.String()),
)

# (effective_at as aware UTC or None for the initial interval, reason, responsible)
Interval = tuple[datetime.datetime | None, str, str]


def upgrade() -> None:
    _recompute(day_ends_at_midnight=True)


def downgrade() -> None:
    _recompute(day_ends_at_midnight=False)


def _aware(value: datetime.datetime | None) -> datetime.datetime | None:
    """Columns hold naive UTC (navigator.core.db.UTCDateTime); make them aware."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _midnights(
    start: datetime.datetime, end: datetime.datetime
) -> Iterator[tuple[datetime.date, datetime.datetime]]:
    """(London date it begins, UTC instant) of each London midnight M with start <= M < end."""
    local = start.astimezone(LONDON)
    on = local.date() if local.time() == datetime.time(0) else local.date() + datetime.timedelta(1)
    while (
        instant := datetime.datetime.combine(on, datetime.time(0), LONDON).astimezone(UTC)
    ) < end:
        yield on, instant
        on += datetime.timedelta(days=1)


def _in_force(history: Sequence[Interval], instant: datetime.datetime) -> Interval:
    """The initial interval, or the last change effective at or before `instant`."""
    current = history[0]
    for interval in history[1:]:
        effective = interval[0]
        if effective is not None and effective <= instant:
            current = interval
    return current


def _histories(bind: sa.Connection) -> dict[str, list[Interval]]:
    """Each episode's intervals: the initial one (no effective time) first, then the changes
    by effective time (ties by id), as the app orders them."""
    rows = bind.execute(
        sa.select(
            intervals.c.episode_id,
            intervals.c.id,
            intervals.c.effective_at,
            intervals.c.reason,
            intervals.c.responsible,
        ).order_by(intervals.c.episode_id, intervals.c.id)
    ).all()
    grouped: dict[str, list[tuple[int, Interval]]] = defaultdict(list)
    for episode_id, ident, effective, reason, responsible in rows:
        grouped[episode_id].append((ident, (_aware(effective), reason, responsible)))
    histories = {}
    for episode_id, items in grouped.items():
        initial = [i for _, i in items if i[0] is None]
        changes = sorted(
            ((ident, i) for ident, i in items if i[0] is not None),
            key=lambda pair: (pair[1][0], pair[0]),
        )
        histories[episode_id] = initial + [i for _, i in changes]
    return histories


def _recompute(*, day_ends_at_midnight: bool) -> None:
    """Replace every `dtoc_days` row: one per London midnight M the patient is delayed at
    (ready_at <= M < transferred_at, or the migration's own time for an open episode).
    The day is the date M ends (the SitRep) or, for the downgrade, the date M begins."""
    bind = op.get_bind()
    now = datetime.datetime.now(UTC)
    histories = _histories(bind)
    bind.execute(sa.delete(days))
    batch: list[dict[str, object]] = []
    query = sa.select(
        episodes.c.id,
        episodes.c.ready_at,
        episodes.c.transferred_at,
        episodes.c.place,
        episodes.c.care_type,
    ).where(episodes.c.ready_at.is_not(None))
    for ident, ready, transferred, place, care_type in bind.execute(query).all():
        history = histories.get(ident)
        if not history:  # the app always writes an initial interval; without one, no reason
            continue
        start, end = _aware(ready), _aware(transferred) or now
        if start is None:  # not ready yet (also filtered in SQL): no delay
            continue
        for begins, instant in _midnights(start, end):
            day = begins - datetime.timedelta(days=1) if day_ends_at_midnight else begins
            _, reason, responsible = _in_force(history, instant)
            batch.append(
                {
                    "episode_id": ident,
                    "day": day,
                    "local_month": day.strftime("%Y-%m"),
                    "place": place,
                    "care_type": care_type,
                    "reason": reason,
                    "responsible": responsible,
                }
            )
            if len(batch) >= BATCH:
                bind.execute(sa.insert(days), batch)
                batch = []
    if batch:
        bind.execute(sa.insert(days), batch)
