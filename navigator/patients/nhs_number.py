"""NHS number validation: 10 digits, modulus-11 check digit, no all-same-digit numbers.

The one normalisation lives in `navigator.identifiers` (with the other identifiers'); it is
re-exported here so patient code keeps importing it from the patients package.
"""

from __future__ import annotations

from navigator.identifiers import normalise_nhs_number

__all__ = ["normalise_nhs_number"]
