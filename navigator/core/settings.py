"""Settings read from environment variables (documented in `.env.example`)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def instance_dir() -> Path:
    path = Path(os.environ.get("NAVIGATOR_INSTANCE_DIR", PROJECT_ROOT / "instance"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url() -> str:
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance_dir() / 'navigator.db'}"
    # psycopg 3 is the driver we ship; accept the plain URLs operators usually have.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class SettingsError(RuntimeError):
    """A setting is missing or wrong: navigator refuses to start, saying which and why."""


def node_local_secret_key() -> str:
    """A SECRET_KEY generated once and kept under instance/: only for the embedded SQLite
    database, where everything runs on one machine."""
    path = instance_dir() / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def resolve_secret_key(config: Mapping[str, Any]) -> str:
    """The SECRET_KEY to sign sessions, CSRF tokens and device cookies with.

    Given (environment or config): that. Otherwise, on SQLite (embedded: one machine, so one
    node) a key generated once per instance directory. On any other database several nodes
    may serve the same users behind a load balancer, and each would generate a different key:
    a console session signed by one node would be refused by the next. So there it must be
    set, to the same value on every node. Raises SettingsError saying so."""
    if key := config.get("SECRET_KEY"):
        return str(key)
    if str(config["SQLALCHEMY_DATABASE_URI"]).startswith("sqlite"):
        return node_local_secret_key()
    raise SettingsError(
        "SECRET_KEY is not set. With DATABASE_URL on a database server, navigator may run on "
        "several nodes, which must all sign console sessions with the same key: set SECRET_KEY "
        "to the same long random value on every node (generate one with "
        "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`). "
        "See docs/deployment.md."
    )


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    return default if not raw else raw.strip().lower() in ("1", "true", "yes", "on")


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw else default


# Used only when TWILIO_API_BASE points at a local fake and no credentials are given, so
# `scripts/run` shows the whole SMS loop without a Twilio account.
DEV_TWILIO_ACCOUNT_SID = "AC" + "0" * 32
DEV_TWILIO_AUTH_TOKEN = "dev-fake-twilio-auth-token"  # noqa: S105 - only ever for the local fake
DEV_TWILIO_FROM = "+447700900000"


def _is_local(url: str) -> bool:
    return url.startswith(("http://127.0.0.1", "http://localhost"))


def twilio_settings() -> dict[str, Any]:
    api_base = os.environ.get("TWILIO_API_BASE", "").rstrip("/") or None
    dev = api_base is not None and _is_local(api_base)
    return {
        "TWILIO_ACCOUNT_SID": os.environ.get("TWILIO_ACCOUNT_SID")
        or (DEV_TWILIO_ACCOUNT_SID if dev else None),
        "TWILIO_AUTH_TOKEN": os.environ.get("TWILIO_AUTH_TOKEN")
        or (DEV_TWILIO_AUTH_TOKEN if dev else None),
        "TWILIO_FROM": os.environ.get("TWILIO_FROM")
        or (
            DEV_TWILIO_FROM if dev and not os.environ.get("TWILIO_MESSAGING_SERVICE_SID") else None
        ),
        "TWILIO_MESSAGING_SERVICE_SID": os.environ.get("TWILIO_MESSAGING_SERVICE_SID") or None,
        "TWILIO_API_BASE": api_base,
        # Sending: explicit HTTP timeout, bounded attempts with exponential backoff, the lease
        # after which a message stuck in `sending` is checked with Twilio and re-queued.
        "SMS_HTTP_TIMEOUT_SECONDS": _float("SMS_HTTP_TIMEOUT_SECONDS", 10.0),
        "SMS_MAX_ATTEMPTS": _int("SMS_MAX_ATTEMPTS", 6),
        "SMS_RETRY_BASE_SECONDS": _float("SMS_RETRY_BASE_SECONDS", 30.0),
        "SMS_RETRY_MAX_SECONDS": _float("SMS_RETRY_MAX_SECONDS", 1800.0),
        "SMS_SENDING_LEASE_SECONDS": _float("SMS_SENDING_LEASE_SECONDS", 120.0),
        "SMS_BATCH_SIZE": _int("SMS_BATCH_SIZE", 100),
        # The scheduler refuses to start without Twilio settings unless this says texts are
        # deliberately off (it then sends only BaRS responses; follow-ups stay queued).
        "SMS_DISABLED": _flag("SMS_DISABLED", False),
        # Twilio calls in flight at once while a claimed batch is sent (threads, each with its
        # own database session: keep it below the engine's pool size, 5 + 10 overflow).
        "SMS_SEND_CONCURRENCY": _int("SMS_SEND_CONCURRENCY", 8),
        "SMS_DISPATCH_INTERVAL_SECONDS": _float("SMS_DISPATCH_INTERVAL_SECONDS", 5.0),
        "SMS_SWEEP_INTERVAL_SECONDS": _float("SMS_SWEEP_INTERVAL_SECONDS", 60.0),
    }


def settings_from_env() -> dict[str, Any]:
    return {
        "SQLALCHEMY_DATABASE_URI": database_url(),
        # hide_parameters: a failed statement's error (and its log line) never carries the
        # values bound to it, which are patient data on most tables (review of issue 16: a
        # DataError logged a BaRS message's safety-netting text and flags).
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "hide_parameters": True},
        # Resolved by `resolve_secret_key` once the app's config is complete: required, and
        # shared by every node, unless the database is the embedded SQLite one.
        "SECRET_KEY": os.environ.get("SECRET_KEY") or None,
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
        "NAVIGATOR_DIRECTORY_DATA": os.environ.get(
            "NAVIGATOR_DIRECTORY_DATA", str(PROJECT_ROOT / "directory_of_services")
        ),
        "NAVIGATOR_RULES": os.environ.get(
            "NAVIGATOR_RULES", str(PROJECT_ROOT / "navigator" / "rules" / "rulesets" / "blmk.yaml")
        ),
        "NAVIGATOR_POPULATION": os.environ.get(
            "NAVIGATOR_POPULATION",
            str(PROJECT_ROOT / "directory_of_services" / "population" / "ons-mid-2020.yaml"),
        ),
        "NAVIGATOR_FOLLOW_UPS": os.environ.get(
            "NAVIGATOR_FOLLOW_UPS", str(PROJECT_ROOT / "navigator" / "sms" / "follow_ups.yaml")
        ),
        **twilio_settings(),
        # Capacity: how long an amber/red status lasts when the service does not say.
        "CAPACITY_DEFAULT_RESET_MINUTES": _int("CAPACITY_DEFAULT_RESET_MINUTES", 240),
        "CAPACITY_STALE_HOURS": _int("CAPACITY_STALE_HOURS", 24),
        "ASSURANCE_STALE_DAYS": _int("ASSURANCE_STALE_DAYS", 90),
        # Directory index refresh (directory/index.py): a change naming at most this many
        # services is applied by the request that sees it; a full rebuild runs in that request
        # only when the last one took less than this many milliseconds, else in the background.
        "DIRECTORY_INDEX_INLINE_APPLY_MAX": _int("DIRECTORY_INDEX_INLINE_APPLY_MAX", 50),
        "DIRECTORY_INDEX_INLINE_BUILD_MS": _int("DIRECTORY_INDEX_INLINE_BUILD_MS", 50),
        # Minutes a referral may wait for acceptance or rejection before it is overdue.
        "REFERRAL_ACK_MINUTES": {
            urgency: _int(f"REFERRAL_ACK_MINUTES_{urgency.upper()}", default)
            for urgency, default in (
                ("emergency", 15),
                ("urgent", 30),
                ("same_day", 120),
                ("within_72h", 480),
                ("routine", 1440),
            )
        },
        # BaRS (issue 16). Status responses go to a sender's `MessageHeader.source.endpoint`
        # only when it is an https (or loopback http) URL under one of these registered URLs
        # (comma-separated; navigator.bars.endpoints); any other endpoint is refused with 422, so a
        # client cannot make navigator post patient data to a host nobody registered.
        "BARS_SENDER_ENDPOINTS": tuple(
            p.strip() for p in os.environ.get("BARS_SENDER_ENDPOINTS", "").split(",") if p.strip()
        ),
        # A retry of an X-Request-Id still being processed this many seconds after it was
        # claimed takes the claim over (the first attempt died); before that it gets 425.
        "BARS_PROCESSING_LEASE_SECONDS": _float("BARS_PROCESSING_LEASE_SECONDS", 30.0),
        # The outbox of servicerequest-response messages, sent by `navigator scheduler`.
        "BARS_HTTP_TIMEOUT_SECONDS": _float("BARS_HTTP_TIMEOUT_SECONDS", 10.0),
        "BARS_MAX_ATTEMPTS": _int("BARS_MAX_ATTEMPTS", 10),
        "BARS_RETRY_BASE_SECONDS": _float("BARS_RETRY_BASE_SECONDS", 30.0),
        "BARS_RETRY_MAX_SECONDS": _float("BARS_RETRY_MAX_SECONDS", 1800.0),
        "BARS_SENDING_LEASE_SECONDS": _float("BARS_SENDING_LEASE_SECONDS", 120.0),
        "BARS_DISPATCH_INTERVAL_SECONDS": _float("BARS_DISPATCH_INTERVAL_SECONDS", 5.0),
        # `navigator scheduler` fail-over (navigator.core.leader): how often a standby tries the
        # leader lock and the active process checks it still holds it (seconds). A standby takes
        # over within about this long of the active one dying; keep it well under 30.
        "SCHEDULER_LEADER_POLL_SECONDS": _float("SCHEDULER_LEADER_POLL_SECONDS", 5.0),
        # Console sessions: signed out after this many idle minutes; cookies only over HTTPS
        # unless PUBLIC_BASE_URL is plain http (local use).
        "CONSOLE_IDLE_MINUTES": _int("CONSOLE_IDLE_MINUTES", 30),
        # A session's last-seen time is written at most this often (seconds), not on every
        # request; the idle limit is measured to within this much.
        "CONSOLE_SESSION_TOUCH_SECONDS": _int("CONSOLE_SESSION_TOUCH_SECONDS", 60),
        # Failed authentication per source address: (failures, window in seconds) for bad API
        # keys and for failed console sign-ins (any account); more gets 429 until they age out.
        "AUTH_THROTTLE": {
            kind: (
                _int(f"AUTH_THROTTLE_{kind.upper()}_FAILURES", 20),
                _int(f"AUTH_THROTTLE_{kind.upper()}_WINDOW_SECONDS", 300),
            )
            for kind in ("api_key", "console")
        },
        # A browser that signed in to an account is exempt from the per-source console throttle
        # for that account for this many days (OWASP device cookies; navigator.auth.device_cookies).
        "CONSOLE_DEVICE_COOKIE_DAYS": _int("CONSOLE_DEVICE_COOKIE_DAYS", 90),
        # Reverse proxies in front of navigator whose X-Forwarded-For is trusted for the client
        # address (0: none; the socket's address is used).
        "TRUSTED_PROXIES": _int("TRUSTED_PROXIES", 0),
        "SESSION_COOKIE_SECURE": _flag(
            "SESSION_COOKIE_SECURE",
            os.environ.get("PUBLIC_BASE_URL", "http://").startswith("https://"),
        ),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_DURATION": 0,
        # CSRF tokens are checked by the console itself, so API and webhook POSTs are untouched.
        "WTF_CSRF_CHECK_DEFAULT": False,
        "WTF_CSRF_TIME_LIMIT": None,  # the session's idle timeout bounds a token's life
        # Hostile input: request bodies larger than this are refused with 413 before they are
        # read (Flask's MAX_CONTENT_LENGTH, enforced by werkzeug on Content-Length and on chunked
        # streams alike; navigator.web.edge checks it first, for every route).
        "MAX_CONTENT_LENGTH": _int("MAX_REQUEST_BYTES", 1024 * 1024),
        # JSON nested deeper than this (objects and arrays) is refused with 400.
        "MAX_JSON_DEPTH": _int("MAX_JSON_DEPTH", 32),
        # flask-smorest / OpenAPI
        "API_TITLE": "navigator API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "JSON_SORT_KEYS": False,
    }
