"""A BaRS referral's flags in a real browser (headless Chromium through Playwright, issue 16).

Protects what a navigator actually sees: the referrals list marks the referral, its page
opens with the safeguarding and reasonable-adjustment flags in a warning callout (safeguarding
first) above everything else about the referral, says which status responses reached the
sender and which did not, and the call page shows the same flags near its top. The sender's
hostile text is shown as text (no element it names exists, no script it carries runs). Both
pages pass axe-core (no serious or critical WCAG 2.2 AA violations) and are saved as
tests/screenshots/referral-bars-flags.png and call-bars-flags.png for review.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from tests.console import test_browser
from tests.console.test_bars_flags import ADJUSTMENT, OTHER, SAFEGUARDING, at, bars_case

# The browser, server and signed-in page fixtures of the console's browser tests.
browser, base_url, page, sign_in_as = (
    test_browser.browser,
    test_browser.base_url,
    test_browser.page,
    test_browser.sign_in_as,
)
check_page = test_browser.check_page

pytestmark = pytest.mark.usefixtures("bedford_directory")

HOSTILE = '<img id="xss" src="x" onerror="window.xssRan = true">'


def test_a_navigator_sees_the_flags_of_a_bars_referral_first(
    app: Flask, sign_in_as: Callable[[str], Page]
) -> None:
    navigation_id, referral_id = bars_case(
        app,
        flags=[
            OTHER,
            ADJUSTMENT,
            SAFEGUARDING,
            {"category": "reasonable_adjustment", "code": "x", "display": "Note", "text": HOSTILE},
        ],
        outbox=[
            {
                "referral_status": "accepted",
                "state": "sent",
                "attempts": 1,
                "created_at": at("2026-07-01T09:01:00"),
                "sent_at": at("2026-07-01T09:02:00"),
            },
            {
                "referral_status": "completed",
                "state": "failed",
                "attempts": 8,
                "created_at": at("2026-07-01T11:00:00"),
                "last_error": "HTTP 503 from the sender",
            },
        ],
    )
    page = sign_in_as("navigator")
    page.on("dialog", lambda dialog: dialog.dismiss())

    page.goto("/referrals")
    row = page.locator("tr", has=page.locator(f"a[href='/referrals/{referral_id}']"))
    expect(row.locator(".app-bars-marker")).to_have_text(
        ["Safeguarding", "Reasonable adjustment"], use_inner_text=True
    )
    row.get_by_role("link").click()

    callout = page.locator("#bars-flags")
    expect(callout).to_be_visible()
    expect(callout.get_by_role("heading", level=2)).to_contain_text(
        "Safeguarding and reasonable adjustments"
    )
    items = callout.locator("li")
    expect(items).to_have_count(3)
    expect(items.nth(0)).to_contain_text("Safeguarding concern")
    expect(items.nth(0)).to_contain_text("speak to the patient alone")
    expect(items.nth(1)).to_contain_text("Hearing impaired")
    expect(items.nth(2)).to_contain_text(HOSTILE)  # shown as text
    assert page.locator("#xss").count() == 0
    assert page.evaluate("window.xssRan") is None
    # Above the summary of the referral: the first thing after its heading.
    callout_top = callout.bounding_box()
    summary_top = page.locator(".nhsuk-summary-list").bounding_box()
    assert callout_top and summary_top and callout_top["y"] < summary_top["y"]
    expect(page.locator("#bars-other-flags")).to_contain_text("Key safe: Code 1234")
    expect(page.locator("#bars-sender")).to_have_text(
        "Received from NHS 111 Example by BaRS (the Booking and Referral Standard)."
    )
    expect(page.locator("#bars-patient-instruction")).to_contain_text("Call 111 again")
    deliveries = page.locator("#bars-deliveries li")
    expect(deliveries.nth(0)).to_contain_text(
        "Accepted: sent to NHS 111 Example on Wednesday 1 July"
    )
    expect(deliveries.nth(1)).to_contain_text("NHS 111 Example has not been told – phone them")
    check_page(page, "referral-bars-flags")

    page.get_by_role("link", name="See the call").click()
    expect(page).to_have_url(f"{page.url.split('/calls/')[0]}/calls/{navigation_id}")
    callout = page.locator("#bars-flags")
    expect(callout).to_be_visible()
    expect(callout.locator("li").nth(0)).to_contain_text("Safeguarding concern")
    reasons_top = page.locator("#reasons").bounding_box()
    callout_top = callout.bounding_box()
    assert callout_top and reasons_top and callout_top["y"] < reasons_top["y"]
    assert page.locator("#xss").count() == 0
    check_page(page, "call-bars-flags")
