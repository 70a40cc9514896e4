"""Who may be texted (`navigator.sms.recipients`): only UK mobile numbers, stored in E.164.

The number rule itself is `navigator.core.identifiers.uk_mobile_e164` (tested at length in
tests/core/test_identifiers.py); these cases are the SMS hazard's (H19) verification. Which care
homes may be texted (number, consent, opt-out) is proved through `schedule_follow_ups` in
tests/sms/test_due.py."""

from __future__ import annotations

import pytest

from navigator.core.identifiers import uk_mobile_e164


@pytest.mark.parametrize(
    ("raw", "e164"), [("07700 900123", "+447700900123"), ("+44 7911 123456", "+447911123456")]
)
def test_sms_numbers_are_uk_mobiles_in_e164(raw: str, e164: str) -> None:
    assert uk_mobile_e164(raw) == e164


@pytest.mark.parametrize("raw", ["01632 960001", "0207 946 0000", "+1 202 555 0100", "hello"])
def test_landlines_foreign_and_nonsense_numbers_are_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="Not a"):
        uk_mobile_e164(raw)
