"""What more than one call page needs: dates as people type them, the patient part of the
forms, services and red flags by name.

`parse_date` also reads the DTOC page's dates (`console/dtoc.py`).
"""

from __future__ import annotations

import re
from datetime import date

from navigator.console.blueprint import bp
from navigator.core.fields import in_year_range
from navigator.core.reference import VOCABULARY
from navigator.directory.reference import directory_index
from navigator.navigation.routing import red_flag_names
from navigator.patients.access import DEMOGRAPHICS

# The patient part of the new-call form and of the hand-over: what an API client can send.
PATIENT_FIELDS = DEMOGRAPHICS
DATE = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*$")


def parse_date(text: str) -> date | None:
    """`15/3/1940` (how people write it) or `1940-03-15`; None when it is not a real date
    or falls outside the years 1900-2200 (a day after 9999-12-31 cannot be computed)."""
    try:
        if match := DATE.match(text):
            day, month, year = (int(part) for part in match.groups())
            parsed = date(year, month, day)
        else:
            parsed = date.fromisoformat(text.strip())
    except ValueError:
        return None
    return parsed if in_year_range(parsed) else None


def service_name(service_id: str) -> str:
    """The service's name in the directory; its id when it has left the directory since."""
    entry = directory_index().by_id.get(service_id)
    return entry.record["name"] if entry else service_id


# A template global: the calls list names the flags, and so does the "call 999 now" card
# (`_emergency.jinja`) on the new-call page and the call page.
@bp.app_template_global()
def named_red_flags(codes: list[str]) -> str:
    """Red-flag codes in plain words ("Chest pain and Possible sepsis"), as the API's
    reasons name them."""
    return red_flag_names(codes, VOCABULARY.get())
