"""UK mobile numbers for texts: parsed with `phonenumbers`, stored E.164."""

from __future__ import annotations

import re

import phonenumbers

from navigator.identifiers import normalise_phone

# Ofcom's drama range for mobiles (07700 900000–900999): never a real subscriber, and not
# "valid" to phonenumbers, so it is allowed explicitly for test and demo data.
DRAMA_MOBILE = re.compile(r"^\+447700900\d{3}$")


def uk_mobile_e164(value: str) -> str:
    """The number in E.164 (`+447700900123`); ValueError unless it is a UK mobile number.

    Folded to ASCII first (`navigator.identifiers.normalise_phone`): digits of any script are
    accepted, and letters are not (`phonenumbers` would read `07700 FLOWER` as a keypad
    spelling, a number nobody typed)."""
    ascii_text = normalise_phone(value)
    if ascii_text is None:
        raise ValueError("Not a phone number")
    try:
        parsed = phonenumbers.parse(ascii_text, "GB")
    except phonenumbers.NumberParseException as exc:
        raise ValueError("Not a phone number") from exc
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if DRAMA_MOBILE.match(e164):
        return e164
    if parsed.country_code != 44 or not phonenumbers.is_valid_number(parsed):
        raise ValueError("Not a valid UK phone number")
    if phonenumbers.number_type(parsed) != phonenumbers.PhoneNumberType.MOBILE:
        raise ValueError("Not a UK mobile number (texts need a mobile)")
    return e164
