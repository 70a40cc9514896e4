"""Characters no text from outside may carry into navigator's storage or onto a page.

NUL (PostgreSQL text cannot hold it), the other C0 controls but tab, line feed and carriage
return, DEL, the C1 controls, lone surrogates (not encodable as UTF-8, so not storable), and
the bidi embedding, override and isolate characters: a directory feed, a BaRS message or an SMS
could otherwise make text read backwards in the console ("éfaC" shown for "Café", a
safeguarding flag or a patient's name reversed). HTML escaping does not touch them.
"""

from __future__ import annotations

import re
from typing import Any

UNSAFE_CHARACTERS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]"
)


def without_unsafe(value: Any) -> Any:
    """`value` with `UNSAFE_CHARACTERS` removed when it is text (a `str` subclass such as
    `markupsafe.Markup` keeps its class); any other value unchanged."""
    if isinstance(value, str) and UNSAFE_CHARACTERS.search(value):
        return type(value)(UNSAFE_CHARACTERS.sub("", value))
    return value
