"""What more than one call page needs: the patient part of the forms, services and red flags
by name."""

from __future__ import annotations

from navigator.console.blueprint import bp
from navigator.core.reference import VOCABULARY
from navigator.directory.reference import directory_index
from navigator.navigation.routing import red_flag_names
from navigator.patients.sources import DEMOGRAPHICS

# The patient part of the new-call form and of the hand-over: what an API client can send.
PATIENT_FIELDS = DEMOGRAPHICS


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
