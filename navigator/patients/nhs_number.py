"""NHS number validation: 10 digits, modulus-11 check digit, no all-same-digit numbers."""

from __future__ import annotations

import re

import nhs_number


def normalise_nhs_number(value: str) -> str | None:
    """The 10 digits of a valid NHS number (spaces and hyphens allowed), else None.

    The modulus-11 check alone accepts 0000000000 and 1111111111; those are never issued and
    usually mean "unknown" typed into the box, so they are refused too.
    """
    digits = re.sub(r"[\s-]", "", value or "")
    if not re.fullmatch(r"\d{10}", digits) or len(set(digits)) == 1:
        return None
    return digits if nhs_number.is_valid(digits) else None
