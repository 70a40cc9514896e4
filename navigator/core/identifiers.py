"""Identifiers people type: NHS numbers, ODS codes, phone numbers (UK mobiles for texts, in
E.164, parsed with `phonenumbers`), postcodes.

Every identifier is normalised to ASCII here, once, before it is checked, stored or matched,
so one person has one spelling of each identifier everywhere (issue 13, section 5). A
keyboard in another script, a form that puts a phone into full-width mode, or a copy from a
right-to-left document gives `٩٤٣٤٧٦٥٩١٩` or `９４３４７６５９１９` for the NHS number
`9434765919`; Python's `\\d`, `str.isdigit` and `int()` accept all three, so without this the
same person was checked as valid and stored three times (hazard H15, "Wrong patient").

The folding (`ascii_fold`) is one rule for all identifiers:

- every decimal digit (Unicode category Nd, in any script) becomes its ASCII digit;
- any other number character (`²`, `½`, `①`, `Ⅻ`; categories No and Nl) is refused: NFKC
  would turn it into different digits or letters (`Ⅻ` into `XII`), not the digit typed;
- invisible format characters (category Cf: zero-width spaces, soft hyphens, the
  left-to-right and right-to-left marks that right-to-left text carries around digits) are
  dropped; any space separator (Zs) becomes a space and any dash (Pd) a hyphen-minus;
- everything else is NFKC-normalised, which turns full-width and other compatibility
  letters (`ＭＫ４２`) into ASCII;
- anything still not ASCII after that (`É`, a combining accent, Cyrillic `М`) is refused.

Each `normalise_*` function returns the one canonical ASCII spelling of its identifier, or
None when the text is not one. This module imports no navigator package (it is kernel code).
"""

from __future__ import annotations

import re
import unicodedata

import nhs_number as _nhs_number
import phonenumbers

__all__ = [
    "BFPO",
    "NON_GEOGRAPHIC_AREAS",
    "SPECIAL_POSTCODES",
    "ascii_fold",
    "is_geographic_postcode",
    "normalise_nhs_number",
    "normalise_ods_code",
    "normalise_phone",
    "normalise_postcode",
    "uk_mobile_e164",
]


def ascii_fold(value: str) -> str | None:
    """`value` with every digit in ASCII and every letter in its NFKC (ASCII) form; None
    when a character cannot be folded to ASCII (see the module docstring for the rules).
    Case and spacing are left as typed: each identifier's own function decides those."""
    out = []
    for char in value:
        if char.isascii():
            out.append(char)
            continue
        category = unicodedata.category(char)
        if category == "Nd":
            out.append(chr(0x30 + unicodedata.decimal(char)))
        elif category in ("No", "Nl"):
            return None
        elif category == "Cf":
            continue
        elif category == "Zs":
            out.append(" ")
        elif category == "Pd":
            out.append("-")
        else:
            out.append(unicodedata.normalize("NFKC", char))
    folded = "".join(out)
    return folded if folded.isascii() else None


def _compact(value: str) -> str | None:
    """Folded, with ASCII whitespace and hyphens removed (separators people type inside
    numbers: `943 476 5919`, `943-476-5919`)."""
    folded = ascii_fold(value)
    return None if folded is None else re.sub(r"[\s-]", "", folded)


# --- NHS numbers -----------------------------------------------------------------------------

_TEN_DIGITS = re.compile(r"[0-9]{10}")


def normalise_nhs_number(value: str) -> str | None:
    """The 10 ASCII digits of a valid NHS number, else None.

    Digits in any script, spaces (any kind) and hyphens are accepted; the modulus-11 check
    digit must hold (NHS Data Dictionary, "NHS Number"). The check alone accepts 0000000000
    and 1111111111; those are never issued and usually mean "unknown" typed into the box, so
    numbers of one repeated digit are refused too.
    """
    digits = _compact(value)
    if digits is None or not _TEN_DIGITS.fullmatch(digits) or len(set(digits)) == 1:
        return None
    return digits if _nhs_number.is_valid(digits) else None


# --- ODS codes -------------------------------------------------------------------------------

_ODS = re.compile(r"[A-Z0-9]{3,10}")


def normalise_ods_code(value: str) -> str | None:
    """An Organisation Data Service code in capitals (`RC9`, `E81001`), else None.

    3 to 10 letters and digits (trusts have 3, their sites 5, GP practices 6); surrounding
    whitespace is ignored, inner whitespace is not (it is two codes or a typo)."""
    folded = ascii_fold(value)
    if folded is None:
        return None
    code = folded.strip().upper()
    return code if _ODS.fullmatch(code) else None


def comparable_ods_code(code: str) -> str:
    """`code` as ODS codes are compared: surrounding whitespace dropped, in capitals.

    Codes are normalised where they come in (`normalise_ods_code`: the directory loader, the
    API's fields, `api-client create`), so for those this changes nothing; it keeps a
    comparison right for a code set another way (`create_api_client` only capitalises)."""
    return code.strip().upper()


def same_ods_code(a: str | None, b: str | None) -> bool:
    """Do two ODS codes name the same organisation ("does this provider own this code")?

    False when either is missing, so it fails closed: a caller with no organisation owns
    nothing, and a service whose organisation has no ODS code belongs to no provider."""
    return a is not None and b is not None and comparable_ods_code(a) == comparable_ods_code(b)


# --- phone numbers ---------------------------------------------------------------------------

_PHONE = re.compile(r"\+?[0-9 ()]+")


def normalise_phone(value: str) -> str | None:
    """A phone number in ASCII as written for people to read (`01632 960500`,
    `+44 7700 900123`), else None.

    Digits in any script become ASCII; hyphens and runs of spaces become single spaces; only
    digits, spaces, parentheses and one leading `+` may remain, with at least 3 digits (`111`
    and `999` are numbers too). Whether it is a real, possible or mobile number is for the
    caller to check (`phonenumbers`) on this ASCII text.
    """
    folded = ascii_fold(value)
    if folded is None:
        return None
    text = " ".join(folded.replace("-", " ").split())
    if not _PHONE.fullmatch(text) or sum(c.isdigit() for c in text) < 3:
        return None
    return text


# --- postcodes -------------------------------------------------------------------------------
#
# The position rules of the UK postcode format (Royal Mail's Postcode Address File
# programmers' guide, as restated by the Government Data Standards Catalogue and the ONS;
# https://en.wikipedia.org/wiki/Postcodes_in_the_United_Kingdom#Validation):
# - outward code A9, A99, A9A, AA9, AA99 or AA9A; inward code 9AA;
# - first position never Q, V or X;
# - second position (a letter, in AA formats) never I, J or Z;
# - third position, in A9A, only A B C D E F G H J K P S T U W;
# - fourth position, in AA9A, only A B E H M N P R V W X Y;
# - the inward code's letters never C, I, K, M, O or V (they look like digits or each other
#   when handwritten).
_FIRST = "[A-PR-UWYZ]"
_SECOND = "[A-HK-Y]"
_THIRD = "[A-HJKPSTUW]"
_FOURTH = "[ABEHMNPRVWXY]"
_INWARD_LETTER = "[ABD-HJLNP-UW-Z]"
_OUTWARD = (
    f"{_FIRST}[0-9][0-9]?|{_FIRST}{_SECOND}[0-9][0-9]?"
    f"|{_FIRST}[0-9]{_THIRD}|{_FIRST}{_SECOND}[0-9]{_FOURTH}"
)
_FULL_POSTCODE = re.compile(f"({_OUTWARD}) ?([0-9]{_INWARD_LETTER}{{2}})")
_OUTWARD_ONLY = re.compile(f"(?:{_OUTWARD})")

# Valid postcodes that locate nowhere: mail for them is delivered, but not to a place in
# England where a care service could be. mySociety MapIt's list of special postcodes
# (mapit_gb/countries.py, quoted in alphagov/govuk-coronavirus-vulnerable-people-form#71):
# British overseas territories, Girobank's GIR 0AA (which breaks the second-position rule),
# and Royal Mail's letters to Santa (SAN TA1; XM4 5HQ breaks the first-position rule).
# Gibraltar's GX11 1AA is added from the same Wikipedia section.
SPECIAL_POSTCODES = frozenset(
    {
        "ASCN 1ZZ",  # Ascension Island
        "BBND 1ZZ",  # British Indian Ocean Territory
        "BIQQ 1ZZ",  # British Antarctic Territory
        "FIQQ 1ZZ",  # Falkland Islands
        "GX11 1AA",  # Gibraltar
        "PCRN 1ZZ",  # Pitcairn Islands
        "SIQQ 1ZZ",  # South Georgia and the South Sandwich Islands
        "STHL 1ZZ",  # St Helena
        "TDCU 1ZZ",  # Tristan da Cunha
        "TKCA 1ZZ",  # Turks and Caicos Islands
        "GIR 0AA",  # Girobank (now Santander), Bootle
        "SAN TA1",  # Santa Claus
        "XM4 5HQ",  # Santa Claus, before SAN TA1
    }
)
# British Forces Post Office numbers, written `BFPO 1234` in an address (1 to 4 digits).
BFPO = re.compile(r"BFPO ?([0-9]{1,4})")
# Postcode areas with no geography: BF (BFPO's own postcodes, BF1 2AY) and BX (mail sorted
# for banks and government departments wherever they are).
NON_GEOGRAPHIC_AREAS = frozenset({"BF", "BX"})
_SPECIAL_COMPACT = {code.replace(" ", ""): code for code in SPECIAL_POSTCODES}


def normalise_postcode(value: str, *, allow_outward: bool = True) -> str | None:
    """The postcode in capitals with one space before the inward code (`MK42 9DJ`), the
    outward code alone (`MK42`, when `allow_outward`), `BFPO 123`, or one of
    `SPECIAL_POSTCODES`; None when it breaks the format's position rules (`QK1 1AA`,
    `MK42 9CI`). Any spacing is accepted (`mk429dj`, `MK42  9DJ`)."""
    folded = ascii_fold(value)
    if folded is None:
        return None
    compact = "".join(folded.split()).upper()
    if compact in _SPECIAL_COMPACT:
        return _SPECIAL_COMPACT[compact]
    if match := BFPO.fullmatch(compact):
        return f"BFPO {match.group(1)}"
    if match := _FULL_POSTCODE.fullmatch(compact):
        return f"{match.group(1)} {match.group(2)}"
    if allow_outward and _OUTWARD_ONLY.fullmatch(compact):
        return compact
    return None


def is_geographic_postcode(text: str) -> bool:
    """False for a normalised postcode that is valid but locates nowhere (BFPO, the
    overseas territories, GIR 0AA, the BF and BX areas): out of area, not an error."""
    if text in SPECIAL_POSTCODES or BFPO.fullmatch(text):
        return False
    area = re.match(r"[A-Z]{1,2}", text)
    return area is None or area.group(0) not in NON_GEOGRAPHIC_AREAS


# Ofcom's drama range for mobiles (07700 900000–900999): never a real subscriber, and not
# "valid" to phonenumbers, so it is allowed explicitly for test and demo data.
DRAMA_MOBILE = re.compile(r"^\+447700900\d{3}$")


def uk_mobile_e164(value: str) -> str:
    """The number in E.164 (`+447700900123`); ValueError unless it is a UK mobile number.

    Folded to ASCII first (`navigator.core.identifiers.normalise_phone`): digits of any script are
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
