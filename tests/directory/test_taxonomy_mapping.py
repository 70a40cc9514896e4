"""Taxonomy mappings (issue 15 §2): the shipped ESD mapping names only real navigator types,
needs and caller roles, a mapped service admits only the callers its terms name (review of
issue 15, H2), and a feed's ESD term matches in every code form real feeds use.

Source of the code forms and the seed terms: the HSDS-UK developer docs
(`OpenReferralUK/human-services` gh-pages `pages/Data/UseOfTaxonomies.md` and README;
tests/data/oruk/NOTES.md §7): full URI `http://id.esd.org.uk/service/833`, CURIE
`esdServiceType:242`, vocabulary `esdServiceTypes` with the term id.
"""

from __future__ import annotations

import pytest
import yaml

from navigator.core.vocabulary import load_vocabulary
from navigator.directory.taxonomy_mapping import (
    FeedTerm,
    classify,
    load_checked_mappings,
    mapping_errors,
    parse_mapping,
)
from tests.conftest import PROJECT_ROOT

DATA = str(PROJECT_ROOT / "directory_of_services")


def test_shipped_mappings_name_only_known_types_and_needs() -> None:
    mappings = load_checked_mappings(DATA)  # raises on any unknown type, need or caller role
    assert [m.name for m in mappings] == ["esd"]
    assert mappings[0].terms  # not empty


def _blmk_roles() -> dict[str, set[str]]:
    """Every caller role some hand-kept BLMK service of each type takes."""
    roles: dict[str, set[str]] = {}
    for path in (PROJECT_ROOT / "directory_of_services" / "blmk").glob("services-*.yaml"):
        for record in yaml.safe_load(path.read_text(encoding="utf-8"))["services"]:
            roles.setdefault(record["service_type"], set()).update(
                record["eligibility"]["caller_roles"]
            )
    return roles


def test_each_shipped_type_term_names_callers_no_wider_than_blmk_s_services_of_that_type() -> None:
    """Review of issue 15, H2: every ESD term that gives a service type says which callers
    it admits (none left to the default by oversight), and never a role no hand-kept BLMK
    service of that type takes: a council's "Mental health support" must not become a CMHT
    that routing offers to a member of the public."""
    blmk = _blmk_roles()
    (esd,) = load_checked_mappings(DATA)
    for entry in esd.terms.values():
        if entry.service_type is None:
            assert entry.caller_roles == (), entry.code
            continue
        assert entry.caller_roles, entry.code
        assert set(entry.caller_roles) <= blmk[entry.service_type], entry.code
    for code in ("1284", "292", "1441", "178", "205", "313"):  # CMHT, care home, rehab, equipment
        assert "public" not in esd.terms[("esdServiceTypes", code)].caller_roles, code


def test_a_mapped_service_s_callers_are_those_its_type_terms_name() -> None:
    """The union over the terms that gave the service its type (other terms' roles do not
    count); professional only when none of them names any."""
    mapping = parse_mapping(
        {
            "name": "m",
            "lists": [{"id": "L"}],
            "terms": [
                {
                    "list": "L",
                    "code": "1",
                    "label": "a",
                    "service_type": "care_home",
                    "caller_roles": ["nhs111"],
                },
                {
                    "list": "L",
                    "code": "2",
                    "label": "b",
                    "service_type": "care_home",
                    "caller_roles": ["care_home", "nhs111"],
                },
                {
                    "list": "L",
                    "code": "3",
                    "label": "c",
                    "service_type": "befriending",
                    "caller_roles": ["public"],
                },
                {"list": "L", "code": "4", "label": "d", "service_type": "befriending"},
                {"list": "L", "code": "5", "label": "e", "needs": ["loneliness"]},
            ],
        },
        "m.yaml",
    )
    terms = {code: FeedTerm("L", code) for code in "12345"}
    union = classify([terms["1"], terms["2"], terms["3"], terms["5"]], (mapping,))
    assert (union.service_type, union.caller_roles()) == ("care_home", ["care_home", "nhs111"])
    silent = classify([terms["4"], terms["5"]], (mapping,))
    assert (silent.service_type, silent.caller_roles()) == ("befriending", ["professional"])
    shipped = load_checked_mappings(DATA)
    assert classify([FeedTerm("esdServiceTypes", "1284")], shipped).caller_roles() == [
        "care_home",
        "nhs111",
        "professional",
    ]


@pytest.mark.parametrize(
    ("taxonomy", "code"),
    [
        ("esdServiceTypes", "http://id.esd.org.uk/service/298"),
        ("anything", "https://id.esd.org.uk/service/298/"),
        ("", "esdServiceType:298"),
        ("unspecified", "service:298"),
        ("esdServiceTypes", "298"),
        ("ESDSERVICETYPES", " 298 "),
        ("http://id.esd.org.uk/list/services", "298"),
    ],
)
def test_every_code_form_of_an_esd_term_matches(taxonomy: str, code: str) -> None:
    found = classify([FeedTerm(taxonomy, code)], load_checked_mappings(DATA))
    assert (found.service_type, found.needs) == ("carers_support", ["carer_support"])
    assert found.classified_by() == "mapping:esd"


def test_a_term_matches_by_term_uri_or_id_when_its_code_is_local() -> None:
    term = FeedTerm("Council taxonomy", "CT-17", "Carers", ("http://id.esd.org.uk/service/1755",))
    found = classify([term], load_checked_mappings(DATA))
    assert found.service_type == "adult_social_care"


def test_unknown_and_unrelated_codes_do_not_match() -> None:
    mappings = load_checked_mappings(DATA)
    for term in (
        FeedTerm("esdServiceTypes", "99999"),
        FeedTerm("OpenActive", "298"),  # a bare 298 in another list is another term
        FeedTerm("esdNeeds", "298"),
        FeedTerm("x", "http://example.com/service/298"),
    ):
        found = classify([term], mappings)
        assert (found.service_type, found.needs, found.classified_by()) == (None, [], None), term


def test_needs_only_terms_and_several_types() -> None:
    mappings = load_checked_mappings(DATA)
    found = classify(
        [FeedTerm("esdNeeds", "esdNeed:69"), FeedTerm("esdServiceTypes", "833")], mappings
    )
    assert (found.service_type, sorted(found.needs)) == (None, ["discharge_support", "loneliness"])
    assert found.classified_by() == "mapping:esd"
    both = classify(
        [FeedTerm("esdServiceTypes", "298"), FeedTerm("esdServiceTypes", "1755")], mappings
    )
    assert (both.service_type, both.other_types) == ("carers_support", ["adult_social_care"])


def test_a_mapping_to_unknown_or_unclassified_types_is_an_error() -> None:
    mapping = parse_mapping(
        {
            "name": "bad",
            "lists": [{"id": "L"}],
            "terms": [
                {"list": "L", "code": "1", "label": "a", "service_type": "spaceship"},
                {"list": "L", "code": "2", "label": "b", "service_type": "unclassified"},
                {"list": "L", "code": "3", "label": "c", "needs": ["teleportation"]},
                {
                    "list": "L",
                    "code": "4",
                    "label": "d",
                    "service_type": "befriending",
                    "caller_roles": ["public", "anyone"],
                },
            ],
        },
        "bad.yaml",
    )
    errors = mapping_errors(mapping, load_vocabulary(DATA))
    assert len(errors) == 4 and "spaceship" in errors[0] and "teleportation" in errors[2]
    assert errors[3] == "bad L 4: 'anyone' is not a known caller role"


@pytest.mark.parametrize(
    ("terms", "message"),
    [
        ([{"list": "M", "code": "1", "label": "a", "needs": ["loneliness"]}], "unknown list"),
        ([{"list": "L", "code": "1", "label": "a"}], "maps to nothing"),
        (
            [
                {"list": "L", "code": "1", "label": "a", "needs": ["loneliness"]},
                {"list": "L", "code": "1", "label": "b", "needs": ["loneliness"]},
            ],
            "given twice",
        ),
        ([{"code": "1"}], "not a taxonomy mapping"),
        (
            [
                {
                    "list": "L",
                    "code": "1",
                    "label": "a",
                    "service_type": "befriending",
                    "caller_roles": [],
                }
            ],
            "caller_roles is not a list of roles",
        ),
        (
            [
                {
                    "list": "L",
                    "code": "1",
                    "label": "a",
                    "service_type": "befriending",
                    "caller_roles": "public",
                }
            ],
            "caller_roles is not a list of roles",
        ),
        (
            [
                {
                    "list": "L",
                    "code": "1",
                    "label": "a",
                    "needs": ["loneliness"],
                    "caller_roles": ["public"],
                }
            ],
            "caller_roles without a service_type",
        ),
    ],
)
def test_malformed_mapping_files_are_refused(terms: list[dict[str, object]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_mapping({"name": "m", "lists": [{"id": "L"}], "terms": terms}, "m.yaml")
