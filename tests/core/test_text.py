"""`core.text`: the characters no outside text may bring onto a page or into storage."""

from __future__ import annotations

from markupsafe import Markup

from navigator.core.text import without_unsafe


def test_bidi_overrides_controls_and_lone_surrogates_are_removed() -> None:
    assert without_unsafe("Caf\u202eé\u202c\x00\x07\ud800") == "Café"
    assert without_unsafe("tab\tand\nnew lines\r stay") == "tab\tand\nnew lines\r stay"


def test_markup_stays_markup_and_other_values_are_untouched() -> None:
    cleaned = without_unsafe(Markup("<b>\u2066x\u2069</b>"))
    assert isinstance(cleaned, Markup) and cleaned == Markup("<b>x</b>")
    assert without_unsafe(None) is None and without_unsafe(3) == 3
