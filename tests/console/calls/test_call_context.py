"""What the call pages say about a call (issue 17 §2): when it was taken and, when it was
routed for another time, that time too (on the call page and in the calls list, which finds
calls by the day they were taken); how to reach the service for this caller's role; what the
call was; reasons with no ISO timestamps; care homes told apart by town and postcode, picked
by their text and lending the patient their postcode; one "Not known" for sex; and "Same
caller as your last call".

Times follow the NHS content style guide ("Tuesday 1 December, 9am", London clock:
https://service-manual.nhs.uk/content/numbers-measurements-dates-time).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from navigator.console.calls.call_list import list_time
from navigator.console.calls.call_page import how_to_reach, reason_text, taken_text
from navigator.console.calls.new_call import care_homes, resolve_care_home
from navigator.core.clock_words import clock_time, spoken_time
from navigator.core.extensions import db
from navigator.navigation.models import Navigation
from tests.builders import load_directory, organisation, service
from tests.console.calls.conftest import FALL, take_call
from tests.console.conftest import post_form

pytestmark = pytest.mark.usefixtures("bedford_directory")

TAKEN = datetime(2026, 12, 1, 23, 46, tzinfo=UTC)  # GMT in December: London = UTC


def _navigation(called_at: datetime, created_at: datetime) -> Navigation:
    return Navigation(called_at=called_at, created_at=created_at)


def test_a_call_for_another_time_says_both_times() -> None:
    later = _navigation(TAKEN + timedelta(hours=10, minutes=14), TAKEN)
    assert taken_text(later) == (
        "Call for Wednesday 2 December, 10am, made Tuesday 1 December, 11:46pm"
    )
    assert list_time(later) == ("Tuesday 1 December, 11:46pm", "for Wednesday 2 December, 10am")
    now = _navigation(TAKEN, TAKEN + timedelta(seconds=2))
    assert taken_text(now) == "Call taken Tuesday 1 December, 11:46pm"
    assert list_time(now) == ("Tuesday 1 December, 11:46pm", "")


def test_times_in_words_on_the_london_clock() -> None:
    summer = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)  # 9am BST
    assert spoken_time(summer, now=summer) == "Wednesday 1 July, 9am"
    assert spoken_time(summer, now=TAKEN.replace(year=2025)) == "Wednesday 1 July 2026, 9am"
    assert clock_time(datetime(2026, 12, 1, 12, 0, tzinfo=UTC)) == "midday"
    assert clock_time(datetime(2026, 12, 1, 0, 0, tzinfo=UTC)) == "midnight"
    assert clock_time(datetime(2026, 12, 1, 18, 30, tzinfo=UTC)) == "6:30pm"


def test_a_stored_reason_with_an_iso_instant_reads_in_words(app: Flask) -> None:
    with app.app_context():
        text = reason_text("Closed now; opens at 2026-12-01T09:00:00+00:00.", TAKEN)
    assert text == "Closed now; opens Tuesday 1 December, 9am."


SERVICE = {
    "service_type": "urgent_community_response",
    "contact": {"public_phone": "01632 960001", "professional_phone": "01632 960002"},
    "referral_method": "phone",
    "referral_info": "Ask for the coordinator.",
    "opening_summary": "Open 8am to 8pm, every day",
    "capacity": {
        "status": "green",
        "note": None,
        "updated_at": "2026-11-29T09:00:00+00:00",
        "stale": True,
    },
}


def test_how_to_reach_gives_the_number_the_callers_role_may_use(app: Flask) -> None:
    with app.app_context():
        home = dict(how_to_reach(SERVICE, "care_home"))
        public = dict(how_to_reach(SERVICE, "public"))
        ambulance = dict(how_to_reach(SERVICE | {"service_type": "ambulance_999"}, "public"))
    assert home["Phone for the caller (Care home staff)"] == "01632 960002"
    assert "Professional line (for you, not the caller)" not in home
    assert public["Phone for the caller (Member of the public)"] == "01632 960001"
    assert public["Professional line (for you, not the caller)"] == "01632 960002"
    assert home["How to refer"] == "Phone. Ask for the coordinator."
    assert "not confirmed recently" in home["Capacity"] and "stale" not in home["Capacity"]
    assert "Capacity" not in ambulance  # nobody reports a 999 service's capacity
    assert home["Capacity"].startswith("Taking patients")  # the directory's words


def test_a_service_that_never_reported_capacity_says_not_reported(app: Flask) -> None:
    """As the directory says it (`_capacity_tag.jinja`): never "Green" for a default."""
    never = SERVICE | {"capacity": {"status": "green", "note": None, "updated_at": None}}
    with app.app_context():
        assert dict(how_to_reach(never, "care_home"))["Capacity"] == "Not reported"


def test_the_call_page_says_not_reported_on_a_fresh_directory(
    sign_in: Callable[[str], FlaskClient],
) -> None:
    client = sign_in("navigator")
    page = client.get(f"/calls/{take_call(client)}").text
    reach = page.split('id="reach"', 1)[1].split("</dl>", 1)[0]
    assert "Not reported" in reach and "Green" not in reach


def test_care_homes_are_told_apart_and_lend_their_postcode(app: Flask) -> None:
    with app.test_request_context():
        (home,) = care_homes()
        assert home.text == "Service care-home-a, Bedford MK42 9DJ"
        values = {"care_home_service_id": home.text, "postcode": ""}
        errors: dict[str, str] = {}
        resolve_care_home(values, errors)
        assert values == {"care_home_service_id": "care-home-a", "postcode": "MK42 9DJ"}
        typed = {"care_home_service_id": "Nowhere House"}
        resolve_care_home(typed, errors)
    assert errors["care_home_service_id"].startswith("Choose the care home from the list")


def _two_wings(app: Flask, **second: object) -> None:
    """Two care homes of one name at one address and postcode (a nursing and a residential
    wing on one site), as a directory may list them."""
    with app.app_context():
        load_directory(
            organisations=[organisation()],
            services=[
                service(id="ucr", needs=["fall_no_injury"]),
                service(id="wing-a", name="Greenacre", service_type="care_home", needs=[]),
                service(
                    id="wing-b", name="Greenacre", service_type="care_home", needs=[], **second
                ),
            ],
        )
        db.session.remove()


def test_two_homes_of_one_name_and_postcode_are_told_apart_and_the_chosen_one_recorded(
    app: Flask, sign_in: Callable[[str], FlaskClient]
) -> None:
    """Each home's text in the list is unique (here by the directory id: nothing else tells
    them apart), and the second one chosen is the one recorded, not the first."""
    _two_wings(app)
    client = sign_in("navigator")
    page = client.get("/calls/new").text
    options = re.findall(r'<option value="([^"]*Greenacre[^"]*)" data-id="([^"]+)"', page)
    assert len(options) == 2 and len({text for text, _ in options}) == 2, options
    text, chosen = options[1]
    made = post_form(
        client,
        "/calls/new",
        {
            "caller_role": "care_home",
            "need": "fall_no_injury",
            "age": "88",
            "postcode": "MK42 9DJ",
            "care_home_service_id": text,
        },
    )
    assert made.status_code == 302, made.text
    with app.app_context():
        navigation = db.session.get(Navigation, made.location.rsplit("/", 1)[1])
        assert navigation is not None and navigation.care_home_service_id == chosen
        db.session.remove()


def test_homes_of_one_name_are_told_apart_by_the_location_name_first(app: Flask) -> None:
    location = {
        "name": "Residential wing",
        "address": "1 Test Street, Bedford",
        "postcode": "MK42 9DJ",
        "lat": 52.126,
        "lng": -0.472,
    }
    _two_wings(app, locations=[location])
    with app.test_request_context():
        texts = sorted(home.text for home in care_homes() if "Greenacre" in home.text)
    assert texts == [
        "Greenacre, Base, Bedford MK42 9DJ",
        "Greenacre, Residential wing, Bedford MK42 9DJ",
    ]


def test_text_that_fits_more_than_one_home_asks_which(app: Flask) -> None:
    """The name, town and postcode two homes share is no choice: the field says so, rather
    than the first home being recorded."""
    _two_wings(app)
    with app.test_request_context():
        values = {"care_home_service_id": "greenacre, Bedford MK42 9DJ", "postcode": ""}
        errors: dict[str, str] = {}
        resolve_care_home(values, errors)
    assert errors == {
        "care_home_service_id": "Select the care home from the list: more than one home has "
        "this name"
    }
    assert values["postcode"] == ""


def test_the_call_page_shows_the_call_and_the_list_finds_it_by_the_day_taken(
    sign_in: Callable[[str], FlaskClient], app: Flask
) -> None:
    client = sign_in("navigator")
    navigation_id = take_call(client, care_home_service_id="care-home-a", postcode="")
    page = client.get(f"/calls/{navigation_id}").text
    facts = page[page.index('id="call-facts"') :]
    for text in ("Relative", "Sam Caller", "Pat Example", "Female", "MK42 9DJ", "Fall, no injury"):
        assert text in facts, text
    assert "Service care-home-a, Bedford MK42 9DJ" in facts
    assert page.index('id="reach"') < page.index('id="reasons"') < page.index('id="timeline"')
    with app.app_context():
        navigation = db.session.get(Navigation, navigation_id)
        assert navigation is not None
        taken = navigation.created_at
        # Routed for a time two days before it was taken: found on the day it was taken.
        navigation.called_at = taken - timedelta(days=2)
        db.session.commit()
        db.session.remove()
    day = taken.strftime("%d/%m/%Y")
    listed = post_form(client, "/calls", {"date": day}).text
    assert navigation_id in listed and "for " in listed
    before = (taken - timedelta(days=2)).strftime("%d/%m/%Y")
    assert navigation_id not in post_form(client, "/calls", {"date": before}).text


def test_one_not_known_for_sex(sign_in: Callable[[str], FlaskClient]) -> None:
    page = sign_in("navigator").get("/calls/new").text
    sexes = page[page.index('name="sex"') : page.index("</select>", page.index('name="sex"'))]
    assert re.findall(r">\s*([^<]+?)\s*</option>", sexes) == [
        "Not known",
        "Female",
        "Male",
        "Other",
    ]


def test_same_caller_as_the_last_call(sign_in: Callable[[str], FlaskClient]) -> None:
    client = sign_in("navigator")
    take_call(client, caller_role="care_home", care_home_service_id="care-home-a")
    page = client.get("/calls/new").text
    assert "Same caller as your last call" in page
    again = client.get("/calls/new?same_caller=1").text
    assert 'value="Sam Caller"' in again and 'value="07700900123"' in again.replace(" ", "")
    assert 'value="Service care-home-a, Bedford MK42 9DJ"' in again
    assert "Pat Example" not in again  # the caller, not the patient
    assert FALL["name"] not in again
