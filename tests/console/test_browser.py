"""The console in a real browser: headless Chromium (Debian's) driven by Playwright.

Covers sign-in, a full call to an accepted referral, an override, a red-flag call, a capacity
update, a DTOC episode opened and closed, and the dashboard; every page is checked with
axe-core (no serious or critical WCAG 2.2 AA violations) and saved as a screenshot under
tests/screenshots/ for review.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect, sync_playwright
from werkzeug.serving import make_server

from navigator.core.extensions import db
from tests.builders import console_user

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "tests" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

pytestmark = pytest.mark.usefixtures("bedford_directory")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/chromium (scripts/test does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def base_url(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()  # the listening socket too, not left for the garbage collector


@pytest.fixture
def page(browser: Browser, base_url: str) -> Iterator[Page]:
    # bypass_csp lets the test inject axe-core; the console's own CSP stays on for users.
    context = browser.new_context(base_url=base_url, bypass_csp=True)
    page = context.new_page()
    outside: list[str] = []
    page.on(
        "request",
        lambda request: None if request.url.startswith(base_url) else outside.append(request.url),
    )
    yield page
    context.close()
    assert not outside, f"the console fetched from outside navigator: {outside}"


def check_page(page: Page, name: str) -> None:
    """axe-core finds no serious or critical violations; then save a screenshot."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
    )
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, f"{name}: accessibility violations: {bad}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def sign_in_as(app: Flask, page: Page) -> Callable[[str], Page]:
    def do(role: str) -> Page:
        with app.app_context():
            email, password = console_user(role=role)
            db.session.remove()
        page.goto("/login")
        page.get_by_label("Email address").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="New call", exact=True)).to_be_visible()
        return page

    return do


def fill_fall_call(page: Page) -> None:
    page.get_by_label("Who is calling").select_option("relative")
    page.get_by_label("Caller's name").fill("Sam Caller")
    page.get_by_label("Full name").fill("Pat Example")
    page.get_by_label("Date of birth").fill("15/3/1940")
    page.get_by_label("Postcode").fill("MK42 9DJ")
    page.get_by_label("Need", exact=True).select_option("fall_no_injury")


def test_failed_then_successful_sign_in_using_only_the_keyboard(app: Flask, page: Page) -> None:
    with app.app_context():
        email, password = console_user(role="navigator")
        db.session.remove()
    page.goto("/login")
    check_page(page, "login")
    for _ in range(15):  # Tab from the top of the page to the email field, as a keyboard user
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "email":
            break
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type("wrong password")
    page.keyboard.press("Enter")
    expect(page.get_by_text("There is a problem")).to_be_visible()
    check_page(page, "login-failed")
    page.get_by_label("Password").fill(password)
    page.get_by_label("Password").press("Enter")
    expect(page.get_by_role("heading", name="New call", exact=True)).to_be_visible()


def tab_to(page: Page, selector: str, limit: int = 80) -> None:
    """Press Tab, as a keyboard user, until `selector` has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_a_red_flag_call_with_the_keyboard_only(sign_in_as: Callable[[str], Page]) -> None:
    page = sign_in_as("navigator")
    page.keyboard.press("Tab")  # the first stop is the skip link
    assert page.evaluate("document.activeElement.textContent").strip() == "Skip to main content"
    tab_to(page, "input[name=red_flags][value=chest_pain]")
    page.keyboard.press("Space")
    tab_to(page, "#caller-name")
    page.keyboard.type("Sam Caller")
    page.keyboard.press("Enter")  # submits the form from a text field
    expect(page.get_by_role("alert").first).to_contain_text("call 999 now")
    expect(page.get_by_role("alert").first).to_contain_text("Reported: Chest pain")


def test_full_call_from_new_call_to_accepted_referral(sign_in_as: Callable[[str], Page]) -> None:
    page = sign_in_as("navigator")
    check_page(page, "new-call")
    fill_fall_call(page)
    page.get_by_role("button", name="Find the right service").click()
    expect(page.get_by_role("heading", name="Recommended: UCR One")).to_be_visible()
    expect(page.locator("#safety-netting")).to_be_visible()
    check_page(page, "call-recommendation")
    page.get_by_role("button", name="Accept and refer to UCR One").click()
    expect(page.get_by_text("Referral recorded for UCR One")).to_be_visible()
    expect(page.locator("#timeline")).to_contain_text("Referral sent")
    page.get_by_role("link", name="Referrals").click()
    check_page(page, "referrals")
    page.locator("#open-referrals a").first.click()
    check_page(page, "referral")
    page.get_by_label("New status").select_option("accepted")
    page.get_by_role("button", name="Update referral").click()
    expect(page.get_by_text("Referral is now accepted")).to_be_visible()
    page.get_by_role("link", name="Worklist").click()
    check_page(page, "worklist")
    page.get_by_role("link", name="Calls").click()
    check_page(page, "calls")
    page.locator("#calls-table a").first.click()
    expect(page.locator("#timeline")).to_contain_text("Referral accepted")


def test_override_with_a_reason(sign_in_as: Callable[[str], Page]) -> None:
    page = sign_in_as("supervisor")
    fill_fall_call(page)
    page.get_by_role("button", name="Find the right service").click()
    page.get_by_label("Service to refer to instead").select_option("ucr-two")
    page.get_by_role("button", name="Override and refer").click()
    expect(page.get_by_text("Say why you chose a different service").first).to_be_visible()
    check_page(page, "call-override-error")
    # With one long unbroken word: outsiders' text must wrap, never widen the page (a
    # fresh-eyes review saw a 35,000 px wide dashboard).
    page.get_by_label("Why you chose a different service").fill(
        "The family asked for the team that already visits. " + "x" * 1500
    )
    page.get_by_role("button", name="Override and refer").click()
    expect(page.get_by_text("Referral recorded for UCR Two")).to_be_visible()
    # The page is now about the chosen service, with its referral (issue 13 §8, H24).
    expect(page.get_by_role("heading", name="Referred instead to: UCR Two")).to_be_visible()
    expect(page.locator("#referrals")).to_contain_text("UCR Two")
    check_page(page, "call-overridden")
    assert_no_sideways_scroll(page)
    page.get_by_role("link", name="Dashboard").click()
    expect(page.locator("#recent-overrides")).to_contain_text("already visits")
    assert_no_sideways_scroll(page)


def assert_no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{page.url} is {width[0]} px wide in a {width[1]} px window"


def test_red_flag_call_shows_999_prominently(sign_in_as: Callable[[str], Page]) -> None:
    """A red flag on an unfinished form: 999 first, the flag named, the call recorded and
    listed by the flag's name (issue 13 §1)."""
    page = sign_in_as("navigator")
    page.get_by_label("Chest pain").check()
    page.get_by_role("button", name="Find the right service").click()
    alert = page.get_by_role("alert").first  # the first thing on the page
    expect(alert).to_contain_text("Red flag – call 999 now")
    expect(alert.locator(".app-phone-large")).to_have_text("999")
    expect(alert.locator("#red-flags-reported")).to_have_text("Reported: Chest pain.")
    expect(alert.locator("#left-out")).to_contain_text("Who is calling, Postcode, Age")
    expect(page.locator("#reasons")).to_contain_text("Chest pain reported")
    check_page(page, "call-red-flag")
    page.get_by_role("link", name="Calls").click()
    expect(page.locator("#calls-table")).to_contain_text("Chest pain")


def test_capacity_update_from_the_directory(sign_in_as: Callable[[str], Page]) -> None:
    page = sign_in_as("navigator")
    page.get_by_role("link", name="Directory").click()
    check_page(page, "directory")
    page.get_by_role("link", name="UCR Two").click()
    check_page(page, "service")
    page.get_by_label("New capacity status").select_option("red")
    page.get_by_label("Note").fill("No crews until 18:00")
    page.get_by_role("button", name="Update capacity").click()
    expect(page.get_by_text("Capacity updated: Full, not taking patients")).to_be_visible()
    expect(page.get_by_text("No crews until 18:00").first).to_be_visible()


def test_admin_edits_a_service(sign_in_as: Callable[[str], Page]) -> None:
    page = sign_in_as("admin")
    page.goto("/directory/ucr-one/edit")
    check_page(page, "service-edit")
    page.get_by_label("Phone for the public").fill("01632 960555")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#change-history")).to_contain_text("01632 960555")
    page.get_by_role("link", name="Users").click()
    expect(page.locator("#users-table")).to_be_visible()
    check_page(page, "users")


def test_dtoc_episode_opened_and_closed(sign_in_as: Callable[[str], Page]) -> None:
    page = sign_in_as("navigator")
    page.get_by_role("link", name="DTOC board", exact=True).click()
    check_page(page, "dtoc-board")
    page.get_by_label("Full name").fill("Alex Delayed")
    page.get_by_label("Date of birth").fill("2/2/1938")
    page.get_by_label("Home postcode").fill("LU1 2LJ")
    page.get_by_label("Provider ODS code").fill("RC9")
    page.get_by_label("Care type").select_option("acute")
    page.get_by_label("Clinically ready from").fill("2026-11-20T10:00")
    page.get_by_label("Reason", exact=True).select_option("Di")
    page.get_by_label("Responsible organisation").select_option("social_care")
    page.get_by_role("button", name="Record delay").click()
    expect(page.get_by_text("Delay recorded")).to_be_visible()
    check_page(page, "dtoc-episode")
    page.get_by_label("Transferred at").fill("2026-11-22T15:30")
    page.get_by_label("Discharge pathway").select_option("3")
    page.get_by_role("button", name="Close episode").click()
    expect(page.get_by_text("Episode closed")).to_be_visible()
    page.get_by_role("link", name="DTOC board", exact=True).click()
    expect(page.get_by_text("No open delays")).to_be_visible()


def test_dashboard(sign_in_as: Callable[[str], Page]) -> None:
    page = sign_in_as("supervisor")
    page.get_by_role("link", name="Dashboard").click()
    expect(page.locator("#cisp-table")).to_be_visible()
    expect(page.locator("figure.app-chart svg").first).to_be_visible()
    check_page(page, "dashboard")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download as CSV").click()
    assert download.value.suggested_filename.endswith(".csv")
