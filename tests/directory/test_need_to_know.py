"""Who may update a service's capacity (`navigator.directory.need_to_know`): a provider only
its own organisation's services, by the one ODS comparison (`core.identifiers.same_ods_code`),
failing closed where either side has no code; navigators and admins any service."""

from __future__ import annotations

from typing import Any

from navigator.auth.keys import Caller
from navigator.directory.need_to_know import may_update_capacity
from navigator.directory.reference import directory_index
from tests.builders import load_directory, organisation, service


def test_a_provider_updates_only_services_of_the_organisation_with_its_ods_code(
    app_ctx: Any,
) -> None:
    load_directory(
        organisations=[
            organisation(id="rc9", ods_code="RC9"),
            organisation(id="rd8", ods_code="RD8"),
            organisation(id="no-code", ods_code=None),
        ],
        services=[
            service(id="mine", organisation="rc9"),
            service(id="theirs", organisation="rd8"),
            service(id="orphan", organisation="no-code"),
        ],
    )
    by_id = directory_index().by_id
    mine, theirs, orphan = by_id["mine"], by_id["theirs"], by_id["orphan"]
    provider = Caller(1, "rc9 client", "provider", "RC9")
    assert may_update_capacity(provider, mine)
    assert not may_update_capacity(provider, theirs)
    assert not may_update_capacity(provider, orphan)
    # Codes are compared as the need-to-know rules compare them (capitals, no surrounding
    # spaces); stored codes are normalised already, so this is what `!=` did for them.
    assert may_update_capacity(Caller(1, "rc9 client", "provider", " rc9 "), mine)
    # A provider without an organisation owns nothing, not even a service without a code
    # (`create_api_client` refuses such a provider; the exact `!=` this replaced let
    # None == None through).
    assert not may_update_capacity(Caller(2, "no org", "provider", None), orphan)
    for role in ("navigator", "admin"):
        assert all(may_update_capacity(Caller(3, role, role, None), e) for e in by_id.values())
