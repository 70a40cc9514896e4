"""Benchmark: fields touched and keystrokes on the console's new-call form for five common
calls (issue 17 §2): a care-home fall, a GP need out of hours, a mental-health crisis, a carer
breakdown and loneliness.

Drives Debian's Chromium through Playwright against the app on 127.0.0.1 (a temporary SQLite
database with the BLMK directory), signed in as a navigator, each call in a fresh browser
session (the first call of a shift: nothing remembered). A call is a list of the facts the
caller gives, by form field name. For each fact, in page order:

- already right (a default, or filled from an earlier choice): not touched, no keys;
- otherwise the field is reached with Tab from the previous one (each press counted, as a
  keyboard user moves) and set:
  - text box: the value typed, one key a character;
  - drop-down (`<select>`): the first letters of the option typed until it is chosen
    (Chromium's type-to-select), one key a letter;
  - text box with suggestions (`<input list>`): the fewest leading characters of the
    option's text that leave it the only suggestion, plus Down and Enter to pick it
    (modelled: headless Chromium draws no suggestion list), then its value filled in;
  - tick box: Space.

Then Enter sends the form (one key): from a text box, as browsers do, else after Tab to the
form's button. The call page must then show a recommendation, so a form
that lost a fact fails the run rather than scoring well. Prints one line a call and the totals.

    .venv/bin/python bench/console_keystrokes.py [--show]
"""

from __future__ import annotations

import argparse
import logging
import threading
from dataclasses import dataclass
from typing import Any

from common import blmk_documents, fresh_app, load
from playwright.sync_api import Page, sync_playwright
from werkzeug.serving import make_server

from navigator.auth.passwords import create_user
from navigator.core.db import transaction
from navigator.core.extensions import current_session

CHROMIUM = "/usr/bin/chromium"
EMAIL, PASSWORD = "navigator@bench.navigator.example", "a-long-bench-password"

# The facts each caller gives: (field name, value). A
# select's value is its option value (a code); a care home is its directory id.
CALLS: dict[str, list[tuple[str, str]]] = {
    "care-home fall": [
        ("caller_role", "care_home"),
        ("caller_name", "Jo Carer"),
        ("name", "Edna Smith"),
        ("age", "87"),
        ("postcode", "LU6 1UU"),
        ("care_home_service_id", "greenacre-dunstable-care-home"),
        ("need", "fall_no_injury"),
    ],
    "GP need out of hours": [
        ("caller_role", "relative"),
        ("caller_name", "Sam Jones"),
        ("name", "Peter Jones"),
        ("age", "79"),
        ("postcode", "MK40 2TX"),
        ("gp_practice_ods", "E81037"),
        ("need", "unwell_needs_gp"),
    ],
    "mental-health crisis": [
        ("caller_role", "public"),
        ("name", "Alex Brown"),
        ("age", "34"),
        ("postcode", "LU1 2BQ"),
        ("need", "mental_health_crisis"),
    ],
    "carer breakdown": [
        ("caller_role", "relative"),
        ("caller_name", "Ann Green"),
        ("name", "Bill Green"),
        ("age", "82"),
        ("postcode", "MK6 5LD"),
        ("need", "carer_breakdown"),
    ],
    "loneliness": [
        ("caller_role", "public"),
        ("name", "Mary White"),
        ("age", "76"),
        ("postcode", "MK42 9DJ"),
        ("need", "loneliness"),
    ],
}


@dataclass
class Tally:
    fields: int = 0
    typed: int = 0
    tabs: int = 0

    @property
    def keys(self) -> int:
        return self.typed + self.tabs + 1  # + Enter on the button


def _tab_to(page: Page, selector: str) -> int:
    """Press Tab until the element `selector` finds has the focus; the presses."""
    for presses in range(1, 200):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return presses
    raise AssertionError(f"Tab never reached {selector}")


def _select_keys(page: Page, name: str, value: str) -> int:
    """Type the option's first letters until the focused select chooses it; the keys."""
    text = page.evaluate(
        "([n, v]) => [...document.querySelector(`select[name=${n}]`).options]"
        ".find(o => o.value === v).text",
        [name, value],
    )
    for count in range(1, len(text) + 1):
        # From the first option, after a pause (Chromium's type-to-select starts afresh).
        page.eval_on_selector(f"select[name={name}]", "e => { e.selectedIndex = 0 }")
        page.wait_for_timeout(1100)
        page.keyboard.type(text[:count])
        if page.eval_on_selector(f"select[name={name}]", "e => e.value") == value:
            return count
    raise AssertionError(f"typing never chose {value} in {name}")


def _suggestion_keys(page: Page, name: str, value: str) -> int | None:
    """Keys to pick `value` from the field's suggestions (fewest leading characters of its
    text that no other suggestion shares, + Down + Enter); None when it has no list or
    `value` is not one of its suggestions."""
    options: list[dict[str, str]] | None = page.evaluate(
        "n => { const e = document.querySelector(`input[name=${n}]`);"
        " return e && e.list ? [...e.list.options].map(o => ({value: o.value,"
        " id: o.dataset.id || o.value, text: o.label || o.value})) : null }",
        name,
    )
    if not options:
        return None
    mine = [o for o in options if value in (o["value"], o["id"])]
    if not mine:
        return None
    text = mine[0]["text"].lower()
    for count in range(1, len(text) + 1):
        prefix = text[:count]
        if [o for o in options if prefix in (o["text"] + " " + o["value"]).lower()] == mine:
            page.fill(f"input[name={name}]", mine[0]["value"])
            return count + 2
    return None


def _value(page: Page, name: str) -> Any:
    return page.evaluate(
        "n => { const e = document.querySelector(`[name=${n}]`);"
        " return e.type === 'checkbox' ? e.checked : e.value }",
        name,
    )


def run_call(page: Page, facts: list[tuple[str, str]], show: bool) -> Tally:
    tally = Tally()
    page.goto("/calls/new")
    page.evaluate("document.activeElement && document.activeElement.blur()")
    # In the order the page asks for them (a form that moves a field moves it here too).
    order = page.evaluate(
        "() => [...document.querySelectorAll('form[action$=\"/calls/new\"] [name]')]"
        ".map(e => e.getAttribute('name'))"
    )
    for name, value in sorted(facts, key=lambda fact: order.index(fact[0])):
        if str(_value(page, name)).lower() == value.lower():
            continue  # a default or filled from an earlier choice
        tally.fields += 1
        tally.tabs += _tab_to(page, f"[name={name}]")
        tag = page.evaluate("n => document.querySelector(`[name=${n}]`).tagName", name)
        if tag == "SELECT":
            tally.typed += _select_keys(page, name, value)
        elif (keys := _suggestion_keys(page, name, value)) is not None:
            tally.typed += keys
        else:
            page.keyboard.type(value)
            tally.typed += len(value)
        page.dispatch_event(f"[name={name}]", "change")
        if show:
            print(f"    {name}: {value!r}")
    # Enter sends the form from a text box; from anything else, Tab to the form's button.
    if not page.evaluate("document.activeElement.matches('input[type=text], input[type=tel]')"):
        tally.tabs += _tab_to(page, "form[action$='/calls/new'] button:not([name])")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    if "/calls/new" in page.url:
        problems = page.locator(".nhsuk-error-summary").all_inner_texts()
        raise AssertionError(f"not recorded: {page.url} {problems}")
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--show", action="store_true", help="print each field touched")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app, _ = fresh_app(None)
    load(app, blmk_documents())
    with app.app_context(), transaction(current_session()):
        create_user(current_session(), email=EMAIL, password=PASSWORD, role="navigator")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base_url = f"http://127.0.0.1:{server.server_port}"
    totals = Tally()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        for label, facts in CALLS.items():
            context = browser.new_context(base_url=base_url)
            page = context.new_page()
            page.goto("/login")
            page.get_by_label("Email address").fill(EMAIL)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_load_state()
            tally = run_call(page, facts, args.show)
            context.close()
            totals.fields += tally.fields
            totals.typed += tally.typed
            totals.tabs += tally.tabs
            print(
                f"{label:22} fields touched {tally.fields:2}  keys {tally.keys:3}"
                f"  (typed {tally.typed}, Tab {tally.tabs}, Enter 1)"
            )
        browser.close()
    server.shutdown()
    print(
        f"{'all five':22} fields touched {totals.fields:2}  keys {totals.keys + 4:3}"
        f"  (typed {totals.typed}, Tab {totals.tabs}, Enter 5)"
    )


if __name__ == "__main__":
    main()
