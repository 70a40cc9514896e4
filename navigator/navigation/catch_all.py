"""The catch-all: the directory entries that answer a call when nothing else fits.

DoS never returns nothing. When no service of the rule's types or fallbacks fits, routing
(`navigation.routing`) offers these, unchecked against the call's criteria and whatever
capacity says: an ambulance for emergencies; for every other urgency the 111 entry covering the
postcode inside BLMK, else the entry for the postcode's nation (`NATIONAL_CATCH_ALL`: NHS 111
in England, NHS 24 on 111 in Scotland, NHS 111 Wales, and advice to contact the local GP or its
out-of-hours service where there is no NHS 111), never an emergency department (issue 13,
hazard H29). The one exception: an NHS 111 disposition that sends the patient to A&E (Dx03)
from outside BLMK, where no BLMK department fits, is told to go to their nearest A&E
(`NEAREST_ED_ID`), never to call 111 again (hazard H8). When the directory has none of these,
the caller answers with the built-in national 999 or 111 number.
"""

from __future__ import annotations

from navigator.core.places import Located
from navigator.directory.index import DirectoryIndex, Entry

# The directory entry for NHS 111 anywhere in England (directory_of_services/blmk): the
# non-emergency catch-all for an English postcode that no area's 111 entry covers.
NATIONAL_111_ID = "nhs-111-national"
# The non-emergency catch-all by the postcode's nation (navigator.core.places.NATIONS):
# each a directory entry with empty coverage, found only by its id (the clinical review of
# issue 13: "NHS 111 - England" was offered in Belfast, Jersey and to BFPO addresses).
NO_111_ID = "no-nhs-111-contact-local-gp"
NATIONAL_CATCH_ALL: dict[str, str] = {
    "england": NATIONAL_111_ID,
    "scotland": "nhs-24-111-scotland",
    "wales": "nhs-111-wales",
    "northern_ireland": NO_111_ID,
    "crown_dependencies": NO_111_ID,
    "forces_and_overseas": NO_111_ID,
}
_OTHER_NATIONS_IDS = frozenset(NATIONAL_CATCH_ALL.values()) - {NATIONAL_111_ID}
# Advice to attend the nearest emergency department: the catch-all for an A&E disposition
# from outside BLMK (a Dx03 call there was told to call 111, contradicting "Go to A&E").
NEAREST_ED_ID = "nearest-emergency-department"


def catch_all_entries(index: DirectoryIndex, located: Located, urgency: str) -> list[Entry]:
    """The catch-all for `urgency` at `located`, whatever capacity says, unordered.

    Emergencies get the active ambulance services covering the postcode, else every active
    one (the nearest ranks first). Every other urgency gets NHS 111, never an emergency
    department (a far-away A&E is no next step for a non-emergency, issue 13): the active 111
    entries covering the postcode, else the entry for the postcode's nation; an empty list when
    the directory has neither (the caller then gives the built-in national number).
    """
    if urgency == "emergency":
        entries = [index.entries[p] for p in sorted(index.by_type.get("ambulance_999", set()))]
        active = [e for e in entries if e.active]
        return [e for e in active if e.covers(located)] or active
    national_ids = set(NATIONAL_CATCH_ALL.values())
    entries = [index.entries[p] for p in sorted(index.by_type.get("nhs_111", set()))]
    local = [e for e in entries if e.active and e.id not in national_ids and e.covers(located)]
    if local:
        return local
    national = index.by_id.get(NATIONAL_CATCH_ALL.get(located.nation, NATIONAL_111_ID))
    return [national] if national is not None and national.active else []


def nearest_ed_entry(index: DirectoryIndex) -> Entry | None:
    """The "go to your nearest A&E" advice entry, when the directory has it and it is active."""
    entry = index.by_id.get(NEAREST_ED_ID)
    if entry is None or not entry.active:
        return None
    return entry


def catch_all_name(entry: Entry) -> str:
    """How a reason names a non-emergency catch-all: "NHS 24 (call 111)", or the entry's name
    alone when it has no number (no NHS 111 there: never a number we could not confirm).
    England's 111 entries, local or national, are "NHS 111 (call 111)"."""
    if entry.service_type == "nhs_111" and entry.id not in _OTHER_NATIONS_IDS:
        return "NHS 111 (call 111)"
    record = entry.record
    name = record.get("public_name") or record["name"]
    phone = (record.get("contact") or {}).get("public_phone")
    return f"{name} (call {phone})" if phone else str(name)
