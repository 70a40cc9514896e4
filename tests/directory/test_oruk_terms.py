"""The ids navigator publishes in its ORUK feed never change.

Protects: consumers of `/oruk/` store taxonomy, term and object ids and filter by them
(`taxonomy_id`, `taxonomy_term_id`); if the derivation changed (namespace, separator, part
order), every published id would silently point at nothing.
"""

from __future__ import annotations

from flask import Flask

from navigator.core.reference import VOCABULARY
from navigator.directory.oruk_terms import stable_id, taxonomy_id, term_id, term_object


def test_published_ids_are_pinned() -> None:
    assert taxonomy_id("needs") == "0fd42a87-9cd4-5cc0-8ab6-8bdc5dd1dc93"
    assert term_id("needs", "loneliness") == "6a05098e-368d-539f-94bc-6e8cfcafa190"
    assert stable_id("ucr", "phone", "public") == "4e1dec6b-660c-528a-a133-a1a11a96dabe"


def test_a_term_object_names_its_taxonomy_by_name_and_id(app_ctx: Flask) -> None:
    term = term_object(VOCABULARY.get(), "needs", "loneliness")
    assert (term["id"], term["code"]) == (term_id("needs", "loneliness"), "loneliness")
    assert (term["taxonomy"], term["taxonomy_id"]) == ("navigator-needs", taxonomy_id("needs"))
