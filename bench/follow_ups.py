"""1,000 due follow-ups through the fake Twilio with the worker's dispatch code path
(`navigator.sms.worker.dispatch_due`, the real `twilio` client):
throughput, and proof that none is lost or sent twice.

    .venv/bin/python bench/follow_ups.py [--messages 1000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import threading
import time
import uuid
from collections import Counter
from datetime import timedelta

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
from navigator.sms.worker import dispatch_due


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    app, _ = fresh_app(args.database_url)
    load(app, read_documents(BLMK))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    app.config["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    fake = FakeTwilio(
        account_sid=DEV_TWILIO_ACCOUNT_SID,
        auth_token=DEV_TWILIO_AUTH_TOKEN,
        public_base_url=app.config["PUBLIC_BASE_URL"],
        callback_delay=0.01,
    ).start()
    app.config |= {
        "TWILIO_ACCOUNT_SID": DEV_TWILIO_ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": DEV_TWILIO_AUTH_TOKEN,
        "TWILIO_FROM": "+447700900000",
        "TWILIO_API_BASE": fake.url,
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
        started = time.perf_counter()
        report = dispatch_due(session, client, settings, QuietHours(0, 0))
        elapsed = time.perf_counter() - started
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            session.rollback()  # end the read, to see the receipts committed since
            if message_counts(session).get("delivered", 0) == args.messages:
                break
            time.sleep(0.2)
        counts = message_counts(session)
        bodies = set(session.scalars(select(SmsMessage.body)))
        db.session.remove()
    sent = Counter(m["body"] for m in fake.sent())
    lost = len(bodies - set(sent))
    duplicated = sum(n - 1 for n in sent.values() if n > 1)
    print(
        f"follow_ups ({app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}): "
        f"{report.sent} sent in {elapsed:.2f} s = {report.sent / elapsed:.0f} messages/s; "
        f"statuses {counts}; lost {lost}; duplicated {duplicated}"
    )
    fake.stop()
    server.shutdown()
    assert lost == 0, lost
    assert duplicated == 0, duplicated


if __name__ == "__main__":
    main()
