"""Finding the patient by NHS number keeps what the navigator has already entered, in a real
browser (headless Chromium through Playwright).

Source: the fresh-eyes review of issue 17 — a navigator ticked "Possible sepsis", chose the
caller, wrote notes, then used "Find patient": the page came back with the patient filled in
and the red flag, the "Call 999 now" box, the caller and the notes gone. A red flag ticked
before the look-up must still be ticked, and 999 still offered, after it.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from navigator.core.extensions import db
from navigator.patients.models import Patient
from tests.console import test_browser
from tests.console.test_classify_browser import broken_words

browser, base_url, page, sign_in_as = (
    test_browser.browser,
    test_browser.base_url,
    test_browser.page,
    test_browser.sign_in_as,
)

pytestmark = pytest.mark.usefixtures("bedford_directory")

HELD = "9434765919"  # a valid NHS number (check digit), held below


def test_finding_the_patient_keeps_a_ticked_red_flag_and_the_call_so_far(
    app: Flask, sign_in_as: Callable[[str], Page]
) -> None:
    with app.app_context():
        db.session.add(
            Patient(id="held-1", nhs_number=HELD, name="Maureen Larkfield", sex="female")
        )
        db.session.commit()
        db.session.remove()
    page = sign_in_as("navigator")
    page.get_by_label("Chest pain").check()
    page.get_by_label("Who is calling").select_option("relative")
    page.get_by_label("Caller's name").fill("Sam Caller")
    page.get_by_label("Notes").fill("Pain spreading to the left arm")
    page.get_by_label("Find the patient by NHS number").fill(HELD)
    page.get_by_role("button", name="Find patient").click()
    # The record's details are filled in...
    expect(page.get_by_label("Full name")).to_have_value("Maureen Larkfield")
    # ...and nothing the navigator entered is lost: the flag, 999, the caller, the notes.
    expect(page.get_by_label("Chest pain")).to_be_checked()
    expect(page.locator("#red-flag-now")).to_be_visible()
    expect(page.get_by_label("Who is calling")).to_have_value("relative")
    expect(page.get_by_label("Caller's name")).to_have_value("Sam Caller")
    expect(page.get_by_label("Notes")).to_have_value("Pain spreading to the left arm")


def test_the_calls_list_keeps_its_words_whole(sign_in_as: Callable[[str], Page]) -> None:
    """The calls list's cells wrap at spaces, never inside a word (fresh-eyes review of issue
    17: "Emergen cy", "Overridde n", "Bedfords hire" at 1280 px)."""
    page = sign_in_as("navigator")
    page.get_by_label("Chest pain").check()
    page.get_by_role("button", name="Record the 999 call").click()
    page.set_viewport_size({"width": 1024, "height": 900})
    page.goto("/calls")
    cells = page.locator("#calls-table tbody td")
    assert cells.count() > 0
    for i in range(cells.count()):
        assert broken_words(page, f"#calls-table tbody td >> nth={i}") == [], i
