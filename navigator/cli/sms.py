"""`navigator scheduler` (active or standby: `navigator.sms.worker`) and
`navigator fake-twilio`: the SMS follow-up processes.

The SMS process modules are imported inside each command, so building the CLI (every app
start registers it) loads neither APScheduler nor the fake Twilio.
"""

from __future__ import annotations

import contextlib

import click
from flask import current_app
from flask.cli import with_appcontext

from navigator.core.settings import DEV_TWILIO_ACCOUNT_SID, DEV_TWILIO_AUTH_TOKEN


@click.command("scheduler")
@with_appcontext
def scheduler() -> None:
    """Send follow-up texts and BaRS responses (its own process; never inside web workers).

    Run any number: one is active (it holds the leader lock), the rest stand by and take over
    within SCHEDULER_LEADER_POLL_SECONDS of its death. Stops on SIGTERM."""
    # No unit of work here: the process runs for days; its jobs (`navigator.sms.worker`) open
    # their own, one per claim and one per message.
    from navigator.sms.worker import run_scheduler

    run_scheduler(current_app._get_current_object())  # type: ignore[attr-defined]


@click.command("fake-twilio")
@click.option("--port", type=int, default=8010, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--callback-delay", type=float, default=0.5, show_default=True)
@with_appcontext
def fake_twilio(port: int, host: str, callback_delay: float) -> None:
    """A local fake Twilio (messages API, signed callbacks, simulated replies and failures)."""
    from navigator.sms.fake_twilio import FakeTwilio

    config = current_app.config
    fake = FakeTwilio(
        account_sid=config["TWILIO_ACCOUNT_SID"] or DEV_TWILIO_ACCOUNT_SID,
        auth_token=config["TWILIO_AUTH_TOKEN"] or DEV_TWILIO_AUTH_TOKEN,
        public_base_url=config["PUBLIC_BASE_URL"],
        host=host,
        port=port,
        callback_delay=callback_delay,
    )
    click.echo(f"fake Twilio on {fake.url}; callbacks to {config['PUBLIC_BASE_URL']}")
    with contextlib.suppress(KeyboardInterrupt):
        fake.serve_forever()
