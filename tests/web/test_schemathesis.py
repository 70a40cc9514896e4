"""The API keeps the promises of its own OpenAPI document, for every role (issue 12 §5, §6).

schemathesis reads `/api/v1/openapi.json` from the app in-process (WSGI) and runs its four
phases against it with each role's key: the documented examples, the coverage phase (boundary
and invalid values for every field), fuzzing (hypothesis-generated requests, valid and not)
and the stateful phase (chains such as create-then-read, from the Location headers). The run
fails on any 5xx, any response whose body does not validate against the documented schema,
whose content type is not the documented one, or whose status the operation does not list,
and on a 405 without `Allow`.

Bounded for CI by `NAVIGATOR_FUZZ_EXAMPLES` (examples per operation and phase, default 10).
The big run (issue 12, "at least 20,000 cases over all roles") is the same test with more
examples; `bench/README.md` gives the command and the figures measured.
"""

from __future__ import annotations

import os
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from flask import Flask
from schemathesis.engine import events, from_schema

from tests.builders import load_directory, organisation, service

EXAMPLES = int(os.environ.get("NAVIGATOR_FUZZ_EXAMPLES", "10"))
SEED = int(os.environ.get("NAVIGATOR_FUZZ_SEED", "12"))
ROLES = ("integrator", "navigator", "provider", "admin")
# What the issue requires of every response; each is a schemathesis check name.
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "unsupported_method",
)


@dataclass
class Report:
    """What one run saw: requests answered, by status; scenarios (one per operation and
    phase, or per stateful run) by phase; failures by check; engine errors."""

    role: str
    cases: int = 0
    seconds: float = 0.0
    failures: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter[int] = field(default_factory=Counter)
    phases: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [
            f"{self.role}: {self.cases} cases in {self.seconds:.0f} s;"
            f" scenarios by phase {dict(self.phases)}; by status {dict(sorted(self.statuses.items()))}"
        ]
        for check, messages in sorted(self.failures.items()):
            distinct = sorted(set(messages))
            lines.append(f"  {check}: {len(messages)} failures, {len(distinct)} distinct")
            lines.extend(f"    - {m}" for m in distinct[:15])
        lines.extend(f"  engine error: {e}" for e in self.errors[:10])
        return "\n".join(lines)


def config_for(key: str, examples: int) -> schemathesis.Config:
    checks: dict[str, Any] = {"enabled": False} | {name: {"enabled": True} for name in CHECKS}
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "headers": {"Authorization": f"Bearer {key}"},
            "generation": {"max-examples": examples, "mode": "all"},
            "checks": checks,
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": True},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": True, "max-steps": 6},
            },
            "continue-on-failure": True,
            # Tests have their own database; schemathesis must not write a cache beside them.
            "cache": {"enabled": False},
        }
    )


class CountingMiddleware:
    """Counts every request the app answers, by status: the run's figures. (schemathesis's
    own recorder keeps only the cases it reports on, not every one it sends.)"""

    def __init__(self, wsgi_app: Any, statuses: Counter[int]) -> None:
        self.wsgi_app, self.statuses = wsgi_app, statuses

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        def counting_start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
            self.statuses[int(status[:3])] += 1
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, counting_start_response)


def run(app: Flask, role: str, key: str, examples: int) -> Report:
    """Run every phase over the app's OpenAPI document as one API client."""
    report = Report(role)
    original = app.wsgi_app
    app.wsgi_app = CountingMiddleware(original, report.statuses)  # type: ignore[method-assign]
    try:
        schema = schemathesis.openapi.from_wsgi(
            "/api/v1/openapi.json", app, config=config_for(key, examples)
        )
        started = time.monotonic()
        collect(from_schema(schema).execute(), report)
        report.seconds = time.monotonic() - started
    finally:
        app.wsgi_app = original  # type: ignore[method-assign]
    report.cases = sum(report.statuses.values()) - 1  # less the fetch of the document
    return report


def collect(stream: Any, report: Report) -> None:
    for event in stream:
        if isinstance(event, events.ScenarioFinished):
            report.phases[event.phase.value] += 1
            for case_id, case_checks in event.recorder.checks.items():
                for check in case_checks:
                    if check.failure_info is not None:
                        failure = check.failure_info.failure
                        case = event.recorder.cases[case_id].value
                        where = f"{case.method} {case.operation.path}"
                        report.failures[check.name].append(
                            f"{where}: {failure.title}: {failure.message[:300]}"
                        )
        elif isinstance(event, events.NonFatalError | events.FatalError):
            report.errors.append(repr(getattr(event, "value", getattr(event, "exception", ""))))


@pytest.fixture
def small_directory(app_ctx: Flask) -> None:
    """Two organisations (one the provider key's, RC9), a care home, a GP practice and a
    community service, so every search and reference has something real to find."""
    load_directory(
        organisations=[organisation(), organisation(id="other-trust", ods_code="RD8")],
        services=[
            service(id="ucr", needs=["fall_no_injury", "urgent_care"]),
            service(id="gp", organisation="other-trust", service_type="gp_practice"),
            service(id="care-home", organisation="other-trust", service_type="care_home"),
        ],
    )


@pytest.mark.parametrize("role", ROLES)
def test_api_keeps_its_openapi_promises(
    app: Flask, auth: dict[str, dict[str, str]], small_directory: None, role: str
) -> None:
    key = auth[role]["Authorization"].removeprefix("Bearer ")
    report = run(app, role, key, EXAMPLES)
    print(report.summary())
    assert report.cases > 0
    assert all(report.phases[phase] for phase in ("coverage", "fuzzing", "stateful"))
    assert not report.failures and not report.errors, report.summary()
