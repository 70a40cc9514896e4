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


LONG_NAME = "Unbroken" + "x" * 292  # 300 characters, no space (review of issue 15, finding 18)


@pytest.fixture
def long_feed_service(app: Flask) -> None:
    with app.app_context():
        load_directory(
            organisations=[organisation()],
            services=[
                service(
                    id="long-name",
                    name=LONG_NAME,
                    description="y" * 10_000,
                    service_type="unclassified",
                    sector="voluntary",
                    needs=[],
                    source_terms=[
                        {"taxonomy": "z" * 200, "code": "http://id.esd.org.uk/service/1126"}
                    ],
                )
            ],
        )
        db.session.remove()


def broken_words(page: Page, selector: str) -> list[str]:
    """The words in the first element matching `selector` that are laid out across more than
    one line (a Range over one word gives one box per line it is on)."""
    return list(
        page.eval_on_selector(
            selector,
            """element => {
                const broken = [];
                const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
                for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                    for (const match of node.textContent.matchAll(/\\S+/g)) {
                        const range = document.createRange();
                        range.setStart(node, match.index);
                        range.setEnd(node, match.index + match[0].length);
                        const tops = new Set([...range.getClientRects()]
                            .filter(rect => rect.width > 1)
                            .map(rect => Math.round(rect.top)));
                        if (tops.size > 1) broken.push(match[0]);
                    }
                }
                return broken;
            }""",
        )
    )


def fits_the_page(page: Page) -> None:
    width = page.evaluate("document.documentElement.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    box = page.locator("h1").bounding_box()
    assert box is not None and box["x"] + box["width"] <= width


@pytest.mark.usefixtures("long_feed_service")
def test_a_long_unbroken_name_wraps_and_our_own_words_stay_whole(
    sign_in_as: Callable[[str], Page],
) -> None:
    """A feed's 300-character unbroken name wraps inside the page (it ran off the <h1>), while
    the queue's own headings, dates and "Classify" link and the directory's "Open now" keep
    their words whole (they were squeezed to "Lo ad ed", "Cl as si fy" and "Ye s"). The
    screenshots are tests/screenshots/long-*.png."""
    page = sign_in_as("supervisor")
    page.set_viewport_size({"width": 1024, "height": 900})
    page.goto("/to-classify")
    check_page(page, "long-to-classify")
    page.goto("/to-classify")
    for selector in (
        "#to-classify-table thead",
        "#to-classify-table tbody td:nth-child(2)",  # the organisation's name
        "#to-classify-table tbody td:nth-child(4)",  # loaded
        "#to-classify-table tbody td:nth-child(6)",  # the "Classify" link
    ):
        assert broken_words(page, selector) == [], selector
    # ...while the feed's long name does wrap (and so the check above can see a broken word).
    assert broken_words(page, "#to-classify-table tbody td:nth-child(1)") == [LONG_NAME]
    assert page.evaluate("document.documentElement.scrollWidth") <= page.evaluate(
        "document.documentElement.clientWidth"
    )
    page.get_by_role("link", name=f"Classify {LONG_NAME}").click()
    fits_the_page(page)
    expect(page.locator("#feed-description")).to_have_text("y" * 599 + "…")  # 600 characters in all
    page.get_by_role("button", name="Save classification").click()
    expect(page.get_by_text("There is a problem")).to_be_visible()
    fits_the_page(page)
    check_page(page, "long-classify-errors")
    page.goto("/directory/long-name")
    fits_the_page(page)
    page.goto("/directory")
    cells = [f"#services-table tbody td:nth-child({n})" for n in range(2, 6)]
    for selector in ["#services-table thead", *cells]:
        assert broken_words(page, selector) == [], selector
    check_page(page, "long-directory")
