"""The directory list and the dashboard in a real browser (headless Chromium through
Playwright, issue 17 §3).

Protects what a navigator sees: the directory's second page shows the next services with
NHS.UK pagination that keeps the search's filters; a search by the name people use ("UCR")
finds the services; never-reported capacity reads "Not reported" with no highlight; the
dashboard fits a 320 px phone and a 1280 px desktop without sideways scrolling. Every page
passes axe-core (no serious or critical WCAG 2.2 AA violations) and is saved under
tests/screenshots/ (directory-page-1, directory-page-2, directory-synonym-search,
dashboard-narrow, dashboard-wide) for review.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from navigator.core.extensions import db
from tests.builders import load_directory, organisation, service
from tests.console import test_browser

# The browser, server and signed-in page fixtures of the console's browser tests.
browser, base_url, page, sign_in_as = (
    test_browser.browser,
    test_browser.base_url,
    test_browser.page,
    test_browser.sign_in_as,
)
check_page = test_browser.check_page
assert_no_sideways_scroll = test_browser.assert_no_sideways_scroll

pytestmark = pytest.mark.usefixtures("bedford_directory")


def more_services(app: Flask, count: int) -> None:
    """`count` befriending services (beside the fixture's three), each with its own number."""
    with app.app_context():
        load_directory(
            services=[
                service(
                    id=f"befriending-{n:03d}",
                    name=f"Befriending scheme {n:03d}",
                    service_type="befriending",
                    sector="voluntary",
                    contact={"public_phone": f"01632 960{n:03d}", "professional_phone": None},
                )
                for n in range(count)
            ],
            organisations=[organisation()],
        )
        db.session.remove()


def test_the_directory_pages_and_finds_services_by_the_names_people_use(
    app: Flask, sign_in_as: Callable[[str], Page]
) -> None:
    more_services(app, 135)  # 138 with the fixture's
    page = sign_in_as("navigator")
    page.get_by_role("link", name="Directory").click()
    caption = page.locator("#services-caption")
    expect(caption).to_contain_text("Showing 1 to 100 of 138 services")
    first = page.locator("#services-table tbody tr", has_text="Befriending scheme 000")
    expect(first).to_contain_text("01632 960000")
    expect(page.get_by_label("Include services that have closed down or are full")).to_be_visible()
    check_page(page, "directory-page-1")
    page.get_by_role("link", name="Next page").click()
    expect(caption).to_contain_text("Showing 101 to 138 of 138 services")
    expect(page.locator("#services-table")).not_to_contain_text("Befriending scheme 000")
    expect(page.get_by_role("link", name="Previous page")).to_be_visible()
    row = page.locator("#services-table tbody tr", has_text="UCR One")
    expect(row).to_contain_text("01632 960002")
    expect(row).to_contain_text("Professionals' line")
    expect(row).to_contain_text("Not reported")
    expect(row).not_to_have_class("nhsuk-table__row app-highlight-row")
    check_page(page, "directory-page-2")

    page.get_by_label("Name or description").fill("UCR")
    page.get_by_label("Service type").select_option("urgent_community_response")
    page.get_by_role("button", name="Search").click()
    expect(caption).to_contain_text("Showing 1 to 2 of 2 services")
    expect(page.locator("#services-table")).to_contain_text("UCR Two")
    # "2-hour urgent community response" is in no service's text: the synonyms find them.
    page.get_by_label("Name or description").fill("2-hour urgent community response")
    page.get_by_role("button", name="Search").click()
    expect(caption).to_contain_text("Showing 1 to 2 of 2 services")
    check_page(page, "directory-synonym-search")
    assert_no_sideways_scroll(page)


def test_paging_keeps_the_filters(app: Flask, sign_in_as: Callable[[str], Page]) -> None:
    more_services(app, 130)
    page = sign_in_as("navigator")
    page.goto("/directory?service_type=befriending&q=scheme")
    expect(page.locator("#services-caption")).to_contain_text("Showing 1 to 100 of 130")
    page.get_by_role("link", name="Next page").click()
    expect(page.locator("#services-caption")).to_contain_text("Showing 101 to 130 of 130")
    expect(page.get_by_label("Service type")).to_have_value("befriending")
    expect(page.get_by_label("Name or description")).to_have_value("scheme")


@pytest.mark.parametrize(("width", "name"), [(320, "dashboard-narrow"), (1280, "dashboard-wide")])
def test_the_dashboard_fits_a_phone_and_a_desktop(
    sign_in_as: Callable[[str], Page], width: int, name: str
) -> None:
    """With a long override reason (one unbroken word too), six months of measures and the
    overrides by month: no sideways scroll at 320 px (WCAG 1.4.10 reflow) or 1280 px; the
    wide tables scroll inside their own focusable region instead."""
    page = sign_in_as("supervisor")
    test_browser.fill_fall_call(page)
    page.get_by_role("button", name="Find the right service").click()
    page.get_by_label("Service to refer to instead").select_option("ucr-two")
    page.get_by_label("Why you chose a different service").fill(
        "The family asked for the team that already visits. " + "x" * 300
    )
    page.get_by_role("button", name="Override and refer").click()
    expect(page.get_by_text("Referral recorded for UCR Two")).to_be_visible()
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/dashboard")  # at 320 px the header's menu folds the link away
    expect(page.locator("#recent-overrides")).to_contain_text("already visits")
    expect(page.locator("#overrides-by-month")).to_be_visible()
    assert_no_sideways_scroll(page)
    check_page(page, name)
