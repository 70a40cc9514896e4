"""How the console writes values for people: times on the London clock in the NHS style, codes
by their labels, ages, place names and who did something. One module, so every page says a
thing the same way (issue 17 §1: "raw values never reach the screen").

Every function here is a Jinja filter or global (`register(app)`, called by
`console.init_console`) and a plain function that tests and views call directly.

Sources:
- Times and dates: NHS digital service manual, content style guide, "Numbers, measurements,
  dates and time" (https://service-manual.nhs.uk/content/numbers-measurements-dates-time):
  "9am", "9:30am", "midday", "midnight"; "Tuesday 1 December 2026"; the 12-hour clock.
- Labels: the coded vocabularies (`directory_of_services/vocabulary/*.yaml`, through
  `core.reference.VOCABULARY`) and, for the code sets that live in code rather than in the
  vocabulary files (referral statuses, urgencies, DTOC reasons …), `LABELS` below.
- DTOC reason wording: NHS England's DTOC SitRep guidance (as the DTOC board had it).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from flask import Flask

from navigator.core.clock import DAYS_PER_YEAR, LONDON, age_in_days, parse_hhmm
from navigator.core.clock_words import clock_of
from navigator.core.reference import VOCABULARY
from navigator.core.vocabulary import SCHEMES

# Code sets that are not in the vocabulary files: scheme -> code -> label (sentence case).
LABELS: dict[str, dict[str, str]] = {
    "referral_statuses": {
        "new": "New",
        "sent": "Sent",
        "accepted": "Accepted",
        "rejected": "Rejected",
        "on_hold": "On hold",
        "completed": "Completed",
        "cancelled": "Cancelled",
    },
    "rejection_reasons": {
        "no_capacity": "No capacity",
        "not_eligible": "Not eligible",
        "could_not_contact": "Could not contact the patient",
        "declined_by_patient": "Declined by the patient",
        "other": "Other reason",
    },
    "urgencies": {
        "emergency": "Emergency",
        "urgent": "Urgent",
        "same_day": "Same day",
        "within_72h": "Within 72 hours",
        "routine": "Routine",
    },
    # A service's eligibility by sex.
    "sexes": {"any": "Any", "female": "Female", "male": "Male"},
    "patient_sexes": {"female": "Female", "male": "Male", "other": "Other", "unknown": "Not known"},
    "referral_methods": {
        "phone": "Phone",
        "email": "Email",
        "online": "Online",
        "walk_in": "Walk in",
        "bars": "BaRS (electronic referral)",
        "ers": "NHS e-Referral Service",
        "self_referral": "Self-referral",
    },
    "service_statuses": {
        "active": "Open",
        "temporarily_closed": "Temporarily closed",
        "defunct": "Closed for good",
    },
    # Capacity as a navigator reads it (amber is "busy but accepting", navigation.routing):
    # the call page, the directory's tag (`_capacity_tag.jinja`) and the service page.
    "capacity": {
        "green": "Taking patients",
        "amber": "Busy, still taking patients",
        "red": "Full, not taking patients",
    },
    "decisions": {"accepted": "Accepted", "overridden": "Overridden"},
    "dtoc_reasons": {
        "A": "A – Awaiting completion of assessment",
        "B": "B – Awaiting public funding",
        "C": "C – Awaiting further non-acute NHS care",
        "Di": "Di – Awaiting residential home placement or availability",
        "Dii": "Dii – Awaiting nursing home placement or availability",
        "E": "E – Awaiting care package in own home",
        "F": "F – Awaiting community equipment and adaptations",
        "G": "G – Patient or family choice",
        "H": "H – Disputes",
        "I": "I – Housing (not covered by the NHS and Community Care Act)",
        "O": "O – Other",
    },
    "dtoc_responsible": {"nhs": "NHS", "social_care": "Social care", "both": "Both"},
    "care_types": {"acute": "Acute", "non_acute": "Non-acute"},
    "user_roles": {"navigator": "Care navigator", "supervisor": "Supervisor", "admin": "Admin"},
    # Why a call-back task was opened (`sms.models.TASK_REASONS`): the worklist and the call
    # timeline both say it with these words.
    "task_reasons": {
        "call_back": "Asked for a call back (replied 2)",
        "free_text": "Sent a message",
        "not_delivered": "Follow-up text not delivered: ring the care home",
        "news2": "Sent a NEWS2 score",
        "soft_signs": "Sent soft signs of deterioration",
    },
    "fallbacks": {
        "fallback": "No service met every criterion",
        "catch_all": "Catch-all service",
        "national": "National service",
    },
    # Places that are not one of the four BLMK councils.
    "place_areas": {
        "blmk": "BLMK (all four places)",
        "out_of_area": "Outside BLMK",
        "outside_blmk": "Outside BLMK",
    },
}

_CODE_LIKE = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)+$")


def label(scheme: str, code: str | None) -> str:
    """The label of `code` in `scheme`: a vocabulary scheme (`core.vocabulary.SCHEMES`:
    "places", "needs", "caller_roles" …) or one of `LABELS`' code sets ("referral_statuses",
    "urgencies", "dtoc_reasons" …). "" for None or "". A code the scheme does not know is
    shown in words ("temporarily_closed" -> "Temporarily closed"), never as the raw code.
    Raises KeyError for an unknown scheme (a template typo should fail its test)."""
    if code is None or code == "":
        return ""
    if scheme in SCHEMES:
        term = VOCABULARY.get().terms[scheme].get(code)
        if term is not None:
            return term.label
    else:
        known = LABELS[scheme].get(code)
        if known is not None:
            return known
    return words(code)


def labels(codes: Iterable[str] | None, scheme: str) -> list[str]:
    """`label` of each code, in order (for `| join` or `and_list`)."""
    return [label(scheme, code) for code in codes or ()]


def words(code: str) -> str:
    """A snake_case code as a phrase in sentence case ("on_hold" -> "On hold"): only for
    codes no vocabulary names; anything else is returned unchanged."""
    if _CODE_LIKE.match(code):
        text = code.replace("_", " ")
        return text[0].upper() + text[1:]
    return code


def and_list(items: Iterable[str]) -> str:
    """["a", "b", "c"] -> "a, b and c" (no Oxford comma, as NHS.UK writes lists)."""
    parts = [item for item in items if item]
    if len(parts) < 2:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def place(code: str | None) -> str:
    """A place code as its name: the four BLMK places from the vocabulary ("central_bedfordshire"
    -> "Central Bedfordshire", "milton_keynes" -> "Milton Keynes"), "blmk" and "out_of_area"
    from `LABELS["place_areas"]`. "" for None."""
    if not code:
        return ""
    if code in LABELS["place_areas"]:
        return LABELS["place_areas"][code]
    return label("places", code)


def _instant(value: datetime | str) -> datetime:
    """An aware datetime, ISO text, or a naive datetime taken as UTC (`UTCDateTime` columns come
    back aware; a naive value is one built in a template or a test), as an aware instant."""
    instant = datetime.fromisoformat(value) if isinstance(value, str) else value
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


def clock(value: datetime | str | None) -> str:
    """The time of day of an instant on the London clock, NHS style: "9am", "9:30am",
    "midday", "midnight", "12:15pm", "12:05am". "" for None."""
    if value is None or value == "":
        return ""
    local = _instant(value).astimezone(LONDON)
    return clock_of(local.hour, local.minute)


def hhmm(value: str | None) -> str:
    """A time of day written "HH:MM" (opening sessions, quiet hours) in the NHS style:
    "08:00" -> "8am", "17:30" -> "5:30pm", "12:00" -> "midday", "00:00"/"24:00" -> "midnight".
    Text that is no such time is returned unchanged."""
    if not value:
        return ""
    try:
        minutes = parse_hhmm(value)
    except ValueError:
        return value
    return clock_of(minutes // 60 % 24, minutes % 60)


def day(value: date | datetime | str | None, *, now: datetime | None = None) -> str:
    """A date (or the London date of an instant) as "Tuesday 1 December", with the year
    ("Tuesday 1 December 2026") when it is not the current London year. "" for None."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        value = _instant(value).astimezone(LONDON).date()
    this_year = (now or datetime.now(UTC)).astimezone(LONDON).year
    text = f"{value:%A} {value.day} {value:%B}"
    return text if value.year == this_year else f"{text} {value.year}"


def full_date(value: date | datetime | str | None) -> str:
    """A date always with its year, "1 December 2026" (dates of birth, SitRep days)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        value = _instant(value).astimezone(LONDON).date()
    return f"{value.day} {value:%B} {value.year}"


def when(value: date | datetime | str | None, *, now: datetime | None = None) -> str:
    """An instant as people in England read it, NHS style on the London clock: "Tuesday
    1 December, 9am" (this year), "Monday 1 December 2025, 9:30am" (another year). A date
    alone (no time) is `day`'s "Tuesday 1 December 2026". Accepts an aware datetime, a naive
    one taken as UTC, ISO text or a date; "" for None."""
    if value is None or value == "":
        return ""
    if isinstance(value, date) and not isinstance(value, datetime):
        return day(value, now=now)
    if isinstance(value, str) and "T" not in value and len(value) == 10:
        return day(value, now=now)
    instant = _instant(value)
    return f"{day(instant, now=now)}, {clock(instant)}"


def age_days(days: int | None) -> str:
    """An age in days (the DoS way, 365.25 days a year) in words: "18 years", "6 months",
    "3 weeks", "1 day". Under 2 years it is months, under 2 months weeks, under 2 weeks days,
    as people say the ages of babies. "" for None."""
    if days is None:
        return ""
    if days >= 2 * DAYS_PER_YEAR:
        return _plural(math.floor(days / DAYS_PER_YEAR), "year")
    if days >= 61:
        return _plural(math.floor(days / (DAYS_PER_YEAR / 12)), "month")
    if days >= 14:
        return _plural(days // 7, "week")
    return _plural(days, "day")


def age_years(years: int | float | None) -> str:
    """An age in years in words: 18 -> "18 years", 1.5 -> "18 months", 0.5 -> "6 months"."""
    if years is None:
        return ""
    if float(years).is_integer() and years >= 2:
        return _plural(int(years), "year")
    return _plural(round(years * 12), "month")


def age_range(min_days: int | None, max_days: int | None) -> str:
    """A service's ages, from its eligibility in days (`max_days` inclusive, the last day
    admitted): "All ages", "18 years and over", "Under 18 years", "18 to 64 years",
    "6 months to 4 years". A maximum at the DoS whole-year reading (the day before a birthday,
    e.g. 6574 = every 17-year-old) reads as "under 18 years" / "to 17 years"."""
    low = min_days or 0
    if max_days is None:
        return "All ages" if low == 0 else f"{age_days(low)} and over"
    next_birthday = _whole_year_end(max_days)
    if low == 0:
        return (
            f"Under {_plural(next_birthday, 'year')}"
            if next_birthday
            else (f"Up to {age_days(max_days)}")
        )
    upper = _plural(next_birthday - 1, "year") if next_birthday else age_days(max_days)
    lower = age_days(low)
    if lower.endswith(" years") and upper.endswith(" years"):
        lower = lower.removesuffix(" years")
    return f"{lower} to {upper}"


def _whole_year_end(max_days: int) -> int | None:
    """The birthday (in years) a maximum age ends the day before, when it does (6574 -> 18)."""
    years = round((max_days + 1) / DAYS_PER_YEAR)
    return years if years >= 1 and age_in_days(years) - 1 == max_days else None


def age_on(born: date | str | None, today: date | None = None) -> str:
    """A person's age from their date of birth, in whole years ("82 years"), or months and
    weeks for babies ("6 months"); today is the London date unless given. "" for None."""
    if born is None or born == "":
        return ""
    if isinstance(born, str):
        born = date.fromisoformat(born[:10])
    today = today or datetime.now(LONDON).date()
    years = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    if years >= 2:
        return _plural(years, "year")
    months = (today.year - born.year) * 12 + today.month - born.month - (today.day < born.day)
    if months >= 2:
        return _plural(months, "month")
    return (
        _plural((today - born).days // 7, "week")
        if (today - born).days >= 14
        else (_plural((today - born).days, "day"))
    )


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


# Actors that are no caller: what the services write for work the system does itself.
SYSTEM_ACTORS = {
    "system": "navigator (automatic)",
    "scheduler": "navigator (automatic)",
    "sms": "Follow-up texts",
    "bars": "BaRS",
}


def person(actor: str | None) -> str:
    """Who did something, by name, from an actor label (`auth.keys.Caller.label`,
    "kind:id:name"): a console user by their name (their email, all the console knows of
    them: "user:1:amy@nhs.net" -> "amy@nhs.net"), an API client by its name
    ("api:3:HUC NHS 111" -> "HUC NHS 111"). Known system actors by `SYSTEM_ACTORS`; any other
    text is shown as it is. "" for None."""
    if not actor:
        return ""
    kind, sep, rest = actor.partition(":")
    if sep and kind in ("user", "api"):
        number, sep2, name = rest.partition(":")
        if sep2 and number.isdigit():
            return name or ("Console user " if kind == "user" else "System ") + number
    return SYSTEM_ACTORS.get(actor, actor)


# A directory record's fields as a change history names them (`directory.store.diff_fields`
# keys, plus the changes recorded by capacity updates, care-home texts and the loader).
RECORD_FIELDS = {
    "name": "Name",
    "description": "Description",
    "service_type": "Service type",
    "sector": "Sector",
    "needs": "Needs it meets",
    "status": "Status",
    "eligibility": "Who it is for",
    "coverage": "Places covered",
    "contact": "Contact details",
    "opening": "Opening times",
    "locations": "Address",
    "referral_method": "How to refer",
    "referral_info": "How to refer (details)",
    "assured_at": "Details confirmed",
    "assured_by": "Details confirmed by",
    "classified_by": "Classified by",
    "source_terms": "The feed's own categories",
    "organisation_id": "Organisation",
    "sms_number": "Number for follow-up texts",
    "sms_consent": "Consent to follow-up texts",
    # The keys of `contact` (directory_of_services/FORMAT.md).
    "public_phone": "Phone for the public",
    "professional_phone": "Phone for professionals",
    "email": "Email",
    "website": "Website",
}
# The history's fields that hold an instant (ISO text): shown on the London clock. Any other
# text is shown as written, even when it starts like a time ("2026-01-01T10:00 new hours").
_INSTANT_FIELDS = frozenset({"assured_at"})
_CODED_FIELDS = {
    "service_type": "service_types",
    "sector": "sectors",
    "needs": "needs",
    "status": "service_statuses",
    "referral_method": "referral_methods",
}


def _shown_value(field: str, value: Any) -> str | None:
    """A changed value in words, or None when it is a structure better not spelled out."""
    if field in _CODED_FIELDS:
        if isinstance(value, list):
            return and_list(labels(value, _CODED_FIELDS[field])) or "none"
        return label(_CODED_FIELDS[field], value) if isinstance(value, str) else None
    if isinstance(value, bool):
        return yes_no(value)
    if field in _INSTANT_FIELDS and isinstance(value, str):
        try:
            return when(value)
        except ValueError:  # not an instant after all: the text as it is
            return value
    if isinstance(value, (str, int, float)):
        return str(value)
    return None


def service_change(field: str, old: Any, new: Any) -> str:
    """One entry of a service's change history as a sentence: "Capacity set to Full, not
    taking patients: No crews until 2pm. Back to taking patients Tuesday 1 December, 5:56pm
    (was Taking patients)", "Follow-up texts switched off", "Status
    changed from Open to Temporarily closed", "Opening times changed". Never a raw dict, an ISO
    time or "None"."""
    if field == "created":
        return "Added to the directory"
    if field == "capacity":
        new = new if isinstance(new, dict) else {}
        text = f"Capacity set to {label('capacity', new.get('status')) or 'not known'}"
        if new.get("note"):
            text += f": {new['note']}"
        if new.get("reset_at"):
            text += f". Back to taking patients {when(new['reset_at'])}"
        if isinstance(old, dict) and old.get("status"):
            text += f" (was {label('capacity', old['status'])})"
        return text
    if field == "sms_opted_out_at":
        return "Follow-up texts switched off" if new else "Follow-up texts switched on"
    name = RECORD_FIELDS.get(field, words(field))
    if field == "contact" and isinstance(old, dict) and isinstance(new, dict):
        # A navigator checking a number needs the numbers, not "Contact details changed".
        parts = [
            service_change(key, old.get(key), new.get(key))
            for key in sorted(set(old) | set(new))
            if old.get(key) != new.get(key)
        ]
        return "; ".join(parts) or f"{name} changed"
    before, after = _shown_value(field, old), _shown_value(field, new)
    if before is None and old not in (None, "", [], {}):
        return f"{name} changed"
    if after is None and new not in (None, "", [], {}):
        return f"{name} changed"
    if not before:
        return f"{name} set to {after}" if after else f"{name} changed"
    if not after:
        return f"{name} removed (was {before})"
    return f"{name} changed from {before} to {after}"


def yes_no(value: Any) -> str:
    return "Yes" if value else "No"


def or_text(value: Any, missing: str) -> Any:
    """`value`, or `missing` ("Not recorded", "None given" …) when it is None or empty: so a
    template never prints "None"."""
    return missing if value is None or value == "" or value == [] else value


def nhs_number(value: str | None) -> str:
    """An NHS number as it is printed and read out, in groups of 3, 3 and 4 ("943 476 5919",
    NHS Digital's NHS number standard); other text unchanged, "" for None."""
    if not value:
        return ""
    digits = value.replace(" ", "")
    if len(digits) == 10 and digits.isascii() and digits.isdigit():
        return f"{digits[:3]} {digits[3:6]} {digits[6:]}"
    return value


FILTERS = {
    "nhs_number": nhs_number,
    "when": when,
    "day": day,
    "clock": clock,
    "hhmm": hhmm,
    "full_date": full_date,
    "place": place,
    "person": person,
    "age_days": age_days,
    "age_years": age_years,
    "age_on": age_on,
    "and_list": and_list,
    "words": words,
    "yes_no": yes_no,
    "or_text": or_text,
}


def _label_filter(code: str | None, scheme: str) -> str:
    return label(scheme, code)


def _labels_filter(codes: Iterable[str] | None, scheme: str) -> list[str]:
    return labels(codes, scheme)


def register(app: Flask) -> None:
    """Install the filters (`{{ at | when }}`, `{{ code | label("urgencies") }}`,
    `{{ codes | labels("caller_roles") | and_list }}`) and globals (`label(scheme, code)`,
    `age_range(min_days, max_days)`) in the app's Jinja environment."""
    app.jinja_env.filters.update(FILTERS)
    app.jinja_env.filters["label"] = _label_filter
    app.jinja_env.filters["labels"] = _labels_filter
    app.jinja_env.globals.update(
        label=label, age_range=age_range, person=person, when=when, service_change=service_change
    )
