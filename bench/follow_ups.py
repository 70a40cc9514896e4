"""1,000 due follow-ups through the fake Twilio with the worker's dispatch code path
(`navigator.sms.worker.dispatch_due` with its `SendPool`, the real `twilio` client):
throughput, and proof that none is lost or sent twice.

    .venv/bin/python bench/follow_ups.py [--messages 1000] [--concurrency 8] [--database-url URL]

`--concurrency` is SMS_SEND_CONCURRENCY (Twilio calls in flight at once; 1 sends one by one,
as before issue 18). The fake Twilio and the app that takes its receipts run in this process
too, so they share its interpreter lock with the senders.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.request import urlopen

from common import BLMK, fresh_app, load
from sqlalchemy import insert, select
from werkzeug.serving import make_server

from navigator.core.db import transaction, utcnow
from navigator.core.extensions import current_session, db
from navigator.core.settings import DEV_TWILIO_ACCOUNT_SID, DEV_TWILIO_AUTH_TOKEN
from navigator.directory.loader import read_documents
from navigator.navigation.models import Navigation
from navigator.sms.clients.twilio import TwilioSmsClient
from navigator.sms.fake_twilio import FakeTwilio
from navigator.sms.models import SmsMessage
from navigator.sms.outbox import OutboxSettings, message_counts
from navigator.sms.plan import QuietHours
from navigator.sms.worker import SendPool, dispatch_due


class OtherProcessFake:
    """`navigator fake-twilio` in a process of its own, on a free port; `sent()` asks it."""

    def __init__(self, public_base_url: str) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        folder = tempfile.mkdtemp(prefix="navigator-bench-fake-")
        env = os.environ | {
            "PUBLIC_BASE_URL": public_base_url,
            "DATABASE_URL": f"sqlite:///{folder}/unused.db",  # the command builds an app
            "NAVIGATOR_INSTANCE_DIR": folder,
        }
        command = [str(Path(sys.executable).parent / "navigator"), "fake-twilio"]
        self.process = subprocess.Popen(
            [*command, "--port", str(port), "--callback-delay", "0.01"],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                self.sent()
                return
            except OSError:
                time.sleep(0.2)
        raise SystemExit("the fake Twilio did not start")

    def sent(self) -> list[dict[str, Any]]:
        with urlopen(f"{self.url}/_fake/messages", timeout=30) as response:  # noqa: S310
            return list(json.load(response)["messages"])

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--database-url")
    parser.add_argument("--concurrency", type=int, default=8, help="SMS_SEND_CONCURRENCY")
    parser.add_argument(
        "--fake-process",
        action="store_true",
        help="run the fake Twilio as its own process (`navigator fake-twilio`), as Twilio is "
        "elsewhere in production, instead of a thread of this process",
    )
    parser.add_argument(
        "--no-receipts",
        action="store_true",
        help="no delivery receipts (messages end `sent`): this process is then the scheduler alone",
    )
    args = parser.parse_args()
    app, _ = fresh_app(args.database_url)
    load(app, read_documents(BLMK))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    app.config["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    # Without receipts, the fake's callbacks go to a closed port: the process measured is then
    # the scheduler alone (receipts are the web nodes' work in production).
    # (Twilio posts receipts to each message's StatusCallback, under PUBLIC_BASE_URL.)
    if args.no_receipts:
        app.config["PUBLIC_BASE_URL"] = "http://127.0.0.1:9"
    fake = OtherProcessFake(app.config["PUBLIC_BASE_URL"]) if args.fake_process else None
    local = None
    if fake is None:
        local = FakeTwilio(
            account_sid=DEV_TWILIO_ACCOUNT_SID,
            auth_token=DEV_TWILIO_AUTH_TOKEN,
            public_base_url=app.config["PUBLIC_BASE_URL"],
            callback_delay=0.01,
        ).start()
        local.callbacks_enabled = not args.no_receipts
    app.config |= {
        "TWILIO_ACCOUNT_SID": DEV_TWILIO_ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": DEV_TWILIO_AUTH_TOKEN,
        "TWILIO_FROM": "+447700900000",
        "TWILIO_API_BASE": fake.url if fake else local.url,  # type: ignore[union-attr]
    }
    now = utcnow()
    with app.app_context():
        session = current_session()
        navigations, messages = [], []
        for number in range(args.messages):
            nav_id = str(uuid.uuid4())
            navigations.append(
                {
                    "id": nav_id,
                    "created_by": "bench",
                    "called_at": now,
                    "local_month": now.strftime("%Y-%m"),
                    "caller_role": "care_home",
                    "postcode": "MK42 9DJ",
                    "urgency": "urgent",
                    "rules_version": "bench",
                    "rule_id": "bench",
                    "result": {},
                }
            )
            messages.append(
                {
                    "id": str(uuid.uuid4()),
                    "navigation_id": nav_id,
                    "service_id": "bedford-charter-house-care-home",
                    "follow_up": "ucr-4h",
                    "to_number": f"+447700900{number % 1000:03d}",
                    "body": f"NHS BLMK care navigation, ref B-{number}. Reply STOP to stop.",
                    "status": "scheduled",
                    "due_at": now - timedelta(seconds=1),
                    "next_attempt_at": now - timedelta(seconds=1),
                    "attempts": 0,
                }
            )
        with transaction(session):
            session.execute(insert(Navigation), navigations)
            session.execute(insert(SmsMessage), messages)
        client = TwilioSmsClient.from_config(app.config)
        settings = OutboxSettings.from_config(app.config)
        load_before = os.getloadavg()[0]
        cpu_started = time.process_time()
        started = time.perf_counter()
        with SendPool(
            app, args.concurrency, lambda: TwilioSmsClient.from_config(app.config)
        ) as pool:
            report = dispatch_due(session, client, settings, QuietHours(0, 0), pool=pool)
        elapsed = time.perf_counter() - started
        # This process's CPU (senders, fake Twilio, receipts server): a figure the other
        # processes on a shared machine do not move, unlike messages/s.
        cpu = time.process_time() - cpu_started
        load_after = os.getloadavg()[0]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            session.rollback()  # end the read, to see the receipts committed since
            final = "sent" if args.no_receipts else "delivered"
            if message_counts(session).get(final, 0) == args.messages:
                break
            time.sleep(0.2)
        counts = message_counts(session)
        bodies = set(session.scalars(select(SmsMessage.body)))
        db.session.remove()
    sent = Counter(m["body"] for m in (fake.sent() if fake else local.sent()))  # type: ignore[union-attr]
    lost = len(bodies - set(sent))
    duplicated = sum(n - 1 for n in sent.values() if n > 1)
    print(
        f"follow_ups ({app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}, "
        f"concurrency {args.concurrency}): "
        f"{report.sent} sent in {elapsed:.2f} s = {report.sent / elapsed:.0f} messages/s; "
        f"statuses {counts}; lost {lost}; duplicated {duplicated}; "
        f"CPU of this process {cpu:.1f} s ({1000 * cpu / max(report.sent, 1):.1f} ms/message); "
        f"load average {load_before:.1f} -> {load_after:.1f} on {os.cpu_count()} CPUs"
    )
    (fake or local).stop()  # type: ignore[union-attr]
    server.shutdown()
    assert lost == 0, lost
    assert duplicated == 0, duplicated


if __name__ == "__main__":
    main()
