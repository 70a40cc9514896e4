"""SMS fixtures: a care home that takes texts, and a live system (the app served on a real
port, the fake Twilio in a thread, the real `twilio` client between them)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import yaml
from flask import Flask
from sqlalchemy.orm import Session
from werkzeug.serving import BaseWSGIServer, make_server

from navigator import create_app
from navigator.core.db import utcnow
from navigator.core.extensions import db
from navigator.core.settings import DEV_TWILIO_ACCOUNT_SID, DEV_TWILIO_AUTH_TOKEN
from navigator.sms.clients.twilio import TwilioSmsClient
from navigator.sms.fake_twilio import FakeTwilio
from navigator.sms.models import SCHEDULED, SmsMessage
from navigator.sms.outbox import OutboxSettings
from navigator.sms.plan import DEFAULT_PATH
from navigator.sms.reference import FOLLOW_UP_PLAN
from navigator.sms.worker import DispatchReport, dispatch_due
from tests.builders import load_directory, organisation, service

HOME_NUMBER = "+447700900101"


def care_home(**extra: Any) -> dict[str, Any]:
    sms = {"number": "07700 900101", "consent": True, "consent_recorded_at": "2026-09-01T09:00:00Z"}
    return service(
        id="test-care-home", service_type="care_home", needs=[], **({"sms": sms} | extra)
    )


def load_care_home_directory(**home: Any) -> None:
    load_directory(
        organisations=[organisation()],
        services=[service(id="ucr", needs=["fall_no_injury"]), care_home(**home)],
    )


def care_home_call(**extra: Any) -> dict[str, Any]:
    return {
        "caller_role": "care_home",
        "need": "fall_no_injury",
        "age": 88,
        "postcode": "MK42 9DJ",
        "lives_in_care_home": True,
        "care_home_service_id": "test-care-home",
        "case_ref": "CASE-1",
    } | extra


def wait_for(condition: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def closed_port_url() -> str:
    """A local URL nothing listens on: connections to it are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@dataclass
class Live:
    app: Flask
    server: BaseWSGIServer
    fake: FakeTwilio

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def settings(self) -> OutboxSettings:
        return OutboxSettings.from_config(self.app.config)

    def client(self) -> TwilioSmsClient:
        """The real Twilio client, pointed at the fake."""
        return TwilioSmsClient.from_config(self.app.config)

    def make_due(self) -> None:
        """Time passes: every scheduled message is due now."""
        from sqlalchemy import update

        with self.app.app_context():
            db.session.execute(
                update(SmsMessage)
                .where(SmsMessage.status == SCHEDULED)
                .values(next_attempt_at=utcnow() - timedelta(seconds=1))
            )
            db.session.commit()
            db.session.remove()

    def statuses(self) -> list[str]:
        from sqlalchemy import select

        with self.app.app_context():
            try:
                return list(db.session.scalars(select(SmsMessage.status).order_by(SmsMessage.id)))
            finally:
                db.session.remove()

    def dispatch(self, **kwargs: Any) -> DispatchReport:
        with self.app.app_context():
            try:
                quiet = kwargs.pop("quiet", FOLLOW_UP_PLAN.get().quiet_hours)
                return dispatch_due(db.session(), self.client(), self.settings(), quiet, **kwargs)
            finally:
                db.session.remove()


@pytest.fixture(scope="session")
def follow_ups_without_quiet_hours(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The shipped follow-ups with quiet hours off, so tests that send "now" pass at night."""
    data = yaml.safe_load(DEFAULT_PATH.read_text())
    data["quiet_hours"] = {"start": "00:00", "end": "00:00"}
    path = tmp_path_factory.mktemp("sms") / "follow_ups.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


@pytest.fixture(scope="session")
def live_app(
    database_url: str, follow_ups_without_quiet_hours: str
) -> Iterator[tuple[Flask, BaseWSGIServer]]:
    app = create_app(
        {
            "NAVIGATOR_FOLLOW_UPS": follow_ups_without_quiet_hours,
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test-only-secret",
            "TWILIO_ACCOUNT_SID": DEV_TWILIO_ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": DEV_TWILIO_AUTH_TOKEN,
            "TWILIO_FROM": "+447700900000",
            "SMS_HTTP_TIMEOUT_SECONDS": 0.5,
            "SMS_RETRY_BASE_SECONDS": 0.0,
            "SMS_SENDING_LEASE_SECONDS": 1.5,
            "LOG_LEVEL": "WARNING",
        }
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    app.config["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, server
    server.shutdown()
    server.server_close()  # the listening socket too, not left for the garbage collector


@pytest.fixture
def live(live_app: tuple[Flask, BaseWSGIServer]) -> Iterator[Live]:
    app, server = live_app
    fake = FakeTwilio(
        account_sid=DEV_TWILIO_ACCOUNT_SID,
        auth_token=DEV_TWILIO_AUTH_TOKEN,
        public_base_url=app.config["PUBLIC_BASE_URL"],
        callback_delay=0.02,
    ).start()
    app.config["TWILIO_API_BASE"] = fake.url
    yield Live(app, server, fake)
    fake.stop()


@pytest.fixture
def live_session(live: Live) -> Iterator[Session]:
    with live.app.app_context():
        yield db.session()
        db.session.remove()


@pytest.fixture
def due_messages(live: Live, live_session: Session, auth: dict[str, dict[str, str]]) -> list[str]:
    """Two follow-ups (4 h and 24 h) of one navigation, both due now; their ids."""
    load_care_home_directory()
    response = live.app.test_client().post(
        "/api/v1/navigations", json=care_home_call(), headers=auth["integrator"]
    )
    assert response.status_code == 201, response.json
    live.make_due()
    return [f["id"] for f in (response.json or {})["follow_ups"]]
