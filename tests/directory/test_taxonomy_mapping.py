"""Taxonomy mappings (issue 15 §2): the shipped ESD mapping names only real navigator types
and needs, and a feed's ESD term matches in every code form real feeds use.

Source of the code forms and the seed terms: the HSDS-UK developer docs
(`OpenReferralUK/human-services` gh-pages `pages/Data/UseOfTaxonomies.md` and README;
tests/data/oruk/NOTES.md §7): full URI `http://id.esd.org.uk/service/833`, CURIE
`esdServiceType:242`, vocabulary `esdServiceTypes` with the term id.
"""

from __future__ import annotations

import pytest

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
    mappings = load_checked_mappings(DATA)  # raises on any unknown type or need
    assert [m.name for m in mappings] == ["esd"]
    assert mappings[0].terms  # not empty


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
            ],
        },
        "bad.yaml",
    )
    errors = mapping_errors(mapping, load_vocabulary(DATA))
    assert len(errors) == 3 and "spaceship" in errors[0] and "teleportation" in errors[2]


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
    ],
)
def test_malformed_mapping_files_are_refused(terms: list[dict[str, object]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_mapping({"name": "m", "lists": [{"id": "L"}], "terms": terms}, "m.yaml")
