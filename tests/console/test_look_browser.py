"""Issue 17 §1 in a real browser (headless Chromium through Playwright): the console's font
and the plain-English pages of this part.

Protects: body text and headings render in the NHS design system's fallback stack (Arial,
sans-serif; https://service-manual.nhs.uk/design-system/styles/typography), never the
browser's serif default; the referral list and page name the patient with their age and the
service; a service's change history reads as sentences; the DTOC pages, users and the classify
queue show labels, names and NHS-style times; an empty DTOC form names each field. Every page
passes axe-core (no serious or critical WCAG 2.2 AA violations) and is saved under
tests/screenshots/look-*.png for review.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.console import test_browser
from tests.console.test_plain_english import Demo, demo, raw_values  # noqa: F401 (fixture)

browser, base_url, page, sign_in_as = (
    test_browser.browser,
    test_browser.base_url,
    test_browser.page,
    test_browser.sign_in_as,
)
check_page = test_browser.check_page


def font_of(page: Page, selector: str) -> str:
    return str(page.eval_on_selector(selector, "e => getComputedStyle(e).fontFamily"))


def assert_arial_first(page: Page) -> None:
    for selector in ("body", "h1", "main :is(p, td, dd, label, li)"):
        family = font_of(page, selector)
        assert re.match(r'^"?Arial"?\s*,\s*sans-serif$', family), (selector, family)
        assert "serif" not in family.replace("sans-serif", ""), (selector, family)


def visible_raw(page: Page) -> list[str]:
    text = page.evaluate(
        """() => {
          const main = document.body.cloneNode(true);
          main.querySelectorAll('code, script, style, template').forEach(e => e.remove());
          return main.innerText;
        }"""
    )
    return raw_values(" ".join(str(text).split()))


def test_the_console_is_in_arial_not_serif(page: Page) -> None:
    page.goto("/login")
    assert_arial_first(page)
    check_page(page, "look-login")


def test_the_pages_of_this_part_read_in_plain_english(
    demo: Demo,  # noqa: F811
    sign_in_as: Callable[[str], Page],
) -> None:
    page = sign_in_as("admin")
    assert_arial_first(page)

    page.goto(demo.pages["referrals"])
    table = page.locator("#open-referrals")
    expect(table).to_contain_text("Pat Example")
    expect(table).to_contain_text(re.compile(r"\d+ years"))
    expect(table).to_contain_text("UCR One")
    expect(table).to_contain_text("On hold")
    assert visible_raw(page) == []
    check_page(page, "look-referrals")

    page.goto(demo.pages["referral with events"])
    expect(page.locator(".nhsuk-summary-list")).to_contain_text("Pat Example")
    expect(page.locator(".nhsuk-summary-list")).to_contain_text("(born 15 March 1940)")
    history = page.locator("ol.nhsuk-list").last
    expect(history).to_contain_text("Status changed from sent to on hold: Waiting for a call back")
    expect(history).to_contain_text("by nick.navigator@nhs.net")
    assert visible_raw(page) == []
    assert_arial_first(page)
    check_page(page, "look-referral")

    page.goto(demo.pages["service with capacity history"])
    history = page.locator("#change-history")
    expect(history).to_contain_text(
        "Capacity set to Full, not taking patients: No crews until 2pm. Back to taking patients"
    )
    expect(history).to_contain_text("nick.navigator@nhs.net")
    summary = page.locator(".nhsuk-summary-list")
    expect(summary).to_contain_text("All ages")
    expect(summary).not_to_contain_text("care_home")
    assert visible_raw(page) == []
    check_page(page, "look-service")

    page.goto(demo.pages["DTOC board"])
    expect(page.locator("main")).to_contain_text("Bedford: 1 open")
    expect(page.locator("main")).to_contain_text("Social care")
    assert visible_raw(page) == []
    check_page(page, "look-dtoc-board")

    page.get_by_role("button", name="Record delay").click()
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_contain_text("Enter the provider's ODS code")
    expect(summary).to_contain_text("Select the care type")
    expect(summary).not_to_contain_text("Missing data")
    check_page(page, "look-dtoc-errors")

    page.goto(demo.pages["DTOC episode"])
    expect(page.locator(".nhsuk-summary-list")).to_contain_text("Bedford")
    assert visible_raw(page) == []
    check_page(page, "look-dtoc-episode")

    page.goto(demo.pages["users"])
    expect(page.locator("main")).to_contain_text("Care navigator")
    assert visible_raw(page) == []
    check_page(page, "look-users")

    page.goto(demo.pages["to classify"])
    assert visible_raw(page) == []
    check_page(page, "look-to-classify")
