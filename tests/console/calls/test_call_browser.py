"""The call under time pressure, in a real browser (headless Chromium through Playwright,
issue 17 §2).

Protects: ticking a red flag shows "Call 999 now" and a button to record the 999 call inside
the red-flag box, within the window, and pressing it records the call as a 999 call (as the
form's own button does, which is all a browser without JavaScript has); choosing a care home
fills in its postcode; the call page leads with how to reach the service and shows what the
call was beside the recommendation, with no raw value; the calls list says when each call was
taken. Every page passes axe-core and is saved under tests/screenshots/ for review.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.console import test_browser

# The browser, server and signed-in page fixtures of the console's browser tests.
browser, base_url, page, sign_in_as = (
    test_browser.browser,
    test_browser.base_url,
    test_browser.page,
    test_browser.sign_in_as,
)
check_page = test_browser.check_page

pytestmark = pytest.mark.usefixtures("bedford_directory")

ISO_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def assert_no_raw_values(page: Page) -> None:
    text = page.locator("main").inner_text()
    for raw in (
        "None\n",
        "None\t",
        ": None",
        "{'",
        "fallback: fallback",
        "(stale)",
        ".;",
        "recommended by rule",
    ):
        assert raw not in text, f"{raw!r} on {page.url}"
    assert not ISO_INSTANT.search(text), ISO_INSTANT.search(text)


def test_ticking_a_red_flag_offers_999_in_the_box_and_records_it(
    sign_in_as: Callable[[str], Page],
) -> None:
    page = sign_in_as("navigator")
    now = page.locator("#red-flag-now")
    expect(now).to_be_hidden()
    check_page(page, "new-call")
    page.get_by_label("Chest pain").check()
    expect(now).to_be_visible()
    expect(now).to_contain_text("Call 999 now")
    button = now.get_by_role("button", name="Record the 999 call")
    expect(button).to_be_in_viewport()
    # Inside the red-flag box, not 2,400 px below it.
    box = page.locator("#red-flag-box").bounding_box()
    at = button.bounding_box()
    assert box and at and box["y"] <= at["y"] and at["y"] + at["height"] <= box["y"] + box["height"]
    check_page(page, "new-call-red-flag-box")
    page.get_by_label("Chest pain").uncheck()
    expect(now).to_be_hidden()
    page.get_by_label("Chest pain").check()
    button.click()
    alert = page.get_by_role("alert").first
    expect(alert).to_contain_text("Red flag – call 999 now")
    expect(alert.locator("#red-flags-reported")).to_have_text("Reported: Chest pain.")
    expect(page.locator("#call-facts")).to_contain_text("Chest pain")
    expect(page.locator("#reach")).not_to_contain_text("Capacity")  # not on a 999 answer
    assert_no_raw_values(page)


@pytest.fixture
def no_script_page(browser: Browser, base_url: str) -> Iterator[Page]:
    context = browser.new_context(base_url=base_url, java_script_enabled=False, bypass_csp=True)
    yield context.new_page()
    context.close()


def test_without_javascript_a_red_flag_is_recorded_by_the_forms_button(
    no_script_page: Page, app: object
) -> None:
    from tests.console.test_browser import console_user, db

    page = no_script_page
    with app.app_context():  # type: ignore[attr-defined]
        email, password = console_user(role="navigator")
        db.session.remove()
    page.goto("/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Chest pain").check()
    expect(page.locator("#red-flag-now")).to_be_hidden()  # nothing changes without script
    page.get_by_role("button", name="Find the right service").click()
    expect(page.get_by_role("alert").first).to_contain_text("Red flag – call 999 now")
    expect(page.locator("#red-flags-reported")).to_have_text("Reported: Chest pain.")


def test_a_care_home_call_reads_back_and_leads_with_how_to_reach(
    sign_in_as: Callable[[str], Page],
) -> None:
    page = sign_in_as("navigator")
    page.get_by_label("Who is calling").select_option("care_home")
    page.get_by_label("Caller's name").fill("Jo Carer")
    home = page.get_by_label("Care home (if the patient lives in one)")
    home.fill("Service care-home-a, Bedford MK42 9DJ")
    home.dispatch_event("change")
    expect(page.get_by_label("Postcode")).to_have_value("MK42 9DJ")
    page.get_by_label("Full name").fill("Edna Smith")
    page.get_by_label("Age in years").fill("87")
    page.get_by_label("Need", exact=True).select_option("fall_no_injury")
    page.get_by_label("Notes").fill("Found on the floor, no injury.")
    page.get_by_role("button", name="Find the right service").click()
    expect(page.locator("h1")).to_contain_text("Recommended:")
    headings = page.locator("main h2").all_inner_texts()
    assert headings[0].startswith("How to reach"), headings
    reach = page.locator("#reach")
    expect(reach).to_contain_text("Phone for the caller (Care home staff)")
    expect(reach).to_contain_text("How to refer")
    facts = page.locator("#call-facts")
    for text in (
        "Care home staff, Jo Carer",
        "Edna Smith",
        "87 years",
        "MK42 9DJ",
        "Service care-home-a",
    ):
        expect(facts).to_contain_text(text)
    expect(facts).to_contain_text("Fall, no injury")
    expect(facts).to_contain_text("Found on the floor, no injury.")
    expect(page.locator("#taken")).to_contain_text("Call taken ")
    assert_no_raw_values(page)
    check_page(page, "call-result")
    page.get_by_role("link", name="Calls", exact=True).click()
    expect(page.locator("#calls-table")).to_contain_text("Fall, no injury")
    assert_no_raw_values(page)
    check_page(page, "calls-list")
