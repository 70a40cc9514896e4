"""A red flag always gets 999, whatever else is missing (issue 13 §1, hazard H10).

With at least one known red flag, `POST /api/v1/navigations` answers 201 `emergency` with an
`ambulance_999` recommendation however many other facts are missing or not valid; each of
them is named in `warnings` (never a 422), the navigation is recorded like any other, and
the reasons name the flag in plain words. Without a known red flag the strict 422 stands.

The property test combines every red flag in the vocabulary with every way a fact can be
missing or wrong (absent, null, wrong type, out of range, unknown code, invalid format, an
unknown field, unknown or repeated red flags, a NUL or a lone surrogate in any field or key, which the edge
sets aside for this endpoint); the grid test tries each single fault with each flag. Flags
written another way (case, spaces, hyphens, the label, comma-separated, nested, an object)
still count. The fixed cases are the request from the issue and those of the clinical review
of issue 13 (second round: F1 spellings, F2 bad characters in an unrelated field).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from navigator.core.extensions import db
from navigator.core.vocabulary import load_vocabulary
from navigator.directory.records import MAX_AGE_DAYS
from navigator.metrics.cisp import OUT_OF_AREA
from navigator.navigation.models import Navigation
from navigator.navigation.schemas import NavigationSchema
from tests.builders import load_directory, organisation, service
from tests.conftest import PROJECT_ROOT

Auth = dict[str, dict[str, str]]
VOCAB = load_vocabulary(str(PROJECT_ROOT / "directory_of_services"))
FLAGS = list(VOCAB.codes("red_flags"))
ABSENT = object()  # the field is left out of the request

# A complete, valid call; each fault below replaces (or removes) one of its fields.
COMPLETE: dict[str, Any] = {
    "caller_role": "care_home",
    "need": "fall_no_injury",
    "age": 84,
    "sex": "female",
    "postcode": "MK42 9AA",
    "at": "2026-11-23T10:00:00Z",
    "gp_practice_ods": "E81001",
    "care_home_service_id": "care-home",
    "lives_in_care_home": True,
    "nhs_number": "9434765919",
    "disposition": "Dx05",
    "case_ref": "CASE-1",
}
# Facts a call without a red flag must give: leaving one out is itself warned about.
REQUIRED = {"caller_role", "postcode", "age"}
# Every way each fact can be missing or wrong. ABSENT is a fault only for REQUIRED facts
# (an optional one left out is simply not known, and is not warned about).
FAULTS: dict[str, list[Any]] = {
    "caller_role": [ABSENT, None, 7, "alien", ["public"]],
    "need": [ABSENT, None, 3, "teleportation", {"code": "loneliness"}],
    "age": [ABSENT, None, "eighty", -1, 131, 1e9, True],
    "age_days": [None, "many", -5, MAX_AGE_DAYS + 1],
    "sex": [ABSENT, None, 1, "dragon"],
    "postcode": [ABSENT, None, 12, "", "ZZZ", "NOT A POSTCODE", ["MK42 9AA"]],
    "at": [ABSENT, None, 5, "yesterday", "1066-10-14T09:00:00"],
    "gp_practice_ods": [ABSENT, None, 1, "!!", "A" * 11],
    "care_home_service_id": [ABSENT, None, 1, "", "nowhere", "ambulance"],
    "lives_in_care_home": [ABSENT, None, "maybe", 3, []],
    "nhs_number": [ABSENT, None, 1, "943 476 5918", "1111111111"],
    "disposition": [ABSENT, None, 2, "DX", "Dx1234567"],
    "case_ref": [ABSENT, None, 5, "x" * 101],
    "colour": ["red"],  # a field the API does not have
}
# Text the database cannot store, in any field (the edge sets it aside for this endpoint).
for _field, _value in [*COMPLETE.items(), ("colour", "red")]:
    FAULTS[_field] += [f"{_value}\x00", f"\ud800{_value}"]
FAULTS["(key)"] = ["col\x00our", "\udfffcolour"]  # a key with it: named `(key)`
# Items naming no known flag (NUL and surrogates included: set aside, then warned about).
JUNK_FLAGS = [
    "hiccups",
    "",
    7,
    None,
    [["hiccups"]],
    {"chest_pain": False},
    "chest\x00pain",
    "\ud800",
]
# Ways a flag is written other than its code (clinical review of issue 13, F1): each is read
# as the flag, with a warning on its item.
SPELLINGS: list[Callable[[str], Any]] = [
    str.upper,
    lambda code: f" {code}",
    lambda code: f"{code} ",
    lambda code: VOCAB.label("red_flags", code),
    lambda code: VOCAB.label("red_flags", code).upper(),
    lambda code: code.replace("_", "-"),
    lambda code: code.replace("_", " ").title(),
    lambda code: [code],
    lambda code: [[code]],
    lambda code: {code: True},
    lambda code: f"{code},hiccups",
]


def is_fault(field: str, value: Any) -> bool:
    return value is not ABSENT or field in REQUIRED


@pytest.fixture
def directory(app_ctx: Flask) -> None:
    load_directory(
        organisations=[organisation(id="trust", ods_code="RC9")],
        services=[
            service(
                id="ambulance",
                organisation="trust",
                service_type="ambulance_999",
                needs=[],
                places=["bedford", "luton", "central_bedfordshire", "milton_keynes"],
            ),
            service(id="care-home", organisation="trust", service_type="care_home", needs=[]),
        ],
    )
    db.session.remove()


def call_with(flags: list[Any], faults: dict[str, Any]) -> dict[str, Any]:
    body = {**COMPLETE, "red_flags": flags}
    for field, value in faults.items():
        if field == "(key)":
            body[value] = 1
        elif value is ABSENT:
            body.pop(field, None)
        else:
            body[field] = value
    return body


def answer_999(
    app: Flask, client: FlaskClient, auth: Auth, body: dict[str, Any], warned: set[str]
) -> dict[str, Any]:
    """POST the call; check the 999 answer, its warnings and the stored navigation."""
    response = client.post("/api/v1/navigations", json=body, headers=auth["integrator"])
    assert response.status_code == 201, (body, response.json)
    result = dict(response.json)
    assert result["urgency"] == "emergency"
    assert result["recommendation"]["service"]["service_type"] == "ambulance_999"
    assert result["recommendation"]["rule_id"] == "red-flag-emergency"
    named = {w["field"].split(".")[0] for w in result["warnings"]}
    assert named == warned, (body, result["warnings"])
    assert all(w["message"] for w in result["warnings"])
    assert NavigationSchema().validate(result) == {}  # the documented shape, warnings included
    with app.app_context():
        stored = db.session.get(Navigation, result["id"])
        assert stored is not None and stored.urgency == "emergency"
        assert stored.recommended_service_type == "ambulance_999"
        # As first returned (follow-up texts, for a care-home resident, are read live).
        assert stored.result == {k: v for k, v in result.items() if k != "follow_ups"}
        db.session.remove()
    return result


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    flags=st.lists(st.sampled_from(FLAGS), max_size=3, unique=True),
    spelled=st.lists(st.tuples(st.sampled_from(FLAGS), st.sampled_from(SPELLINGS)), max_size=2),
    junk=st.lists(st.sampled_from(JUNK_FLAGS), max_size=3),
    repeat=st.booleans(),
    faults=st.sets(st.sampled_from(sorted(FAULTS))).flatmap(  # one fault per chosen field
        lambda chosen: st.fixed_dictionaries({f: st.sampled_from(FAULTS[f]) for f in chosen})
    ),
    order=st.randoms(use_true_random=False),
)
def test_any_red_flag_gets_999_whatever_else_is_missing_or_wrong(
    app: Flask,
    client: FlaskClient,
    auth: Auth,
    directory: None,
    flags: list[str],
    spelled: list[tuple[str, Callable[[str], Any]]],
    junk: list[Any],
    repeat: bool,
    faults: dict[str, Any],
    order: Any,
) -> None:
    """Every combination of red flags (as codes or written another way), unknown or repeated
    flags, and faulty facts (NUL and lone surrogates included): always 201 emergency /
    ambulance_999, a warning for exactly the faulty fields, and recorded."""
    assume(flags or spelled)
    written = [(code, spell(code)) for code, spell in spelled]
    sent = flags + [value for _, value in written] + junk + (flags[:1] if repeat else [])
    order.shuffle(sent)
    warned = {field for field, value in faults.items() if is_fault(field, value)}
    # A spelling can be the code itself ("seizure" with "_" replaced by "-"): only a written-
    # another-way flag, an unknown one or a repeated exact code is warned about.
    exact = [value for value in sent if isinstance(value, str) and value in FLAGS]
    if junk or any(value != code for code, value in written) or len(exact) != len(set(exact)):
        warned.add("red_flags")
    result = answer_999(app, client, auth, call_with(sent, faults), warned)
    first_reason = result["recommendation"]["reasons"][0]
    expected = {*flags, *(code for code, _ in spelled)}
    assert all(VOCAB.label("red_flags", flag) in first_reason for flag in expected)
    with app.app_context():
        stored = db.session.get(Navigation, result["id"])
        assert stored is not None and set(stored.red_flags) == expected
        db.session.remove()


@pytest.mark.parametrize("flag", FLAGS)
def test_each_red_flag_with_each_single_fault(
    app: Flask, client: FlaskClient, auth: Auth, directory: None, flag: str
) -> None:
    """The grid: every red flag with each fault on its own, and with every fact at once."""
    for field, values in FAULTS.items():
        for value in values:
            warned = {field} if is_fault(field, value) else set()
            answer_999(app, client, auth, call_with([flag], {field: value}), warned)
    everything = {field: values[-1] for field, values in FAULTS.items()}
    answer_999(
        app, client, auth, call_with([flag, "hiccups"], everything), {*everything, "red_flags"}
    )
    # Nothing but the flag: the facts every call must give are each named as missing.
    response = client.post(
        "/api/v1/navigations", json={"red_flags": [flag]}, headers=auth["integrator"]
    )
    assert response.status_code == 201
    assert {w["field"] for w in response.json["warnings"]} == REQUIRED


def test_the_issues_request_gets_999_with_the_missing_age_as_a_warning(
    app: Flask, client: FlaskClient, auth: Auth, directory: None
) -> None:
    """The request from issue 13 §1, which answered 422 "Give the patient's age"."""
    body = {"caller_role": "public", "red_flags": ["stroke_symptoms"], "postcode": "LU1 2AA"}
    result = answer_999(app, client, auth, body, {"age"})
    assert result["recommendation"]["service"]["id"] == "ambulance"
    assert result["recommendation"]["fallback"] is None
    assert result["recommendation"]["reasons"][0] == (
        "Stroke symptoms (FAST) reported: a possible emergency, so they need an ambulance now."
    )
    assert result["warnings"] == [
        {
            "field": "age",
            "message": "Not given (age in years or age_days): the patient's age is not known.",
        }
    ]
    again = client.get(f"/api/v1/navigations/{result['id']}", headers=auth["navigator"]).json
    assert again["warnings"] == result["warnings"]
    assert again["recommendation"] == result["recommendation"]


def test_a_red_flag_call_counts_in_the_metrics(
    client: FlaskClient, auth: Auth, directory: None
) -> None:
    """Recorded like any other navigation: counted by place and urgency (no postcode: out of
    area, as the CISP rows have no other place for it)."""
    for body in (
        {"red_flags": ["chest_pain"], "postcode": "LU1 2AA", "at": "2026-11-23T10:00:00Z"},
        {"red_flags": ["chest_pain"], "at": "2026-11-23T10:00:00Z"},
    ):
        assert (
            client.post("/api/v1/navigations", json=body, headers=auth["integrator"]).status_code
            == 201
        )
    report = client.get("/api/v1/metrics/cisp?from=2026-11&to=2026-11", headers=auth["admin"]).json
    rows = {row["place"]: row for row in report["rows"]}
    assert rows["luton"]["navigations_by_urgency"]["emergency"] == 1
    assert rows[OUT_OF_AREA]["navigations_by_urgency"]["emergency"] == 1


def test_the_reason_names_every_flag_in_the_forms_order(
    client: FlaskClient, auth: Auth, directory: None
) -> None:
    body = {**COMPLETE, "red_flags": ["sepsis_signs", "chest_pain", "seizure"]}
    reason = client.post("/api/v1/navigations", json=body, headers=auth["integrator"]).json[
        "recommendation"
    ]["reasons"][0]
    assert reason.startswith("Chest pain, Seizure (fit) and Possible sepsis reported:")
    assert "warning sign" not in reason


def test_a_single_flag_sent_as_a_string_still_gets_999(
    app: Flask, client: FlaskClient, auth: Auth, directory: None
) -> None:
    answer_999(app, client, auth, {**COMPLETE, "red_flags": "anaphylaxis"}, {"red_flags"})


@pytest.mark.parametrize(
    ("flags", "field"),
    [
        (["hiccups"], "red_flags.0"),
        ([7, None], "red_flags.0"),
        ("hiccups", "red_flags"),
        ({"chest_pain": False}, "red_flags"),
        ("hiccups, chest pains", "red_flags"),
        ([["hiccups"]], "red_flags.0"),
        ([], "need"),
        (None, "red_flags"),
    ],
)
def test_without_a_known_red_flag_a_faulty_call_is_still_422(
    app: Flask,
    client: FlaskClient,
    auth: Auth,
    directory: None,
    flags: Any,
    field: str,
) -> None:
    """Only a known red flag relaxes validation: unknown codes alone name `red_flags`, and a
    call with none is refused exactly as before, recording nothing."""
    body = {"caller_role": "public", "postcode": "LU1 2AA", "red_flags": flags}
    response = client.post("/api/v1/navigations", json=body, headers=auth["integrator"])
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert field in response.json["errors"]
    if flags not in ([], None):
        assert "red_flags" in response.json["detail"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Navigation)) == 0


def test_the_edge_limits_still_run_first(client: FlaskClient, auth: Auth, directory: None) -> None:
    """Size, depth and invalid JSON are refused at the edge (issue 12) before any view, red
    flag or not; so is a body that is not UTF-8 (RFC 8259 §8.1: JSON between systems is
    UTF-8), even in a charset the header names."""
    deep = '{"red_flags": ["chest_pain"], "x": ' + "[" * 40 + "]" * 40 + "}"
    for raw, content_type in (
        (deep, "application/json"),
        ('{"red_flags": ["chest_pain"], ', "application/json"),
        ('{"red_flags": ["chest_pain"], "x": NaN}', "application/json"),
    ):
        response = client.post(
            "/api/v1/navigations", data=raw, content_type=content_type, headers=auth["integrator"]
        )
        assert response.status_code == 400, raw
    latin1 = '{"red_flags": ["chest_pain"], "case_ref": "Zoë"}'.encode("latin-1")
    response = client.post(
        "/api/v1/navigations",
        data=latin1,
        content_type="application/json; charset=iso-8859-1",
        headers=auth["integrator"],
    )
    assert response.status_code == 400 and response.json["errors"] == {
        "body": ["The body is not valid UTF-8."]
    }


# --- the clinical review of issue 13 (second round) ------------------------------------------


@pytest.mark.parametrize(
    ("flags", "warning"),
    [
        (["CHEST_PAIN"], {"field": "red_flags.0", "message": "Read as chest_pain."}),
        ([" chest_pain"], {"field": "red_flags.0", "message": "Read as chest_pain."}),
        (["chest_pain "], {"field": "red_flags.0", "message": "Read as chest_pain."}),
        (["Chest pain"], {"field": "red_flags.0", "message": "Read as chest_pain."}),
        (["chest-pain"], {"field": "red_flags.0", "message": "Read as chest_pain."}),
        ([["chest_pain"]], {"field": "red_flags.0", "message": "Read as chest_pain."}),
        (
            "chest_pain,stroke_symptoms",
            {
                "field": "red_flags",
                "message": "Not a list but a string: read as chest_pain, stroke_symptoms.",
            },
        ),
        (
            {"chest_pain": True},
            {"field": "red_flags", "message": "Not a list but an object: read as chest_pain."},
        ),
    ],
)
def test_a_red_flag_written_another_way_gets_999(
    app: Flask, client: FlaskClient, auth: Auth, directory: None, flags: Any, warning: Any
) -> None:
    """Clinical review of issue 13, F1: each of these answered 422 and no 999. Read from the
    code or the label (as the API's vocabulary and the console show it) whatever the case,
    spaces or separators; the warning says how it was read."""
    body = {
        "caller_role": "public",
        "need": "minor_illness",
        "age": 70,
        "postcode": "LU1 2AA",
        "red_flags": flags,
    }
    result = answer_999(app, client, auth, body, {"red_flags"})
    assert result["warnings"] == [warning]
    assert result["recommendation"]["reasons"][0].startswith("Chest pain")


def test_every_label_and_code_is_read_whatever_the_case_and_separators() -> None:
    """The reader is built from the vocabulary: each code and each label, in upper case,
    with hyphens or spaces for underscores, names its flag, and no two flags share a key."""
    from navigator.navigation.red_flags import known_red_flags, red_flag_reader

    reader = red_flag_reader(VOCAB)
    for code in FLAGS:
        label = VOCAB.label("red_flags", code)
        for text in (code, code.upper(), code.replace("_", "-"), f" {label} ", label.lower()):
            assert reader.code(text) == code, text
    assert len({reader.code(VOCAB.label("red_flags", code)) for code in FLAGS}) == len(FLAGS)
    assert known_red_flags("chest pain; Seizure (fit)", VOCAB)[0] == ["chest_pain", "seizure"]
    assert known_red_flags({"chest_pain": "no", "seizure": "yes"}, VOCAB)[0] == ["seizure"]
    assert known_red_flags(["chest pains", "chestpain", 7], VOCAB) == (
        [],
        [
            {"field": f"red_flags.{i}", "message": "Not a known red flag: ignored."}
            for i in range(3)
        ],
    )


@pytest.mark.parametrize(
    ("body", "field", "missing"),
    [
        ({"red_flags": ["chest_pain"], "caller_role": "public", "postcode": "MK42 9DJ",
          "case_ref": "AB123\u0000"}, "case_ref", {"age"}),
        ({"red_flags": ["chest_pain"], "caller_role": "pub\ud800lic", "postcode": "MK42 9DJ"},
         "caller_role", {"age"}),
        ({"red_flags": ["chest_pain"], "postcode": "MK42\u00009DJ"}, "postcode",
         {"age", "caller_role"}),
    ],
)  # fmt: skip
def test_a_bad_character_in_another_field_does_not_block_999(
    app: Flask,
    client: FlaskClient,
    auth: Auth,
    directory: None,
    body: Any,
    field: str,
    missing: set[str],
) -> None:
    """Clinical review of issue 13, F2: the edge refused these with 422 (issue 12) before the
    view, so a red flag got no 999. The field is left out and warned about; the same body
    without a red flag is refused exactly as before."""
    result = answer_999(app, client, auth, body, {field} | missing)
    warning = next(w for w in result["warnings"] if w["field"] == field)
    assert "could not be stored" in warning["message"]
    assert json.dumps(body[field])[1:-1] not in json.dumps(result)  # not stored, not echoed
    without = {**body, "red_flags": [], "need": "minor_illness", "age": 70}
    refused = client.post("/api/v1/navigations", json=without, headers=auth["integrator"])
    assert refused.status_code == 422 and refused.json["code"] == "invalid_text"
    assert list(refused.json["errors"]) == [field]
    assert refused.json["detail"] == f"Invalid characters in: {field}."
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Navigation)) == 1
