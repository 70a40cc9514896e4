"""Who may change what in the directory through the API: a provider updates capacity only for
its own organisation's services (the rules for patient data are in `patients/need_to_know.py`)."""

from __future__ import annotations

from navigator.auth.keys import Caller
from navigator.core.identifiers import same_ods_code
from navigator.directory.index import Entry


def may_update_capacity(caller: Caller, entry: Entry) -> bool:
    """Navigators and admins: any service; a provider: only a service whose organisation has
    the provider's ODS code (never one whose organisation has no code)."""
    return caller.role != "provider" or same_ods_code(
        caller.organisation_ods, entry.organisation.get("ods_code")
    )
