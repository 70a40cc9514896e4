"""Open Referral UK export: navigator's vocabulary as HSDS taxonomy terms, and no
professional-only detail in a public export (hazard H5)."""

from __future__ import annotations

import json

from sqlalchemy.orm import Session

from navigator.core.reference import VOCABULARY
from navigator.directory.oruk_export import export_oruk
from tests.builders import load_directory, service


def test_vocabulary_terms_appear_as_oruk_attributes(session: Session) -> None:
    load_directory(services=[service(id="s", needs=["loneliness", "carer_support"])])
    item = export_oruk(session, VOCABULARY.get(), include_professional=False)[0]
    names = {a["taxonomy_term"].get("code") for a in item["attributes"]}
    assert {"urgent_community_response", "loneliness", "carer_support", "community"} <= names


def test_a_public_export_leaves_out_professional_details(session: Session) -> None:
    """The professional line and referral instructions appear only in a professional export,
    in any field, including the `navigator-details` attribute."""
    load_directory(services=[service(id="s")])
    public = json.dumps(export_oruk(session, include_professional=False))
    professional = json.dumps(export_oruk(session, include_professional=True))
    for secret in ("01632 960002", "Ring the professional line."):
        assert secret not in public
        assert secret in professional
    assert "01632 960001" in public  # the public number stays
