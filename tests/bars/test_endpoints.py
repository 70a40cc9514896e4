"""Where navigator may send a referral's status responses (navigator/bars/endpoints.py,
`allowed_endpoint`; issue 16 §1 "Referral status goes back to the sender").

Protects: a `MessageHeader.source.endpoint` decides where patient data goes, so only an https
URL (or http to a loopback host, for the local fake sender) without user info, query, fragment
or dot segments, on the scheme, host and port of one of the operator's registered endpoints
(`BARS_SENDER_ENDPOINTS`) and at or below its path by whole segments, is allowed; any other
scheme, a malformed URL, one outside every registered endpoint (a look-alike host such as
`ems.example.nhs.uk.evil.example.com` included), and an empty list refuse it.
"""

from __future__ import annotations

import pytest

from navigator.bars.endpoints import allowed_endpoint

PREFIXES = ("https://ems.example.nhs.uk/bars/", "http://127.0.0.1:8099/bars", "http://localhost:1/")


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://ems.example.nhs.uk/bars/",
        "https://ems.example.nhs.uk/bars/$process-message",
        "https://ems.example.nhs.uk/bars/v1/",
        "https://EMS.example.NHS.uk:443/bars/",  # host case and the default port do not matter
        "HTTPS://ems.example.nhs.uk/bars",  # the registered path, without its slash
    ],
)
def test_https_under_a_registered_prefix_is_allowed(endpoint: str) -> None:
    assert allowed_endpoint(endpoint, PREFIXES)


@pytest.mark.parametrize(
    ("endpoint", "prefixes"),
    [
        ("http://127.0.0.1:8099/bars", PREFIXES),
        ("http://localhost:1/x", PREFIXES),
        ("http://[::1]:8099/bars", ("http://[::1]:8099/",)),
        ("http://127.0.0.2/bars", ("http://127.0.0.2/",)),  # all of 127/8 is loopback
    ],
)
def test_http_only_to_a_loopback_host(endpoint: str, prefixes: tuple[str, ...]) -> None:
    """The local fake sender listens on loopback over plain http; that is the only http."""
    assert allowed_endpoint(endpoint, prefixes)


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://ems.example.nhs.uk/bars/",
        "http://10.0.0.1/bars/",
        "http://localhost.example.com/bars/",
        "http://127.0.0.1.nip.io/bars/",
    ],
)
def test_http_to_any_other_host_is_refused_even_when_registered(endpoint: str) -> None:
    """Registering an http URL by mistake does not send patient data in clear text."""
    assert not allowed_endpoint(endpoint, (endpoint,))


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://user@ems.example.nhs.uk/bars/",
        "https://user:secret@ems.example.nhs.uk/bars/",
        "https://:secret@ems.example.nhs.uk/bars/",
        "http://ems.example.nhs.uk@127.0.0.1/bars/",
    ],
)
def test_user_info_is_refused(endpoint: str) -> None:
    """A URL with user info can pass a prefix check yet name another host ("a@b" is host b),
    and it carries credentials: refused even when it matches a prefix given as-is."""
    assert not allowed_endpoint(endpoint, (endpoint,))


@pytest.mark.parametrize(
    "endpoint",
    [
        "ftp://ems.example.nhs.uk/bars/",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "mllp://ems.example.nhs.uk/bars/",
        "//ems.example.nhs.uk/bars/",
    ],
)
def test_other_schemes_are_refused(endpoint: str) -> None:
    assert not allowed_endpoint(endpoint, (endpoint,))


@pytest.mark.parametrize(
    "endpoint",
    [
        "",
        "https://",
        "https:///bars/",
        "https://[::1/bars/",  # an unclosed IPv6 literal: urlsplit raises
        "https://ems.example.nhs.uk:notaport/bars/",
        "not a url",
        "https://fhir.nhs.uk/Id/dos-service-id|2222222222",  # REFREQ01's, with no prefix
    ],
)
def test_malformed_urls_are_refused(endpoint: str) -> None:
    assert not allowed_endpoint(endpoint, PREFIXES)


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://ems.example.nhs.uk/other/",
        "https://ems.example.nhs.uk/bar",
        "https://evil.example.com/bars/",
        "https://ems.example.nhs.uk.evil.example.com/bars/",
        "https://ems.example.nhs.uk/barsX/",  # whole path segments, not a text prefix
        "https://ems.example.nhs.uk:8443/bars/",  # another port
        "http://127.0.0.1:8098/bars",  # another loopback port
    ],
)
def test_a_url_outside_every_prefix_is_refused(endpoint: str) -> None:
    assert not allowed_endpoint(endpoint, PREFIXES)


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://ems.example.nhs.uk/bars/?x=1",
        "https://ems.example.nhs.uk/bars/#frag",
        "https://ems.example.nhs.uk/bars/../admin/",
        "https://ems.example.nhs.uk/bars/%2e%2e/admin/",
        "https://ems.example.nhs.uk/bars/./x",
        "https://ems.example.nhs.uk/bars\\@evil.example.com/",
        "https://ems.example.nhs.uk/bars/" + "x" * 500,  # longer than its column
    ],
)
def test_queries_fragments_dot_segments_and_overlong_urls_are_refused(endpoint: str) -> None:
    """Each could leave the registered path once a client or proxy normalises it."""
    assert not allowed_endpoint(endpoint, PREFIXES)


def test_no_prefixes_or_empty_ones_allow_nothing() -> None:
    """An empty prefix would match every URL: it must not open the door."""
    endpoint = "https://ems.example.nhs.uk/bars/"
    assert not allowed_endpoint(endpoint, ())
    assert not allowed_endpoint(endpoint, ("",))
    assert not allowed_endpoint(endpoint, ["", ""])
    assert allowed_endpoint(endpoint, ["", endpoint])
