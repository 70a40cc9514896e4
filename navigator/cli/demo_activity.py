"""A plausible month of BLMK activity for the demo (`navigator demo --activity`, issue 17 §4).

Everything is made through the same service functions the API and the console call, so every
invariant, audit record and outbox rule holds: calls are routed by `navigation.service.navigate`
and decided by `navigation.decisions.decide`; referrals move through
`referrals.service.change_status`; transitions and DTOC episodes are recorded by
`transitions.service.record_transition` and `transitions.dtoc.open_episode`/`update_episode`;
follow-up texts are scheduled by the navigation itself, then claimed, sent and delivered through
the outbox state machine (`sms.outbox`: no provider is called) and answered through
`sms.replies.record_reply`; capacity is reported with `directory.capacity.set_capacity`. Request
bodies are loaded through the API's own schemas first.

Each service takes the time it acts at (`now`), so the month is played in time order from a
queue of timed events (a referral is accepted after it was sent, a reply answers the text sent
before it). Times follow the Europe/London clock with a daily and weekly shape.

Synthetic people only: every NHS number lies in the range the NHS reserves for testing
(999 000 0000 to 999 999 9999, with a valid check digit) and every name is made up.

The demo's own actors are API clients named `demo-activity…`, made revoked (their keys are
never shown, so nothing can act as them). A database "was created by the demo" when every
patient in it was created by one of them (the append-only audit log records who created each
patient) and every record of activity in it (calls, referrals, transitions, delays, texts and
replies, capacity reports), and every change to one, was made by one of them; a database with
no activity may be used too. `refusal` says why a database is not such a one, and the command
then refuses to run.

A second run on a demo database adds the activity since the demo's latest call (at most a
month), never the same month again: people are new (NHS numbers not yet held), ids and event
ids are new, and capacity is reported again as of now.
"""

from __future__ import annotations

import heapq
import itertools
import random
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Any

import nhs_number
from flask import current_app
from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session

from navigator.auth.keys import Caller, create_api_client
from navigator.auth.models import ApiClient
from navigator.core.clock import to_local, to_utc
from navigator.core.places import Gazetteer, parse_postcode
from navigator.core.reference import GAZETTEER, VOCABULARY
from navigator.core.vocabulary import Vocabulary
from navigator.directory.capacity import set_capacity
from navigator.directory.index import DirectoryIndex, Entry
from navigator.directory.models import ServiceCapacity, ServiceChange
from navigator.directory.reference import default_reset_minutes, directory_index, stale_hours
from navigator.navigation.decisions import decide
from navigator.navigation.models import Navigation
from navigator.navigation.schemas import NavigationRequestSchema
from navigator.navigation.service import navigate
from navigator.patients.models import AuditEvent, Patient
from navigator.patients.schemas import PatientInSchema
from navigator.patients.service import find_or_create_patient
from navigator.referrals.models import Referral, ReferralEvent
from navigator.referrals.schemas import ReferralUpdateSchema
from navigator.referrals.service import REJECTION_REASONS, change_status
from navigator.rules.reference import RULESET
from navigator.rules.ruleset import RuleSet
from navigator.sms.models import (
    DELIVERED,
    SENT,
    UNDELIVERED,
    CallbackTask,
    SmsMessage,
    SmsReply,
)
from navigator.sms.outbox import advance, apply_receipt, claim_due
from navigator.sms.plan import FollowUpPlan
from navigator.sms.reference import FOLLOW_UP_PLAN
from navigator.sms.replies import record_reply
from navigator.sms.worklist import complete_callback_task
from navigator.transitions.dtoc import REASONS, load_episode, open_episode, update_episode
from navigator.transitions.models import DtocEpisode, DtocInterval, TransitionEvent
from navigator.transitions.schemas import DtocInSchema, DtocUpdateSchema, TransitionInSchema
from navigator.transitions.service import record_transition

DEMO_PREFIX = "demo-activity"
# The demo's actors: (client name, role, ODS code). The navigator role takes the calls and
# records what services say; each provider records its own transitions and delays.
NAVIGATOR_CLIENT = DEMO_PREFIX
PROVIDERS = {
    "RC9": "Bedfordshire Hospitals NHS Foundation Trust",  # Bedford and Luton & Dunstable
    "RD8": "Milton Keynes University Hospital NHS Foundation Trust",
    "RWK": "East London NHS Foundation Trust",  # community and mental health beds, Beds & Luton
    "RV3": "Central and North West London NHS Foundation Trust",  # community beds, MK
    "RYC": "East of England Ambulance Service NHS Trust",
}
MONTH = timedelta(days=30)
# The range the NHS reserves for testing (NHS Digital: numbers beginning 999 are never issued).
TEST_NHS_FIRST, TEST_NHS_LAST = 9_990_000_000, 9_999_999_999

# Where people live, by mid-2020 population (directory_of_services/population): the share of
# BLMK's activity each place gets.
PLACE_WEIGHTS = {
    "bedford": 174_687,
    "central_bedfordshire": 294_096,
    "luton": 213_528,
    "milton_keynes": 270_203,
}
ACUTE_SITE = {
    "bedford": ("RC9", "Bedford Hospital"),
    "central_bedfordshire": ("RC9", "Luton and Dunstable University Hospital"),
    "luton": ("RC9", "Luton and Dunstable University Hospital"),
    "milton_keynes": ("RD8", "Milton Keynes University Hospital"),
}
COMMUNITY_SITE = {
    "bedford": ("RWK", "Bedford Health Village community beds"),
    "central_bedfordshire": ("RWK", "Biggleswade Hospital community beds"),
    "luton": ("RWK", "Luton and Bedfordshire mental health unit"),
    "milton_keynes": ("RV3", "Campbell Centre, Milton Keynes"),
}

# Calls in each Europe/London hour (0-23) relative to one another: quiet at night, busiest
# mid-morning; and each weekday's share (Monday first): busier Mondays, quieter weekends.
# fmt: off
HOUR_WEIGHTS = (
    1.0, 0.6, 0.4, 0.3, 0.3, 0.5, 1.0, 2.5, 5.0, 7.0, 8.0, 7.5,
    6.5, 6.5, 7.0, 7.0, 6.5, 5.5, 4.5, 3.5, 3.0, 2.5, 2.0, 1.5,
)
# fmt: on
WEEKDAY_WEIGHTS = (1.25, 1.1, 1.05, 1.05, 1.15, 0.7, 0.65)
CALLS_PER_DAY = 7
AE_ATTENDANCES_PER_DAY = 3
CARE_HOME_CALL_OUTS_PER_DAY = 1.0

# Who rings (share of calls) and what about, by caller role.
CALLER_ROLES = {"care_home": 28, "relative": 22, "public": 20, "professional": 20, "nhs111": 10}
NEEDS = {
    "care_home": (
        "fall_no_injury",
        "fall_with_injury",
        "frailty_decline",
        "new_confusion",
        "unwell_needs_gp",
        "wound_or_catheter_care",
        "end_of_life_support",
        "fall_no_injury",
    ),
    "relative": (
        "carer_breakdown",
        "carer_support",
        "memory_concerns",
        "dementia_support",
        "loneliness",
        "social_care_assessment",
        "discharge_support",
        "bereavement",
    ),
    "public": (
        "minor_illness",
        "minor_injury",
        "low_mood_anxiety",
        "loneliness",
        "money_or_food",
        "housing_problem",
        "medication_query",
        "unwell_needs_gp",
    ),
    "professional": (
        "discharge_support",
        "equipment_needed",
        "safeguarding_concern",
        "frailty_decline",
        "long_term_condition_flare",
        "mental_health_crisis",
        "social_care_assessment",
    ),
    "nhs111": (
        "unwell_needs_gp",
        "minor_illness",
        "mental_health_crisis",
        "fall_no_injury",
        "long_term_condition_flare",
    ),
}
RED_FLAG_SHARE = 0.06
RED_FLAGS = (
    "chest_pain",
    "breathing_difficulty",
    "stroke_symptoms",
    "cannot_get_up_after_fall",
    "sepsis_signs",
    "unconscious",
    "seizure",
)
OLDER_NEEDS = frozenset(
    {
        "fall_no_injury",
        "fall_with_injury",
        "frailty_decline",
        "new_confusion",
        "memory_concerns",
        "dementia_support",
        "end_of_life_support",
        "discharge_support",
        "equipment_needed",
        "social_care_assessment",
    }
)
CALLER_FIRST_NAMES = ("Sam", "Jo", "Alex", "Chris", "Pat", "Nikhil", "Grace", "Tom", "Ayesha")

# What happens to a referral after it is sent (shares of a shuffled deck, so every path
# appears in any month of more than a few dozen referrals).
REFERRAL_PATHS = {
    "completed": 46,
    "accepted": 14,
    "rejected": 12,
    "on_hold_then_completed": 5,
    "on_hold": 4,
    "cancelled": 5,
    "accepted_then_cancelled": 3,
    "unanswered": 6,
    "answered_late": 5,
}
OUTCOMES = {
    "emergency": "Ambulance attended; patient conveyed to the emergency department.",
    "urgent": "Seen within two hours; plan agreed with the patient and their GP.",
    "same_day": "Seen the same day; plan agreed with the patient and their GP.",
    "within_72h": "Seen within three days; support arranged.",
    "routine": "Seen; support arranged and the patient discharged back to their GP.",
}
OVERRIDE_REASONS = (
    "The patient's daughter lives nearby and asked for this team, which already knows them.",
    "The recommended service told us this morning it has no visits left today.",
    "The caller would rather see someone closer to home.",
)

# DTOC: who is usually responsible for a delay of each reason (SitRep reason codes,
# ../shared/domain/dtoc-and-cisp.md), and where the patient goes when it ends: the
# destination and its Discharge to Assess pathway.
DTOC_RESPONSIBLE = {
    "A": "nhs",
    "B": "social_care",
    "C": "nhs",
    "Di": "social_care",
    "Dii": "both",
    "E": "social_care",
    "F": "both",
    "G": "nhs",
    "H": "both",
    "I": "social_care",
    "O": "nhs",
}
DTOC_DESTINATION = {
    "A": ("Home with a package of care", 1),
    "B": ("Home with a package of care", 1),
    "C": ("Community hospital bed", 2),
    "Di": ("Residential care home", 3),
    "Dii": ("Nursing home", 3),
    "E": ("Home with a package of care", 1),
    "F": ("Home with equipment fitted", 1),
    "G": ("Care home of the family's choice", 3),
    "H": ("Home with a package of care", 1),
    "I": ("Supported housing", 0),
    "O": ("Home", 0),
}
# Discharge to Assess pathways 0-3: national expectation about 50/45/4/1 per cent.
PATHWAY_WEIGHTS = (50, 45, 4, 1)
DISCHARGE_DESTINATIONS = ("Home", "Home with reablement", "Community bed", "Care home")
DTOC_EPISODES_PER_MONTH = 22  # two of each reason code
DELAY_WEIGHTS = (20, 30, 25, 15, 10)  # of delays lasting 1, 3, 6, 11 and 20 days

# Which services report capacity, and what the directory then shows: most reported in the
# last few hours, some stopped reporting days ago (stale), the rest never reported.
REPORTING_TYPES = frozenset(
    {
        "urgent_community_response",
        "emergency_department",
        "urgent_treatment_centre",
        "same_day_emergency_care",
        "virtual_ward",
        "reablement",
        "community_rehabilitation",
        "discharge_hub",
        "district_nursing",
        "care_home",
        "mental_health_crisis",
        "falls_service",
        "frailty_service",
        "home_from_hospital",
        "enhanced_care_home_support",
        "gp_access_hub",
    }
)
CAPACITY_NOTES = {
    "green": (None, "Taking referrals as normal.", None),
    "amber": (
        "Busy: expect a longer wait for a visit.",
        "Two staff off sick: urgent referrals only after 4pm.",
        "Limited beds; ring before referring.",
    ),
    "red": (
        "No capacity: referrals paused, ring the duty manager for anything urgent.",
        "Full: no beds or visits until tomorrow morning.",
    ),
}
REPLY_BODIES = {
    "well": ("1", "1", "1.", "1"),
    "call_back": ("2", "2"),
    "free_text": (
        "She's had a good night and is eating again, thank you",
        "Not eating much today and more sleepy than usual, can someone ring us?",
        "GP visited this morning, all in hand",
        "Community team came at 3pm, he is comfortable",
        "Can you call the home manager about the follow up plan please",
    ),
}

FIRST_NAMES = {
    "female": (
        "Margaret", "Joan", "Patricia", "Irene", "Dorothy", "Sylvia", "Amira", "Priya", "Fatima",
        "Grace", "Olivia", "Sophie", "Chloe", "Jasmine", "Aisha", "Eileen", "Maureen", "Kiran",
        "Shirley", "Valerie", "Elena", "Agnieszka", "Nia", "Rukhsana", "Hannah", "Brenda",
    ),
    "male": (
        "Arthur", "Kenneth", "Derek", "Raymond", "Brian", "Dennis", "Mohammed", "Imran", "Rajesh",
        "Tomasz", "Kwame", "Oliver", "Harry", "Jack", "Daniel", "Ravi", "Malcolm", "Trevor",
        "Colin", "Stanley", "Ibrahim", "Sean", "Lewis", "Marek", "Delroy", "Gordon",
    ),
}  # fmt: skip
SURNAMES = (
    "Whitmore", "Ashby", "Fennimore", "Hollis", "Castellan", "Pemberton", "Okonkwo", "Rahman",
    "Chaudhry", "Kowalczyk", "Mensah", "Sandhu", "Brightwell", "Ellery", "Marston", "Tilbury",
    "Quennell", "Hartigan", "Oduya", "Begum", "Nowicki", "Lindqvist", "Farrant", "Gadsby",
    "Haverley", "Iqbal", "Jessop", "Kilby", "Larkfield", "Merriott", "Nettleford", "Osei",
    "Pitchford", "Radley", "Stanbridge", "Thackeray", "Underhill", "Verity", "Wakelin", "Yeoman",
)  # fmt: skip
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # never C, I, K, M, O or V in an inward code


class ActivityRefused(Exception):
    """The database is not one the demo may write activity into; `str()` says why."""


# --- synthetic people ---------------------------------------------------------------------------


def nhs_check_digit(nine: str) -> int | None:
    """The modulus-11 check digit for the first nine digits (NHS Data Dictionary), None when
    the number would be invalid (a remainder that gives 10). Calculated by `nhs_number`, the
    library `core.identifiers` validates NHS numbers with."""
    check = nhs_number.calculate_checksum(nine)
    return None if check is None or check == 10 else check


def test_range_nhs_number(rng: random.Random, taken: set[str]) -> str:
    """A valid NHS number in the test range 999 000 0000 - 999 999 9999, not in `taken` (and
    added to it); never one of a single repeated digit."""
    while True:
        nine = f"999{rng.randrange(1_000_000):06d}"
        check = nhs_check_digit(nine)
        number = f"{nine}{check}"
        if check is None or number in taken or len(set(number)) == 1:
            continue
        taken.add(number)
        return number


@dataclass(frozen=True)
class Person:
    """A synthetic patient as the API's patient schema takes it."""

    nhs_number: str
    name: str
    date_of_birth: date
    sex: str
    postcode: str
    place: str
    care_home_service_id: str | None = None

    def body(self) -> dict[str, Any]:
        data = {
            "nhs_number": self.nhs_number,
            "name": self.name,
            "date_of_birth": self.date_of_birth.isoformat(),
            "sex": self.sex,
            "postcode": self.postcode,
        }
        if self.care_home_service_id:
            data["care_home_service_id"] = self.care_home_service_id
        return data

    def age_years(self, on: date) -> int:
        born = self.date_of_birth
        return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


# --- the refusal --------------------------------------------------------------------------------


def _demo_client_names() -> list[str]:
    return [NAVIGATOR_CLIENT, *(f"{DEMO_PREFIX}-{ods.lower()}" for ods in PROVIDERS)]


def _demo_labels(session: Session) -> list[str]:
    """The labels of the demo's own actors: API clients with the demo's names, revoked (as
    `demo_callers` makes them, so nothing can act as them). A live client that happens to
    bear such a name is not the demo."""
    clients = session.scalars(
        select(ApiClient).where(
            ApiClient.name.in_(_demo_client_names()), ApiClient.revoked_at.is_not(None)
        )
    )
    return [_caller(client).label for client in clients]


def _not_demo(column: Any, labels: Sequence[str]) -> Any:
    """`column` names an actor other than the demo's (NULL: nobody acted, not counted)."""
    return column.is_not(None) & column.not_in(labels)


_SAFE_TO_USE = (
    "The demo's synthetic activity is only ever added to a database that holds no activity "
    "or only the demo's: use a new database (for example delete instance/navigator.db)."
)


def refusal(session: Session) -> str | None:
    """Why the demo must not write activity into this database, or None when it may.

    It may when every patient was created by the demo (by the audit log's record of each
    patient's creation) and every record of activity, and every change to one, was made by
    the demo's own actors (`_demo_labels`): calls (`created_by`, `decided_by`), referrals and
    their status changes, transitions of care, delayed transfers and their changes, texts and
    replies (each tied to one of the demo's calls), call-backs, and capacity reports (the
    current one's `updated_by` and every earlier one in the change history). A database with
    none of these is empty of activity, and may be used too. One count per kind of record;
    the first kind found is named in the answer.
    """
    labels = _demo_labels(session)
    created_by_demo = exists().where(
        AuditEvent.patient_id == Patient.id,
        AuditEvent.entity == "patient",
        AuditEvent.action == "create",
        AuditEvent.actor.in_(labels),
    )
    others = session.scalar(select(func.count(Patient.id)).where(~created_by_demo)) or 0
    if others:
        return (
            f"This database holds {others} patient record(s) that the demo did not create. "
            + _SAFE_TO_USE
        )
    demo_calls = select(Navigation.id).where(Navigation.created_by.in_(labels))

    def not_tied_to_a_demo_call(column: Any) -> Any:
        return column.is_(None) | column.not_in(demo_calls)

    checks: Sequence[tuple[str, Any]] = (
        (
            "call(s)",
            select(func.count(Navigation.id)).where(
                Navigation.created_by.not_in(labels) | _not_demo(Navigation.decided_by, labels)
            ),
        ),
        ("referral(s)", select(func.count(Referral.id)).where(Referral.created_by.not_in(labels))),
        (
            "referral status change(s)",
            select(func.count(ReferralEvent.id)).where(ReferralEvent.actor.not_in(labels)),
        ),
        (
            "transition(s) of care",
            select(func.count(TransitionEvent.id)).where(TransitionEvent.created_by.not_in(labels)),
        ),
        (
            "delayed transfer(s) of care",
            select(func.count(DtocEpisode.id)).where(DtocEpisode.created_by.not_in(labels)),
        ),
        (
            "change(s) to a delayed transfer of care",
            select(func.count(DtocInterval.id)).where(DtocInterval.recorded_by.not_in(labels)),
        ),
        (
            "text message(s)",
            select(func.count(SmsMessage.id)).where(
                not_tied_to_a_demo_call(SmsMessage.navigation_id)
            ),
        ),
        (
            "text repl(y/ies)",
            select(func.count(SmsReply.id)).where(
                not_tied_to_a_demo_call(SmsReply.navigation_id)
                | _not_demo(SmsReply.linked_by, labels)
            ),
        ),
        (
            "call-back task(s)",
            select(func.count(CallbackTask.id)).where(
                not_tied_to_a_demo_call(CallbackTask.navigation_id)
                | _not_demo(CallbackTask.completed_by, labels)
            ),
        ),
        (
            "capacity report(s)",
            select(func.count(ServiceCapacity.service_id)).where(
                ServiceCapacity.updated_by.not_in(labels)
            ),
        ),
        (
            "capacity report(s) in the change history",
            select(func.count(ServiceChange.id)).where(
                ServiceChange.field == "capacity", ServiceChange.changed_by.not_in(labels)
            ),
        ),
    )
    for kind, query in checks:
        if count := session.scalar(query):
            return f"This database holds {count} {kind} that the demo did not make. " + _SAFE_TO_USE
    return None


def _caller(client: ApiClient) -> Caller:
    return Caller(client.id, client.name, client.role, client.organisation_ods)


def demo_callers(session: Session, now: datetime) -> tuple[Caller, dict[str, Caller]]:
    """The demo's navigator and its providers (by ODS code), made on the first run: API
    clients revoked from the moment they are made, their keys never kept or shown."""

    def client(name: str, role: str, ods: str | None) -> Caller:
        found = session.scalar(
            select(ApiClient)
            .where(ApiClient.name == name, ApiClient.revoked_at.is_not(None))
            .order_by(ApiClient.id)
            .limit(1)
        )
        if found is None:
            found, _ = create_api_client(session, name=name, role=role, organisation_ods=ods)
            found.revoked_at = now
        return _caller(found)

    providers = {ods: client(f"{DEMO_PREFIX}-{ods.lower()}", "provider", ods) for ods in PROVIDERS}
    return client(NAVIGATOR_CLIENT, "navigator", None), providers


def latest_demo_call(session: Session) -> datetime | None:
    """When the demo's latest call was taken (None: it has made none)."""
    labels = _demo_labels(session)
    return session.scalar(
        select(func.max(Navigation.called_at)).where(Navigation.created_by.in_(labels))
    )


# --- the generator -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """What the services need from the app (read by the command from its config)."""

    index: DirectoryIndex
    gazetteer: Gazetteer
    vocab: Vocabulary
    ruleset: RuleSet
    follow_ups: FollowUpPlan
    stale_hours: int
    ack_minutes: Mapping[str, int]
    default_reset_minutes: int


def app_settings() -> Settings:
    """`Settings` from the running app: its directory, reference data and configuration."""
    return Settings(
        index=directory_index(),
        gazetteer=GAZETTEER.get(),
        vocab=VOCABULARY.get(),
        ruleset=RULESET.get(),
        follow_ups=FOLLOW_UP_PLAN.get(),
        stale_hours=stale_hours(),
        ack_minutes=current_app.config["REFERRAL_ACK_MINUTES"],
        default_reset_minutes=default_reset_minutes(),
    )


@dataclass(order=True)
class _Event:
    at: datetime
    seq: int
    action: Callable[..., None] = field(compare=False)
    args: tuple[Any, ...] = field(compare=False, default=())


@dataclass
class Activity:
    """What one run made: the window and counts by kind."""

    start: datetime
    end: datetime
    counts: Counter[str] = field(default_factory=Counter)


class _Month:
    """One run: a queue of timed events played in time order against the services."""

    def __init__(
        self,
        session: Session,
        settings: Settings,
        *,
        seed: int,
        start: datetime,
        end: datetime,
        navigator: Caller,
        providers: Mapping[str, Caller],
    ) -> None:
        self.session, self.s = session, settings
        self.rng = random.Random(seed)  # noqa: S311 - synthetic data, not secrets
        self.start, self.end = start, end
        self.navigator, self.providers = navigator, providers
        self.queue: list[_Event] = []
        self.seq = itertools.count()
        self.taken: set[str] = set(
            session.scalars(select(Patient.nhs_number).where(Patient.nhs_number.is_not(None)))
        )
        self.activity = Activity(start, end)
        self.count = self.activity.counts
        self.event_ids = itertools.count(1)
        self.stamp = to_local(start).strftime("%Y%m%d%H%M")
        self.referral_deck = self._deck(REFERRAL_PATHS)
        self.rejection_deck = itertools.cycle(REJECTION_REASONS)
        self.text_order: dict[str, int] = {}
        # Decks, not dice, where the demo must show each kind: every eight reporting services
        # have six that report, one that stopped and one that never did; every fourteen last
        # reports of those still reporting, eight green, four amber and two red.
        self.habits = self._deck({"regular": 6, "lapsed": 1, "never": 1})
        self.final_statuses = self._deck({"green": 8, "amber": 4, "red": 2})
        self.care_homes = [
            index_entry
            for pos in sorted(settings.index.by_type.get("care_home", ()))
            if (index_entry := settings.index.entries[pos]).active
        ]

    # -- the clock ----------------------------------------------------------------------------

    def at(self, when: datetime, action: Callable[..., None], *args: Any, **kwargs: Any) -> None:
        """Run `action(when, *args, **kwargs)` in time order; what would happen after the end
        does not."""
        if when < self.end:
            heapq.heappush(
                self.queue, _Event(when, next(self.seq), partial(action, **kwargs), args)
            )

    def run(self) -> Activity:
        while self.queue:
            event = heapq.heappop(self.queue)
            event.action(event.at, *event.args)
        return self.activity

    def times(self, per_day: float) -> list[datetime]:
        """Instants in the window, about `per_day` a day, shaped by the London hour and
        weekday."""
        out = []
        day = to_local(self.start).date()
        while to_utc(datetime.combine(day, time(0))) < self.end:
            expected = per_day * WEEKDAY_WEIGHTS[day.weekday()] * self.rng.uniform(0.8, 1.2)
            count = int(expected) + (self.rng.random() < expected % 1)
            for _ in range(count):
                hour = self.rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
                local = datetime.combine(day, time(hour, self.rng.randrange(60)))
                instant = to_utc(local)
                if self.start <= instant < self.end:
                    out.append(instant)
            day += timedelta(days=1)
        return sorted(out)

    def _deck(self, shares: Mapping[str, int]) -> Any:
        deck = [name for name, share in shares.items() for _ in range(share)]
        self.rng.shuffle(deck)
        return itertools.cycle(deck)

    def daytime(self, after: datetime, minutes: tuple[int, int]) -> datetime:
        """`after` plus a random number of minutes, moved out of the night (08:00-21:00 London)."""
        when = after + timedelta(minutes=self.rng.randint(*minutes))
        local = to_local(when)
        if local.hour < 8:
            when = to_utc(datetime.combine(local.date(), time(8, self.rng.randrange(60))))
        elif local.hour >= 21:
            next_day = local.date() + timedelta(days=1)
            when = to_utc(datetime.combine(next_day, time(8, self.rng.randrange(60))))
        return when

    # -- people -------------------------------------------------------------------------------

    def place(self) -> str:
        return self.rng.choices(list(PLACE_WEIGHTS), weights=list(PLACE_WEIGHTS.values()))[0]

    def postcode(self, place: str) -> str:
        district = self.rng.choice(sorted(self.s.gazetteer.districts_of(place)))
        letters = "".join(self.rng.choice(INWARD_LETTERS) for _ in range(2))
        return f"{district} {self.rng.randrange(1, 10)}{letters}"

    def person(self, place: str, ages: tuple[int, int], *, home: Entry | None = None) -> Person:
        sex = self.rng.choice(("female", "male"))
        name = f"{self.rng.choice(FIRST_NAMES[sex])} {self.rng.choice(SURNAMES)}"
        today = to_local(self.end).date()
        born = today - timedelta(days=self.rng.randint(ages[0] * 365 + 1, ages[1] * 365 + 300))
        postcode = (self.home_postcode(home) if home is not None else None) or self.postcode(place)
        return Person(
            nhs_number=test_range_nhs_number(self.rng, self.taken),
            name=name,
            date_of_birth=born,
            sex=sex,
            postcode=postcode,
            place=place,
            care_home_service_id=home.id if home is not None else None,
        )

    @staticmethod
    def home_postcode(home: Entry) -> str | None:
        """The care home's postcode, when the directory gives one."""
        for location in home.record["locations"]:
            if location.get("postcode"):
                return str(location["postcode"])
        return None

    def home_place(self, home: Entry) -> str:
        """The place the care home is in: its postcode's, else the first it covers."""
        text = self.home_postcode(home)
        postcode = parse_postcode(text, allow_outward=False) if text else None
        place = self.s.gazetteer.locate(postcode).place if postcode else None
        return place or sorted(home.coverage_places)[0]

    # -- calls, decisions and referrals ---------------------------------------------------------

    def plan_calls(self) -> None:
        for when in self.times(CALLS_PER_DAY):
            self.at(when, self.call)

    def call(self, now: datetime) -> None:
        rng = self.rng
        role = rng.choices(list(CALLER_ROLES), weights=list(CALLER_ROLES.values()))[0]
        red_flags = [rng.choice(RED_FLAGS)] if rng.random() < RED_FLAG_SHARE else []
        need = rng.choice(NEEDS[role])
        home = rng.choice(self.care_homes) if role == "care_home" and self.care_homes else None
        place = self.home_place(home) if home is not None else self.place()
        if home is not None or need in OLDER_NEEDS:
            ages = (72, 98)
        elif need in ("minor_illness", "minor_injury") and rng.random() < 0.25:
            ages = (1, 15)
        else:
            ages = (19, 80)
        person = self.person(place, ages, home=home)
        patient = find_or_create_patient(
            self.session,
            PatientInSchema().load(person.body()),
            actor=self.navigator.label,
            gazetteer=self.s.gazetteer,
            client_ref=self.navigator.client_ref,
        ).patient
        body: dict[str, Any] = {
            "caller_role": role,
            "need": need,
            "red_flags": red_flags,
            "age": person.age_years(to_local(now).date()),
            "sex": person.sex,
            "postcode": person.postcode,
            "at": now.isoformat(),
            "nhs_number": person.nhs_number,
        }
        if home is not None:
            body |= {"lives_in_care_home": True, "care_home_service_id": home.id}
        facts = NavigationRequestSchema().load(body)
        result = navigate(
            self.session,
            facts,
            created_by=self.navigator.label,
            index=self.s.index,
            ruleset=self.s.ruleset,
            vocab=self.s.vocab,
            now=now,
            stale_hours=self.s.stale_hours,
            follow_ups=self.s.follow_ups,
        )
        caller_name = person.name if role == "public" else f"{rng.choice(CALLER_FIRST_NAMES)}"
        # As the console records a call's details beside its routing (console/calls/new_call).
        self.session.execute(
            update(Navigation)
            .where(Navigation.id == result["id"])
            .values(
                caller_name=caller_name,
                caller_phone=f"01632 96{rng.randrange(10_000):04d}",  # Ofcom's drama range
                notes="Synthetic demo call." if not red_flags else "Caller advised to ring 999.",
                patient_id=patient.id,
            )
        )
        self.count["calls"] += 1
        self.count["red_flag_calls"] += bool(red_flags)
        for follow_up in result.get("follow_ups", []):
            # The order texts are sent in when several fall due at once (08:00, after the quiet
            # hours): the order of their calls, not of their random ids, so a seed repeats.
            self.text_order[follow_up["id"]] = len(self.text_order)
            self.at(datetime.fromisoformat(follow_up["due_at"]), self.send_due)
        if rng.random() < 0.93:  # the rest are still on screen, not yet decided
            self.at(now + timedelta(minutes=rng.randint(2, 9)), self.decide, result)

    def decide(self, now: datetime, result: Mapping[str, Any]) -> None:
        navigation = self.session.get(Navigation, result["id"])
        assert navigation is not None
        service_id, reason = None, None
        alternatives = [a["service"]["id"] for a in result["alternatives"]]
        if (
            not navigation.red_flags
            and alternatives
            and alternatives[0] in self.s.index.by_id
            and self.rng.random() < 0.08
        ):
            service_id, reason = alternatives[0], self.rng.choice(OVERRIDE_REASONS)
        handoff = decide(
            self.session,
            navigation,
            service_id=service_id,
            override_reason=reason,
            caller=self.navigator,
            index=self.s.index,
            gazetteer=self.s.gazetteer,
            ack_minutes=self.s.ack_minutes,
            now=now,
        )
        self.count["overridden" if service_id else "accepted"] += 1
        if handoff.referral is not None and handoff.created:
            self.count["referrals"] += 1
            self.plan_referral(handoff.referral)

    def plan_referral(self, referral: Referral) -> None:
        """The referral's path through its lifecycle (`REFERRAL_PATHS`), each step timed from
        when it was sent; a step that would fall after now has not happened yet."""
        path = next(self.referral_deck)
        sent, due = referral.created_at, referral.due_by
        window = (due - sent).total_seconds() / 60
        if path == "unanswered":
            return
        answer = sent + timedelta(minutes=self.rng.uniform(0.1, 0.8) * window)
        if path == "answered_late":
            answer = due + timedelta(minutes=self.rng.uniform(0.1, 1.5) * window)
            path = "completed"
        urgent = referral.urgency in ("emergency", "urgent")
        done = answer + (
            timedelta(hours=self.rng.uniform(1, 8))
            if urgent
            else timedelta(days=self.rng.uniform(1, 6))
        )
        steps: list[tuple[datetime, dict[str, Any]]] = []
        if path == "rejected":
            reason = next(self.rejection_deck)
            steps.append((answer, {"status": "rejected", "reason": reason, "note": _NOTES[reason]}))
        elif path == "cancelled":
            steps.append((answer, {"status": "cancelled", "note": "The patient was admitted."}))
        elif path in ("on_hold", "on_hold_then_completed"):
            steps.append((answer, {"status": "on_hold", "note": "Waiting for the GP's summary."}))
            if path == "on_hold_then_completed":
                steps.append((answer + (done - answer) / 3, {"status": "accepted"}))
                steps.append((done, {"status": "completed", "outcome": OUTCOMES[referral.urgency]}))
        else:
            steps.append((answer, {"status": "accepted"}))
            if path == "completed":
                steps.append((done, {"status": "completed", "outcome": OUTCOMES[referral.urgency]}))
            elif path == "accepted_then_cancelled":
                steps.append((done, {"status": "cancelled", "note": "The patient died."}))
        for when, body in steps:
            self.at(when, self.change, referral.id, body)

    def change(self, now: datetime, referral_id: str, body: dict[str, Any]) -> None:
        referral = self.session.get(Referral, referral_id)
        assert referral is not None
        change_status(
            self.session,
            referral,
            ReferralUpdateSchema().load(body),
            actor=self.navigator.label,
            now=now,
        )

    # -- follow-up texts and replies --------------------------------------------------------------

    def send_due(self, now: datetime) -> None:
        """What the SMS worker does at `now`, without a provider: claim what is due, record it
        sent (the provider's id made up as Twilio's are: "SM" and 32 hex digits) and, a minute
        later, the delivery receipt."""
        claimed = claim_due(self.session, now=now, limit=100)
        for message_id in sorted(claimed, key=lambda m: self.text_order.get(m, len(claimed))):
            advance(self.session, message_id, SENT, now=now, sid=f"SM{uuid.uuid4().hex}")
            self.count["texts"] += 1
            delivered = self.rng.random() > 0.04
            self.at(
                now + timedelta(minutes=1),
                self.receipt,
                message_id,
                delivered,
            )

    def receipt(self, now: datetime, message_id: str, delivered: bool) -> None:
        apply_receipt(
            self.session,
            message_id=message_id,
            sid=None,
            status=DELIVERED if delivered else UNDELIVERED,
            error=None if delivered else "30003",
            now=now,
        )
        if delivered and self.rng.random() < 0.75:
            kind = self.rng.choices(("well", "call_back", "free_text"), weights=(60, 15, 25))[0]
            body = self.rng.choice(REPLY_BODIES[kind])
            self.at(self.daytime(now, (10, 240)), self.reply, message_id, body)

    def reply(self, now: datetime, message_id: str, body: str) -> None:
        message = self.session.get(SmsMessage, message_id)
        assert message is not None
        reply = record_reply(
            self.session,
            sid=f"SM{uuid.uuid4().hex}",
            from_number=message.to_number,
            body=body,
            now=now,
            window=self.s.follow_ups.reply_window,
        )
        self.count["replies"] += 1
        if reply.kind in ("call_back", "free_text"):
            task_id = self._task_for(reply.id)
            if task_id is not None and self.rng.random() < 0.8:  # some not yet rung
                self.at(self.daytime(now, (15, 180)), self.call_back, task_id)

    def _task_for(self, reply_id: int) -> int | None:
        return self.session.scalar(select(CallbackTask.id).where(CallbackTask.reply_id == reply_id))

    def call_back(self, now: datetime, task_id: int) -> None:
        complete_callback_task(
            self.session,
            task_id,
            by=self.navigator.label,
            outcome=self.rng.choice(
                (
                    "Rang the home: the resident is settled; no further action.",
                    "Rang the home: asked the GP practice for a visit today.",
                    "Rang the home: re-referred to the urgent community response team.",
                )
            ),
            now=now,
        )
        self.count["call_backs_done"] += 1

    # -- transitions of care and delays -----------------------------------------------------------

    def event_id(self) -> str:
        return f"demo-{self.stamp}-{next(self.event_ids)}"

    def transition(self, now: datetime, ods: str, person: Person, **values: Any) -> None:
        body = {
            "event_id": self.event_id(),
            "occurred_at": now.isoformat(),
            "patient": person.body(),
            "organisation": ods,
            **values,
        }
        record_transition(
            self.session,
            TransitionInSchema().load(body),
            caller=self.providers[ods],
            gazetteer=self.s.gazetteer,
            index=self.s.index,
        )
        self.count[f"transition_{values['type']}"] += 1

    def plan_transitions(self) -> None:
        for when in self.times(AE_ATTENDANCES_PER_DAY):
            place = self.place()
            ages = (70, 97) if self.rng.random() < 0.45 else (1, 69)
            person = self.person(place, ages)
            self.at(when, self.attendance, person)
        for when in self.times(CARE_HOME_CALL_OUTS_PER_DAY):
            if self.care_homes:
                home = self.rng.choice(self.care_homes)
                person = self.person(self.home_place(home), (75, 99), home=home)
                self.at(when, self.call_out, person)
        reasons = itertools.cycle(REASONS)
        for number in range(round(DTOC_EPISODES_PER_MONTH * ((self.end - self.start) / MONTH))):
            reason = next(reasons)
            # One in seven became ready lately and waits long: still delayed now.
            still = number % 7 == 6
            share = self.rng.uniform(0.88, 0.97) if still else self.rng.uniform(0.02, 0.9)
            ready = self.start + (self.end - self.start) * share
            days = 20 if still else self.rng.choices((1, 3, 6, 11, 20), weights=DELAY_WEIGHTS)[0]
            person = self.person(self.place(), (66, 97))
            acute = self.rng.random() < 0.75
            self.at(ready, self.delay, person, reason, acute, days)

    def attendance(self, now: datetime, person: Person, *, from_care_home: bool = False) -> None:
        ods, _ = ACUTE_SITE[person.place]
        self.transition(now, ods, person, type="ae_attendance")
        admit = 0.5 if from_care_home or person.age_years(to_local(now).date()) >= 70 else 0.15
        if self.rng.random() < admit:
            self.at(now + timedelta(hours=self.rng.uniform(2, 6)), self.admit, person)

    def admit(self, now: datetime, person: Person, *, readmission: bool = False) -> None:
        ods, _ = ACUTE_SITE[person.place]
        specialty = self.rng.choice(
            ("general_medicine", "geriatric_medicine", "respiratory_medicine", "general_surgery")
        )
        self.transition(now, ods, person, type="nel_admission", specialty=specialty)
        stay = timedelta(days=self.rng.choices((1, 3, 6, 10), weights=(30, 35, 25, 10))[0])
        discharge = self.daytime(now + stay, (0, 300))
        pathway = self.rng.choices(range(4), weights=PATHWAY_WEIGHTS)[0]
        self.at(discharge, self.discharge, person, pathway, readmission)

    def discharge(self, now: datetime, person: Person, pathway: int, readmitted: bool) -> None:
        ods, _ = ACUTE_SITE[person.place]
        self.transition(
            now, ods, person, type="discharge", pathway=pathway,
            destination=DISCHARGE_DESTINATIONS[pathway],
        )  # fmt: skip
        if not readmitted and self.rng.random() < 0.12:  # back within 30 days
            back = now + timedelta(days=self.rng.uniform(2, 25))
            self.at(back, self.admit, person, readmission=True)

    def call_out(self, now: datetime, person: Person) -> None:
        self.transition(now, "RYC", person, type="care_home_call_out")
        if self.rng.random() < 0.45:
            conveyed = now + timedelta(minutes=self.rng.randint(40, 90))
            self.at(conveyed, self.convey, person)

    def convey(self, now: datetime, person: Person) -> None:
        self.transition(now, "RYC", person, type="care_home_conveyance")
        self.at(now + timedelta(minutes=25), self.attendance, person, from_care_home=True)

    def delay(self, ready: datetime, person: Person, reason: str, acute: bool, days: int) -> None:
        """A delayed transfer of care: the three decisions by `ready`, recorded an hour or so
        later; maybe a change of reason; the transfer (unless still delayed now)."""
        ods, site = (ACUTE_SITE if acute else COMMUNITY_SITE)[person.place]
        clinically = ready - timedelta(hours=self.rng.uniform(2, 30))
        body = {
            "patient": person.body(),
            "provider_ods": ods,
            "site": site,
            "care_type": "acute" if acute else "non_acute",
            "clinically_ready_at": clinically.isoformat(),
            "mdt_ready_at": (ready - timedelta(hours=self.rng.uniform(0, 2))).isoformat(),
            "safe_to_transfer_at": ready.isoformat(),
            "reason": reason,
            "responsible": DTOC_RESPONSIBLE[reason],
        }
        recorded = ready + timedelta(minutes=self.rng.randint(20, 120))
        self.at(recorded, self.open_delay, body, reason, ready, days)

    def open_delay(
        self, now: datetime, body: dict[str, Any], reason: str, ready: datetime, days: int
    ) -> None:
        provider = self.providers[body["provider_ods"]]
        episode = open_episode(
            self.session,
            DtocInSchema().load(body),
            caller=provider,
            gazetteer=self.s.gazetteer,
            index=self.s.index,
            now=now,
        )
        self.count["dtoc_episodes"] += 1
        if reason == "A":  # assessed within two days: then waiting for a placement
            days = max(days, 3)
        transfer = self.daytime(ready + timedelta(days=days), (0, 360))
        if reason == "A":
            change = ready + timedelta(days=self.rng.uniform(1, 2))
            update = {
                "reason": "Di",
                "responsible": "social_care",
                "effective_at": change.isoformat(),
            }
            self.at(change, self.update_delay, episode.id, provider, update)
        destination, pathway = DTOC_DESTINATION[reason]
        done = {
            "transferred_at": transfer.isoformat(),
            "destination": destination,
            "pathway": pathway,
        }
        self.at(transfer, self.update_delay, episode.id, provider, done)

    def update_delay(
        self, now: datetime, episode_id: str, provider: Caller, body: dict[str, Any]
    ) -> None:
        episode = load_episode(self.session, episode_id, for_update=True)
        update_episode(
            self.session,
            episode,
            DtocUpdateSchema().load(body),
            caller=provider,
            index=self.s.index,
            now=now,
        )
        self.count["dtoc_transferred" if "transferred_at" in body else "dtoc_reason_changes"] += 1

    # -- capacity ----------------------------------------------------------------------------------

    def plan_capacity(self) -> None:
        """Reporting services: three in four still report (twice a day over the last day and
        a half, the last within the past few hours), one in eight stopped two to nine days ago
        (now stale), and one in eight never reported; the rest of the directory never
        reports. The last reports are mostly green, some amber, a few red."""
        reporters = [
            e for e in self.s.index.entries if e.active and e.service_type in REPORTING_TYPES
        ]
        for entry in reporters:
            habit = next(self.habits)
            if habit == "never":
                continue
            last = (
                self.end - timedelta(minutes=self.rng.randint(20, 300))
                if habit == "regular"
                else self.end - timedelta(days=self.rng.uniform(2, 9))
            )
            for back in (36, 24, 12, 0):  # hours before the last report
                when = last - timedelta(hours=back + self.rng.uniform(0, 2))
                if when >= self.start:
                    final = back == 0
                    self.at(when, self.report, entry.id, final)

    def report(self, now: datetime, service_id: str, final: bool) -> None:
        if final:
            status = next(self.final_statuses)
        else:
            status = self.rng.choices(("green", "amber", "red"), weights=(70, 22, 8))[0]
        set_capacity(
            self.session,
            service_id,
            status=status,
            note=self.rng.choice(CAPACITY_NOTES[status]),
            # The last amber or red lasts the demo session (up to the 24-hour maximum).
            reset_after_minutes=(12 * 60 if final else 4 * 60) if status != "green" else None,
            changed_by=self.navigator.label,
            now=now,
            default_reset_minutes=self.s.default_reset_minutes,
        )
        self.count["capacity_reports"] += 1


_NOTES = {
    "no_capacity": "No visits left this week; please try the neighbouring team.",
    "not_eligible": "The patient is under the service's age limit.",
    "could_not_contact": "Rang three times and left messages; no answer.",
    "declined_by_patient": "The patient said they are managing and do not want a visit.",
    "other": "The patient is already on our caseload under another team.",
}


def generate_activity(
    session: Session,
    settings: Settings,
    *,
    seed: int,
    now: datetime,
    days: int = 30,
) -> Activity:
    """Generate the demo's activity up to `now` (aware UTC) in the caller's unit of work.

    The window is the month (30 days; fewer with `days`) before `now`, or, on a database
    where the demo has run before, from its latest call to `now` (never more than a month):
    a second run adds what happened since, never the same month again. The same `seed`,
    `now` and database give the same activity (the same people, times, routes, statuses and
    texts; ids differ).

    Raises `ActivityRefused` when `refusal` finds patients or calls the demo did not make, or
    the directory is empty. Flushes, never commits.
    """
    if why := refusal(session):
        raise ActivityRefused(why)
    if not settings.index.entries:
        raise ActivityRefused(
            "The directory is empty: load it first (navigator directory load "
            "directory_of_services/blmk)."
        )
    start = now - min(timedelta(days=days), MONTH)
    if (latest := latest_demo_call(session)) is not None:
        start = max(start, latest + timedelta(minutes=1))
    navigator, providers = demo_callers(session, now)
    month = _Month(
        session, settings, seed=seed, start=start, end=now, navigator=navigator, providers=providers
    )
    if start >= now:
        return month.activity
    month.plan_calls()
    month.plan_transitions()
    month.plan_capacity()
    activity = month.run()
    session.flush()
    return activity


def referral_statuses(session: Session) -> dict[str, int]:
    """How many referrals are in each status now (for the command's summary)."""
    rows = session.execute(select(Referral.status, func.count()).group_by(Referral.status))
    return dict(sorted((status, count) for status, count in rows))


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else many or one + 's'}"


def summary_lines(activity: Activity, statuses: Mapping[str, int]) -> Sequence[str]:
    """The command's report of one run, in plain words (London dates)."""
    c = activity.counts
    start, end = to_local(activity.start), to_local(activity.end)
    if not c:
        return ["Demo activity: nothing new since the demo's latest call."]
    transitions = sum(v for k, v in c.items() if k.startswith("transition_"))
    decided = c["accepted"] + c["overridden"]
    return [
        f"Demo activity from {start:%-d %B %Y %H:%M} to {end:%-d %B %Y %H:%M} (London time):",
        f"  {_n(c['calls'], 'call')} ({c['red_flag_calls']} with a red flag), {decided} decided "
        f"({c['overridden']} overridden)",
        f"  {_n(c['referrals'], 'referral')} made; all referrals now: "
        + ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in statuses.items()),
        f"  {_n(transitions, 'transition')} of care, "
        f"{_n(c['dtoc_episodes'], 'delayed transfer')} of care ({c['dtoc_transferred']} ended)",
        f"  {_n(c['texts'], 'follow-up text')} sent, {_n(c['replies'], 'reply', 'replies')}, "
        f"{_n(c['call_backs_done'], 'call-back')} done",
        f"  {_n(c['capacity_reports'], 'capacity report')}",
        "  Synthetic people only: NHS numbers in the test range 999 000 0000 to 999 999 9999.",
    ]
