"""After "Accept and refer", the navigator is told what is still theirs to do: a service that
takes referrals by phone is rung with the reference, and a walk-in service needs no referral.
Source: the fresh-eyes review of issue 17 — "Referral sent to NHS 111" for a phone-only
service read as handed over, and the case waited until it showed as overdue."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from navigator.core.extensions import db
from tests.builders import load_directory, organisation, service
from tests.console.calls.conftest import take_call
from tests.console.conftest import post_form


def _directory(app: Flask, method: str) -> None:
    with app.app_context():
        load_directory(
            services=[
                service(
                    id="ucr-one",
                    name="UCR One",
                    referral={"method": method, "info": "How to refer."},
                ),
                service(
                    id="ucr-two",
                    name="UCR Two",
                    postcode="MK40 1AA",
                    lat=52.2,
                    lng=-0.5,
                    referral={"method": method, "info": "How to refer."},
                ),
            ],
            organisations=[organisation()],
        )
        db.session.remove()


def _accept(client: FlaskClient) -> str:
    path = f"/calls/{take_call(client)}"
    accepted = post_form(client, f"{path}/decision", {"action": "accept"}, page=path)
    assert accepted.status_code == 302
    return client.get(path).text


@pytest.mark.parametrize(
    ("method", "told"),
    [
        ("phone", "Nothing is sent to them by navigator: phone 01632 960002 now"),
        ("walk_in", "They take no referrals: tell the caller how to go there"),
        ("online", "Referral sent to UCR "),
    ],
)
def test_the_navigator_is_told_what_is_still_theirs_to_do(
    app: Flask, sign_in: Callable[[str], FlaskClient], method: str, told: str
) -> None:
    _directory(app, method)
    page = _accept(sign_in("navigator"))
    assert told in page
