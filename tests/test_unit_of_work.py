"""Services flush, never commit (issue 14): the view or CLI command that calls them owns the
one unit of work (`core.db.transaction` / `retry_on_conflict`), so what a request writes
lands together or not at all, and a decision and its referral cannot be half recorded.

Each case runs one writing service in a session, then checks that nothing was committed: the
session is still in its transaction, the new row is visible there but not to another
connection, and `session.rollback()` leaves no trace of it. A service that commits (or opens
its own `transaction`) fails here.

That catches only the services listed here, so the rule is also checked by reading the code:
`test_only_the_owners_of_a_unit_of_work_commit` walks every module of `navigator` and fails on
any commit, rollback, `transaction`, `retry_on_conflict` or `begin` outside the modules that
own a unit of work (views, console pages, CLI commands, the SMS processes, `core.db`) and the
few functions listed, each with its reason, in `EXCEPTIONS`.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from fnmatch import fnmatchcase
from typing import Any, NamedTuple

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from navigator.auth.keys import Caller
from navigator.core.db import Base, transaction, utcnow
from navigator.core.extensions import db
from navigator.core.reference import GAZETTEER, VOCABULARY
from navigator.directory.capacity import update_capacity
from navigator.directory.editing import edit_service
from navigator.directory.models import ServiceCapacity, ServiceChange
from navigator.directory.reference import directory_index
from navigator.navigation.decisions import decide
from navigator.navigation.models import Navigation
from navigator.referrals.models import Referral, ReferralEvent
from navigator.referrals.schemas import ReferralInSchema
from navigator.referrals.service import change_status, create_referral
from navigator.transitions.dtoc import open_episode, update_episode
from navigator.transitions.models import DtocEpisode, DtocInterval, TransitionEvent
from navigator.transitions.schemas import DtocInSchema, DtocUpdateSchema, TransitionInSchema
from navigator.transitions.service import record_transition
from tests.builders import load_directory, navigate_fall, organisation, service
from tests.conftest import PROJECT_ROOT

NAVIGATOR = Caller(3, "111-provider", "navigator", None)
ACK = {"urgent": 30, "emergency": 15, "same_day": 120, "within_72h": 480, "routine": 1440}
PATIENT = {
    "nhs_number": "9434765919",
    "name": "Ada Example",
    "date_of_birth": "1941-03-02",
    "postcode": "MK42 9DJ",
}

# A case commits what it needs first (through `transaction`, as a view would) and returns the
# write under test: one service call, giving (model, primary key) of a row it wrote.
Write = Callable[[], tuple[type[Base], Any]]
Case = Callable[[Session], Write]


@pytest.fixture
def directory(app_ctx: Any) -> None:
    load_directory(
        organisations=[organisation(id="rc9", ods_code="RC9")],
        services=[service(id="ucr", organisation="rc9")],
    )


def _new_referral(session: Session) -> Referral:
    body = ReferralInSchema().load(
        {
            "service_id": "ucr",
            "patient": PATIENT,
            "reason": "Fell",
            "urgency": "urgent",
            "consent": True,
        }
    )
    referral, created = create_referral(
        session,
        body,
        caller=NAVIGATOR,
        idempotency_key="key-1",
        index=directory_index(),
        gazetteer=GAZETTEER.get(),
        ack_minutes=ACK,
        now=utcnow(),
    )
    assert created
    return referral


def creating_a_referral(session: Session) -> Write:
    return lambda: (Referral, _new_referral(session).id)


def changing_a_referrals_status(session: Session) -> Write:
    with transaction(session):
        referral = _new_referral(session)

    def write() -> tuple[type[Base], Any]:
        change_status(session, referral, {"status": "accepted"}, actor="tests", now=utcnow())
        return ReferralEvent, session.scalar(select(func.max(ReferralEvent.id)))

    return write


def _navigate(session: Session) -> dict[str, Any]:
    return navigate_fall(session, created_by=NAVIGATOR.label)


def navigating_a_call(session: Session) -> Write:
    return lambda: (Navigation, _navigate(session)["id"])


def deciding_a_call(session: Session) -> Write:
    """The decision and its referral: one unit of work, so neither is committed alone."""
    with transaction(session):
        patient_id = _new_referral(session).patient_id  # a patient for the call
        navigation = session.get(Navigation, _navigate(session)["id"])
        assert navigation is not None
        navigation.patient_id = patient_id

    def write() -> tuple[type[Base], Any]:
        handoff = decide(
            session,
            navigation,
            service_id=None,
            override_reason=None,
            caller=NAVIGATOR,
            index=directory_index(),
            gazetteer=GAZETTEER.get(),
            ack_minutes=ACK,
            now=utcnow(),
        )
        assert handoff.created and handoff.referral is not None
        return Referral, handoff.referral.id

    return write


def recording_a_transition(session: Session) -> Write:
    body = TransitionInSchema().load(
        {
            "event_id": "event-1",
            "type": "nel_admission",
            "occurred_at": "2025-01-06T10:00:00+00:00",
            "patient": PATIENT,
        }
    )

    def write() -> tuple[type[Base], Any]:
        transition, created = record_transition(
            session, body, caller=NAVIGATOR, gazetteer=GAZETTEER.get(), index=directory_index()
        )
        assert created
        return TransitionEvent, transition.id

    return write


READY = "2025-01-06T10:00:00+00:00"


def _dtoc_body() -> dict[str, Any]:
    return DtocInSchema().load(
        {
            "patient": PATIENT,
            "provider_ods": "RC9",
            "care_type": "acute",
            "clinically_ready_at": READY,
            "mdt_ready_at": READY,
            "safe_to_transfer_at": READY,
            "reason": "E",
            "responsible": "nhs",
        }
    )


def _open_episode(session: Session) -> DtocEpisode:
    return open_episode(
        session,
        _dtoc_body(),
        caller=NAVIGATOR,
        gazetteer=GAZETTEER.get(),
        index=directory_index(),
        now=utcnow(),
    )


def opening_a_dtoc_episode(session: Session) -> Write:
    return lambda: (DtocEpisode, _open_episode(session).id)


def updating_a_dtoc_episode(session: Session) -> Write:
    with transaction(session):
        episode = _open_episode(session)
    body = DtocUpdateSchema().load(
        {"reason": "Di", "responsible": "social_care", "effective_at": "2025-01-07T09:00:00Z"}
    )

    def write() -> tuple[type[Base], Any]:
        update_episode(
            session, episode, body, caller=NAVIGATOR, index=directory_index(), now=utcnow()
        )
        return DtocInterval, session.scalar(select(func.max(DtocInterval.id)))

    return write


def editing_a_service(session: Session) -> Write:
    def write() -> tuple[type[Base], Any]:
        edit_service(
            session, "ucr", {"name": "Urgent response"}, vocab=VOCABULARY.get(), changed_by="tests"
        )
        return ServiceChange, session.scalar(select(func.max(ServiceChange.id)))

    return write


def updating_capacity(session: Session) -> Write:
    def write() -> tuple[type[Base], Any]:
        update_capacity(
            session,
            "ucr",
            {"status": "red", "note": "No crews", "reset_after_minutes": None},
            changed_by="tests",
            now=utcnow(),
            default_reset_minutes=240,
        )
        return ServiceCapacity, "ucr"

    return write


def committed(model: type[Base], ident: Any) -> bool:
    """Whether another connection sees the row: only what was committed."""
    key = next(iter(model.__table__.primary_key.columns))  # type: ignore[attr-defined]
    with db.engine.connect() as connection:
        return connection.scalar(select(func.count()).where(key == ident)) == 1


@pytest.mark.parametrize(
    "case",
    [
        creating_a_referral,
        changing_a_referrals_status,
        navigating_a_call,
        deciding_a_call,
        recording_a_transition,
        opening_a_dtoc_episode,
        updating_a_dtoc_episode,
        updating_capacity,
        editing_a_service,
    ],
)
def test_a_service_flushes_and_leaves_the_commit_to_its_caller(
    session: Session, directory: None, case: Case
) -> None:
    write = case(session)
    commits: list[Session] = []
    count = commits.append  # one bound method, so that the same listener is removed
    event.listen(session, "after_commit", count)
    try:
        model, ident = write()
    finally:
        event.remove(session, "after_commit", count)
    assert commits == [], "the service committed by itself"
    assert session.in_transaction()
    assert session.get(model, ident) is not None  # flushed: this session sees it
    assert not committed(model, ident)  # and no one else does
    session.rollback()
    session.expire_all()
    assert session.get(model, ident) is None  # nothing of it survives a rollback


# --- Read from the code: only the owners of a unit of work commit ---------------------------

PACKAGE = PROJECT_ROOT / "navigator"
# Methods that commit, roll back or open a transaction (Session, Connection, Engine, sessionmaker).
TRANSACTION_METHODS = frozenset({"commit", "rollback", "begin", "begin_nested"})
# navigator's own openers of a unit of work (navigator.core.db).
UNIT_OF_WORK = frozenset({"transaction", "retry_on_conflict"})

# Modules that own a unit of work: paths under navigator/ (fnmatch: `*` crosses folders).
OWNERS = {
    "*/views.py": "API views: one request, one unit of work",
    "*/oruk_views.py": "the ORUK feed's views",
    "fhir/messaging_views.py": "BaRS views: the ServiceRequest read (`$process-message` owns "
    "its units of work in fhir/process_message.py receive_message)",
    "console/*": "console pages; also Flask-Login's loader (console/access.py load_user), "
    "which commits at once because checking a session may end it or move its last-seen on",
    "cli/*": "CLI commands",
    "sms/webhooks.py": "Twilio's webhooks (views)",
    "sms/worker.py": "the SMS scheduler, a process of its own: one unit of work per job",
    "bars/worker.py": "the scheduler's BaRS response job: claims committed before each send, "
    "like the SMS worker",
    "core/db.py": "`transaction` and `retry_on_conflict` themselves",
    "core/migrations.py": "runs Alembic, which owns the migrations' transactions",
}
# Functions elsewhere that own one on purpose, (module, function) -> why. Nested functions and
# a class's methods go by the outer name (`load_user`, `Outer.method`).
EXCEPTIONS = {
    ("transitions/importer.py", "import_csv"): "the body of the `transitions import` command "
    "(cli/transitions.py): one unit of work per CSV row, rerun on a conflicting event_id, so "
    "a bad row leaves the good ones recorded",
    ("fhir/process_message.py", "receive_message"): "BaRS $process-message without its "
    "request (the view only reads it): the X-Request-Id claim, the message and the claim's "
    "release each in a unit of work of its own (navigator.bars.received); the message rerun on "
    "a conflicting ServiceRequest",
    ("web/auth.py", "refuse_bad_key"): "commits the bad API key's count before the 401, so a "
    "failed request still counts towards the address's throttle",
    ("web/health.py", "health"): "the health view: rolls back after a failed database probe",
}


class Found(NamedTuple):
    """A commit, rollback, begin or unit-of-work opener in a module of navigator."""

    module: str  # the path under navigator/, e.g. "navigation/service.py"
    function: str  # the enclosing def's dotted name; "" at module level
    line: int
    what: str  # ".commit", "transaction", "transaction as tx", ...

    def __str__(self) -> str:
        return f"{self.module}:{self.line} {self.function or '<module>'}: {self.what}"


class _Finder(ast.NodeVisitor):
    def __init__(self, module: str) -> None:
        self.module, self.scope, self.found = module, list[str](), list[Found]()

    def _add(self, node: ast.stmt | ast.expr, what: str) -> None:
        self.found.append(Found(self.module, ".".join(self.scope), node.lineno, what))

    def _scoped(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        self.scope.append(node.name)
        self.generic_visit(node)
        self.scope.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _scoped

    # Any mention, called or not (`partial(transaction, …)`, `commit = session.commit`).
    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr in TRANSACTION_METHODS:
            self._add(node, f".{node.attr}")
        elif node.attr in UNIT_OF_WORK:
            self._add(node, node.attr)
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in UNIT_OF_WORK and isinstance(node.ctx, ast.Load):
            self._add(node, node.id)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        # Under another name, a call would not be recognised: the renaming itself is one.
        for alias in node.names:
            if alias.name in UNIT_OF_WORK | TRANSACTION_METHODS and alias.asname:
                self._add(node, f"{alias.name} as {alias.asname}")


def unit_of_work_calls(source: str, module: str) -> list[Found]:
    """Every commit, rollback, begin, `transaction` and `retry_on_conflict` in `source`."""
    finder = _Finder(module)
    finder.visit(ast.parse(source, filename=module))
    return finder.found


def allowed(found: Found) -> bool:
    """Whether the module or function owns a unit of work (OWNERS, EXCEPTIONS)."""
    if any(fnmatchcase(found.module, pattern) for pattern in OWNERS):
        return True
    return any(
        found.module == module and f"{found.function}.".startswith(f"{function}.")
        for module, function in EXCEPTIONS
    )


def offenders(source: str, module: str) -> list[str]:
    return [str(found) for found in unit_of_work_calls(source, module) if not allowed(found)]


def package_modules() -> dict[str, str]:
    """{path under navigator/: source} for every module of the package."""
    return {
        path.relative_to(PACKAGE).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(PACKAGE.rglob("*.py"))
    }


def test_only_the_owners_of_a_unit_of_work_commit() -> None:
    found = [line for module, text in package_modules().items() for line in offenders(text, module)]
    assert found == [], (
        f"{found}: a service commits, rolls back or opens its own unit of work. It should only "
        "flush, and let the view, page or command that calls it own the transaction (or, if it "
        "must, be added to EXCEPTIONS with the reason)"
    )


def test_every_allowance_is_still_needed() -> None:
    """A stale allowance would let a future commit in that place pass unseen."""
    modules = package_modules()
    assert [p for p in OWNERS if not any(fnmatchcase(m, p) for m in modules)] == []
    used = {
        (found.module, found.function.split(".")[0])
        for module, text in modules.items()
        for found in unit_of_work_calls(text, module)
    }
    assert set(EXCEPTIONS) - used == set()


@pytest.mark.parametrize(
    ("module", "function"),
    [
        ("navigation/service.py", "navigate"),
        ("transitions/dtoc.py", "update_episode"),
        ("directory/editing.py", "edit_service"),
        ("referrals/service.py", "create_referral"),
    ],
)
def test_a_commit_added_to_a_service_is_caught(module: str, function: str) -> None:
    """The service as it is, with `session.commit()` added at the end of one function (what a
    review once slipped past the behavioural test above, which runs only the services it names)."""
    tree = ast.parse((PACKAGE / module).read_text(encoding="utf-8"))
    (target,) = [
        node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == function
    ]
    assert offenders(ast.unparse(tree), module) == []
    target.body[-1:-1] = ast.parse("session.commit()").body
    found = offenders(ast.unparse(tree), module)
    assert len(found) == 1 and found[0].endswith(f" {function}: .commit"), found


SYNTHETIC = """
from navigator.core.db import retry_on_conflict, transaction as unit

def service(session, engine, db):
    session.commit()
    db.session.rollback()
    with engine.begin() as connection:
        connection.begin_nested()
    with transaction(session):
        pass
    retry_on_conflict(session, lambda: None)
    later = session.commit

class Store:
    def save(self, session):
        with db.transaction(session):
            pass
"""


def test_the_check_sees_each_way_of_owning_a_unit_of_work() -> None:
    assert offenders(SYNTHETIC, "navigation/service.py") == [
        "navigation/service.py:2 <module>: transaction as unit",
        "navigation/service.py:5 service: .commit",
        "navigation/service.py:6 service: .rollback",
        "navigation/service.py:7 service: .begin",
        "navigation/service.py:8 service: .begin_nested",
        "navigation/service.py:9 service: transaction",
        "navigation/service.py:11 service: retry_on_conflict",
        "navigation/service.py:12 service: .commit",
        "navigation/service.py:16 Store.save: transaction",
    ]
    # The owners may; an exception covers its own function only.
    assert offenders(SYNTHETIC, "navigation/views.py") == []
    assert offenders(SYNTHETIC, "console/calls/new_call.py") == []
    health = SYNTHETIC.replace("def service(", "def health(")
    assert offenders(health, "web/health.py") == [
        "web/health.py:2 <module>: transaction as unit",
        "web/health.py:16 Store.save: transaction",
    ]
