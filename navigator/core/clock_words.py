"""Instants in words, for text the services write for people to read (routing reasons,
capacity notes): the London clock in the NHS style, "Tuesday 1 December, 9am".

The console's `navigator.console.formatting` words every value on its pages and builds its
times on these; the layers below the console use them directly (a reason is stored with the
call and returned by the API, so it is written once, in words, when the call is routed).

Source: NHS digital service manual, content style guide, "Numbers, measurements, dates and
time" (https://service-manual.nhs.uk/content/numbers-measurements-dates-time): "9am",
"9:30am", "midday", "midnight"; "Tuesday 1 December"; the 12-hour clock.
"""

from __future__ import annotations

from datetime import datetime

from navigator.core.clock import LONDON


def clock_of(hour: int, minute: int) -> str:
    """A time of day (hour 0-23, minute 0-59) in the NHS style: "9am", "9:30am", "midday",
    "midnight", "12:15pm", "12:05am"."""
    if minute == 0 and hour in (0, 12):
        return "midnight" if hour == 0 else "midday"
    shown = hour % 12 or 12
    suffix = "am" if hour < 12 else "pm"
    return f"{shown}{suffix}" if minute == 0 else f"{shown}:{minute:02d}{suffix}"


def clock_time(at: datetime) -> str:
    """The time of day of an aware instant on the London clock: "9am", "9:30am", "midday",
    "midnight", "12:15pm"."""
    local = at.astimezone(LONDON)
    return clock_of(local.hour, local.minute)


def spoken_time(at: datetime, *, now: datetime) -> str:
    """An aware instant as "Tuesday 1 December, 9am" on the London clock; with the year
    ("Friday 1 January 2027, 9am") when it is not `now`'s London year."""
    local = at.astimezone(LONDON)
    day = f"{local:%A} {local.day} {local:%B}"
    if local.year != now.astimezone(LONDON).year:
        day = f"{day} {local.year}"
    return f"{day}, {clock_time(at)}"
