"""The calls list: a search by NHS number is posted (never in a URL or access log) and
audited, and so is the new-call page's patient lookup."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from navigator.patients.models import AuditEvent
from tests.console.calls.conftest import count, take_call
from tests.console.conftest import post_form

pytestmark = pytest.mark.usefixtures("bedford_directory")


def test_search_by_nhs_number_is_posted_and_audited(
    sign_in: Callable[[str], FlaskClient], app: Flask
) -> None:
    client = sign_in("navigator")
    navigation_id = take_call(client)
    with app.app_context():
        before = count(AuditEvent)
    found = post_form(client, "/calls", {"nhs_number": "943 476 5919"})
    assert navigation_id in found.text
    with app.app_context():
        assert count(AuditEvent) > before
    prefill = post_form(client, "/calls/new/find", {"nhs_number": "9434765919"}, page="/calls/new")
    assert 'value="Pat Example"' in prefill.text
