"""The "To classify" queue in a real browser (Debian's Chromium driven by Playwright, as in
test_browser.py): a supervisor follows the directory's link to the queue, classifies a feed's
service with the keyboard-accessible form, and is back in an empty queue; every page passes
axe-core (no serious or critical WCAG 2.2 AA violations)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from navigator.core.extensions import db
from tests.builders import load_directory, organisation, service
from tests.console import test_browser as shared

# The browser, the server and sign-in are test_browser.py's fixtures, and its accessibility
# check (axe-core) with a screenshot.
browser, base_url, page, sign_in_as = (
    shared.browser,
    shared.base_url,
    shared.page,
    shared.sign_in_as,
)
check_page = shared.check_page


@pytest.fixture
def feed_service(app: Flask) -> None:
    with app.app_context():
        load_directory(
            organisations=[organisation()],
            services=[
                service(
                    id="befriend",
                    name="Friendly Calls <script>alert(1)</script>",
                    service_type="unclassified",
                    sector="voluntary",
                    needs=[],
                    source_terms=[
                        {
                            "taxonomy": "esdServiceTypes",
                            "code": "http://id.esd.org.uk/service/1126",
                            "name": "Befriending services",
                        }
                    ],
                )
            ],
        )
        db.session.remove()


@pytest.mark.usefixtures("feed_service")
def test_a_supervisor_classifies_a_service_from_the_queue(
    sign_in_as: Callable[[str], Page],
) -> None:
    page = sign_in_as("supervisor")
    page.get_by_role("link", name="Directory").click()
    expect(page.get_by_text("Not yet classified").first).to_be_visible()
    page.get_by_role("link", name="To classify: 1 service not yet classified").click()
    expect(page.locator("#to-classify-table")).to_contain_text("Befriending services")
    check_page(page, "to-classify")
    page.get_by_role("link", name="Classify Friendly Calls").click()
    check_page(page, "classify")
    page.get_by_role("button", name="Save classification").click()  # nothing chosen yet
    expect(page.get_by_text("There is a problem")).to_be_visible()
    check_page(page, "classify-errors")
    page.get_by_label("Service type").select_option("befriending")
    page.get_by_label("Lonely or isolated").check()
    page.get_by_label("Member of the public").check()
    page.get_by_label("Relative, friend or unpaid carer").check()
    page.get_by_label("Youngest age seen (years)").fill("18")
    page.get_by_role("button", name="Save classification").click()
    expect(page.get_by_text("classified as Befriending")).to_be_visible()
    expect(page.locator("#nothing-to-classify")).to_be_visible()
