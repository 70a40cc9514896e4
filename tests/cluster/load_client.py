"""A load client that behaves as a careful integrator: every write has its own key, and a
write whose outcome is unknown is retried with the same key until it is acknowledged.

Used by the fault tests (`tests/cluster/test_faults.py`) against a cluster from
`scripts/cluster start`. Three kinds of write, through the load balancer:

- referral (`POST /api/v1/referrals`): keyed by the `Idempotency-Key` header;
- transition (`POST /api/v1/transitions`): keyed by the body's `event_id`, which is its
  idempotency key (navigator.transitions.service); the same `Idempotency-Key` is sent too;
- BaRS referral (`POST /fhir/$process-message`, the standard's REFREQ01 111-to-ED message
  with a fresh ServiceRequest id): keyed by `X-Request-Id`. A retry of a processed id is
  answered 409 `duplicate` (BaRS), which acknowledges it; 425 (still processing) is retried;
- navigation (`POST /api/v1/navigations`): keyed by the `Idempotency-Key` header (added
  when the first version of these tests found a navigation recorded twice after its node
  died and the client resent it).

A connection error, a timeout, 502, 503 or 504 leaves the outcome unknown: the client waits
(the response's `Retry-After`, capped) and sends the same request again, up to a deadline.
Any 2xx is acknowledged. Anything else (a 4xx, a 500) is final and recorded as an error.
Every answer that is not 2xx must be `application/problem+json`; each one that is not is
recorded, with its status, so the tests can show it.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import nhs_number
import requests

from tests.fhir import bars_messages
from tests.fhir.bars_messages import with_new_ids

KINDS = ("navigation", "referral", "transition", "bars")
RETRYABLE = frozenset({502, 503, 504})
PROBLEM_JSON = "application/problem+json"
FHIR_JSON = "application/fhir+json"  # /fhir/ answers errors as FHIR OperationOutcomes


@dataclass(frozen=True)
class Answer:
    """One HTTP attempt: when it ended (seconds since the run began), its status (0 for a
    connection error or timeout), its content type and whether it carried Retry-After."""

    at: float
    kind: str
    status: int
    content_type: str
    retry_after: str | None
    error: str | None = None


@dataclass
class Write:
    """One logical write and what became of it after all its attempts."""

    kind: str
    key: str
    attempts: int = 0
    acknowledged: bool = False
    record_id: str | None = None
    final_status: int | None = None
    detail: str | None = None


@dataclass
class Results:
    writes: list[Write] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    started: float = 0.0

    def acknowledged(self, kind: str | None = None) -> list[Write]:
        return [w for w in self.writes if w.acknowledged and kind in (None, w.kind)]

    def failed(self) -> list[Write]:
        """Writes that ended in an answer that is neither 2xx nor retryable, or never ended."""
        return [w for w in self.writes if not w.acknowledged]

    def statuses(self) -> Counter[int]:
        return Counter(a.status for a in self.answers)

    def retries(self) -> int:
        return sum(w.attempts - 1 for w in self.writes)

    def not_problem_json(self) -> list[Answer]:
        return [
            a
            for a in self.answers
            if a.status >= 400
            and not a.content_type.startswith(PROBLEM_JSON)
            and not (a.kind == "bars" and a.content_type.startswith(FHIR_JSON))
        ]

    def summary(self) -> str:
        by_kind = Counter(w.kind for w in self.acknowledged())
        return (
            f"{len(self.answers)} requests, {len(self.writes)} writes, "
            f"{len(self.acknowledged())} acknowledged ({dict(by_kind)}), "
            f"{self.retries()} retries, statuses {dict(sorted(self.statuses().items()))}"
            + (
                f" (0: {dict(errors)})"
                if (errors := Counter(a.error for a in self.answers if a.error))
                else ""
            )
        )


def record_id(kind: str, answer: dict[str, Any]) -> str:
    """The id of the record an acknowledged write made: the API's `id`, or for BaRS the
    ServiceRequest navigator answers with (its id is the referral's)."""
    if kind != "bars":
        return str(answer["id"])
    return next(
        str(e["resource"]["id"])
        for e in answer["entry"]
        if e["resource"]["resourceType"] == "ServiceRequest"
    )


def _duplicate(response: requests.Response) -> bool:
    """A BaRS 409 that says the X-Request-Id was already processed (OperationOutcome code
    `duplicate`), not a conflict with the message's content."""
    try:
        issues = response.json().get("issue", [])
    except ValueError:
        return False
    return any(issue.get("code") == "duplicate" for issue in issues)


class LoadClient:
    """Threads that each send writes in turn (navigation, referral, transition) until stopped.

    `base_url` is the balancer, and navigator's PUBLIC_BASE_URL (it names the service id
    system of BaRS messages); `api_key` an integrator's key; `service_id` an active service
    that takes referrals; `postcode` one in the loaded directory's area; `bars_target` a
    service a BaRS referral can go to; `bars_sender` a registered sender endpoint
    (`BARS_SENDER_ENDPOINTS`).
    `retry_deadline` (seconds) bounds one write's retries: a write still unknown after it is
    recorded as failed with status 0.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        service_id: str,
        postcode: str,
        organisation_ods: str,
        bars_target: str,
        bars_sender: str,
        threads: int = 4,
        retry_deadline: float = 90.0,
        max_wait: float = 2.0,
        timeout: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.service_id = service_id
        self.postcode = postcode
        self.organisation_ods = organisation_ods
        self.bars_target = bars_target
        self.bars_sender = bars_sender
        self.threads = threads
        self.retry_deadline = retry_deadline
        self.max_wait = max_wait
        self.timeout = timeout
        self.results = Results()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._workers: list[threading.Thread] = []
        self._run = uuid.uuid4().hex[:8]

    # Bodies ---------------------------------------------------------------------------------

    def _patient(self) -> dict[str, Any]:
        # A fresh synthetic-range NHS number (999…, never a real person's) per write, so the
        # writes do not all queue on one patient's row.
        number = nhs_number.generate(for_region=nhs_number.REGION_SYNTHETIC)[0]
        return {
            "nhs_number": number,
            "name": "Load Test",
            "date_of_birth": "1941-03-02",
            "postcode": self.postcode,
        }

    def bars_message(self) -> dict[str, Any]:
        """REFREQ01 to `bars_target`, from `bars_sender`, for a new ServiceRequest."""
        system = f"{self.base_url}/fhir/Id/service"
        bundle = with_new_ids(
            bars_messages.referral(self.bars_target, nhs_number=self._patient()["nhs_number"]),
            str(uuid.uuid4()),
        )
        bundle["id"] = str(uuid.uuid4())
        header = bundle["entry"][0]["resource"]
        header["destination"][0]["endpoint"] = f"{system}|{self.bars_target}"
        header["source"]["endpoint"] = self.bars_sender
        return bundle

    def headers_for(self, kind: str, key: str) -> dict[str, str]:
        auth = {"Authorization": f"Bearer {self.api_key}"}
        if kind != "bars":
            return auth | {"Idempotency-Key": key}
        system = f"{self.base_url}/fhir/Id/service"
        # The same X-Request-Id on every attempt (the key); X-Correlation-Id too.
        return bars_messages.bars_headers(auth, request_id=key, correlation_id=key) | {
            "NHSD-Target-Identifier": bars_messages.target_header(self.bars_target, system)
        }

    def request_for(self, kind: str, key: str) -> tuple[str, dict[str, Any]]:
        if kind == "bars":
            return "/fhir/$process-message", self.bars_message()
        if kind == "navigation":
            return "/api/v1/navigations", {
                "caller_role": "professional",
                "need": "fall_no_injury",
                "age": 84,
                "sex": "female",
                "postcode": self.postcode,
            }
        if kind == "referral":
            return "/api/v1/referrals", {
                "service_id": self.service_id,
                "patient": self._patient(),
                "reason": "Fall without injury (load test)",
                "urgency": "routine",
                "consent": True,
            }
        return "/api/v1/transitions", {
            "event_id": key,
            "type": "ae_attendance",
            "occurred_at": "2026-11-01T10:00:00Z",
            "patient": self._patient(),
            "organisation": self.organisation_ods,
        }

    # Sending --------------------------------------------------------------------------------

    def _record(self, answer: Answer) -> None:
        with self._lock:
            self.results.answers.append(answer)

    def send(self, session: requests.Session, kind: str) -> Write:
        """One logical write, retried with the same key and body until it is acknowledged, is
        refused, or the retry deadline passes."""
        # BaRS wants a lower-case UUID for X-Request-Id; the others take any text.
        key = str(uuid.uuid4()) if kind == "bars" else f"load-{self._run}-{uuid.uuid4().hex}"
        path, body = self.request_for(kind, key)
        headers = self.headers_for(kind, key)
        write = Write(kind=kind, key=key)
        deadline = time.monotonic() + self.retry_deadline
        while True:
            write.attempts += 1
            wait = 0.2
            try:
                response = session.post(
                    self.base_url + path, json=body, headers=headers, timeout=self.timeout
                )
            except requests.RequestException as exc:
                # The exception's class and the start of its message (no request data in it).
                error = f"{type(exc).__name__}: {str(exc)[:60]}"
                self._record(Answer(self._now(), kind, 0, "", None, error=error))
                status = 0
            else:
                status = response.status_code
                retry_after = response.headers.get("Retry-After")
                self._record(
                    Answer(
                        self._now(),
                        kind,
                        status,
                        response.headers.get("Content-Type", ""),
                        retry_after,
                    )
                )
                if 200 <= status < 300:
                    write.acknowledged = True
                    write.final_status = status
                    write.record_id = record_id(kind, response.json())
                    return write
                if kind == "bars" and status == 409 and write.attempts > 1 and _duplicate(response):
                    # An earlier attempt was processed, its answer lost: acknowledged (the
                    # referral's id is not repeated; the tests find it by X-Request-Id).
                    write.acknowledged = True
                    write.final_status = status
                    return write
                if status not in RETRYABLE and not (kind == "bars" and status == 425):
                    write.final_status = status
                    write.detail = response.text[:300]
                    return write
                if retry_after and retry_after.isdigit():
                    wait = min(float(retry_after), self.max_wait)
            if time.monotonic() + wait > deadline:
                write.final_status = status
                write.detail = "retry deadline passed"
                return write
            time.sleep(wait)

    def _now(self) -> float:
        return time.monotonic() - self.results.started

    def _worker(self, offset: int) -> None:
        with requests.Session() as session:
            for kind in itertools.islice(itertools.cycle(KINDS), offset, None):
                if self._stop.is_set():
                    return
                write = self.send(session, kind)
                with self._lock:
                    self.results.writes.append(write)

    # Running --------------------------------------------------------------------------------

    def start(self) -> None:
        self.results.started = time.monotonic()
        for n in range(self.threads):
            thread = threading.Thread(target=self._worker, args=(n,), daemon=True)
            thread.start()
            self._workers.append(thread)

    def stop(self, join_timeout: float = 180.0) -> Results:
        """Stop starting new writes; wait for the ones in flight to finish their retries."""
        self._stop.set()
        for thread in self._workers:
            thread.join(join_timeout)
        stuck = [t for t in self._workers if t.is_alive()]
        assert not stuck, f"{len(stuck)} load threads still running after {join_timeout} s"
        return self.results

    def elapsed(self) -> float:
        return self._now()
