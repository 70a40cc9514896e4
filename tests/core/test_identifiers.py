"""Identifiers normalised to one ASCII spelling: NHS numbers, ODS codes, phone numbers and
postcodes (`navigator.core.identifiers`; issue 13, section 5; hazard H15, "Wrong patient").

Protects: an identifier typed in any digit script, in full width or with odd spaces is
checked, stored and matched as its ASCII spelling; anything that is still not ASCII is
refused; postcodes obey the published format's position rules, and the valid non-geographic
ones are recognised. Property tests cover every Unicode digit script; the worked values of
the issue and inputs from public bug reports (named) are fixed cases.
"""

from __future__ import annotations

import sys
import unicodedata

import nhs_number
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from navigator.core.identifiers import (
    ascii_fold,
    is_geographic_postcode,
    normalise_nhs_number,
    normalise_ods_code,
    normalise_phone,
    normalise_postcode,
    same_ods_code,
    uk_mobile_e164,
)
from navigator.core.places import Gazetteer, parse_postcode

# The zero of every decimal digit script in Unicode (ASCII, Arabic-Indic, Devanagari,
# full-width, mathematical bold, ...): each script's digits 0-9 are consecutive code points.
ZEROS = [
    chr(c)
    for c in range(sys.maxunicode + 1)
    if unicodedata.category(chr(c)) == "Nd" and unicodedata.decimal(chr(c)) == 0
]
SEPARATORS = [" ", "-", "\u00a0", "\u2007", "\u3000", "\u2010", "\u200b", "\u200e", "\u200f"]


def in_script(ascii_digits: str, zero: str) -> str:
    return "".join(chr(ord(zero) + int(d)) if d.isdigit() else d for d in ascii_digits)


def check_digit(nine: str) -> int:
    """NHS Data Dictionary, "NHS Number": weights 10..2, 11 - (sum mod 11), 11 means 0."""
    check = 11 - sum(int(d) * w for d, w in zip(nine, range(10, 1, -1), strict=True)) % 11
    return 0 if check == 11 else check


@st.composite
def _checked_numbers(draw: st.DrawFn) -> str:
    nine = draw(st.text(alphabet="0123456789", min_size=9, max_size=9))
    return f"{nine}{check_digit(nine)}"


# Valid in ASCII: the check digit holds (not 10), not one repeated digit, and (the `nhs-number`
# library's extra rule) a number in Scotland's CHI range starts with a real DDMMYY date.
valid_nhs_numbers = _checked_numbers().filter(
    lambda n: len(n) == 10 and len(set(n)) > 1 and nhs_number.is_valid(n)
)


def test_every_digit_script_is_found() -> None:
    """The property tests below range over every script (a guard against an empty list)."""
    assert {"0", "\u0660", "\u06f0", "\u0966", "\uff10"} <= set(ZEROS) and len(ZEROS) > 50


@given(valid_nhs_numbers, st.lists(st.sampled_from(ZEROS), min_size=10, max_size=10))
def test_a_valid_nhs_number_in_any_digit_scripts_is_its_ascii_digits(
    number: str, zeros: list[str]
) -> None:
    """Each digit may come from a different script: the result is always the ASCII number."""
    typed = "".join(chr(ord(zero) + int(d)) for d, zero in zip(number, zeros, strict=True))
    assert normalise_nhs_number(typed) == number


@given(valid_nhs_numbers, st.sampled_from(ZEROS), st.sampled_from(SEPARATORS))
def test_spaced_nhs_numbers_in_any_script_normalise_alike(
    number: str, zero: str, separator: str
) -> None:
    """`943 476 5919` spaced with any kind of space or dash (and invisible marks)."""
    spaced = separator.join((number[:3], number[3:6], number[6:]))
    assert normalise_nhs_number(in_script(spaced, zero)) == number


@given(valid_nhs_numbers, st.integers(0, 9), st.integers(1, 9))
def test_one_wrong_digit_fails_the_check_in_any_script(number: str, at: int, shift: int) -> None:
    """Modulus 11 catches every single-digit error, whatever script it was typed in."""
    wrong = number[:at] + str((int(number[at]) + shift) % 10) + number[at + 1 :]
    assert normalise_nhs_number(in_script(wrong, "\uff10")) is None


@given(st.text(max_size=30))
@example("٩٤٣٤٧٦٥٩١٩")
@example("²434765919")
def test_whatever_is_accepted_is_ascii_and_a_fixed_point(text: str) -> None:
    """Every normaliser returns None or ASCII, and normalising again changes nothing."""
    for normalise in (
        normalise_nhs_number,
        normalise_ods_code,
        normalise_phone,
        normalise_postcode,
    ):
        result = normalise(text)
        if result is not None:
            assert result.isascii() and normalise(result) == result
    folded = ascii_fold(text)
    assert folded is None or folded.isascii()


@given(st.text(max_size=12))
def test_any_string_the_postcode_parser_accepts_is_ascii(text: str) -> None:
    parsed = parse_postcode(text)
    if parsed is not None:
        assert parsed.text.isascii() and parse_postcode(parsed.text) == parsed


# --- postcodes: the format's position rules ----------------------------------------------------
#
# Royal Mail's rules as the Government Data Standards Catalogue publishes them (and
# https://en.wikipedia.org/wiki/Postcodes_in_the_United_Kingdom#Validation):
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
FIRST = LETTERS.translate(str.maketrans("", "", "QVX"))
SECOND = LETTERS.translate(str.maketrans("", "", "IJZ"))
THIRD = "ABCDEFGHJKPSTUW"  # in A9A
FOURTH = "ABEHMNPRVWXY"  # in AA9A
INWARD = LETTERS.translate(str.maketrans("", "", "CIKMOV"))
DIGITS = "0123456789"


@st.composite
def valid_postcodes(draw: st.DrawFn) -> str:
    shape = draw(st.sampled_from(["A9", "A99", "A9A", "AA9", "AA99", "AA9A"]))
    pools = {
        "A9": (FIRST, DIGITS),
        "A99": (FIRST, DIGITS, DIGITS),
        "A9A": (FIRST, DIGITS, THIRD),
        "AA9": (FIRST, SECOND, DIGITS),
        "AA99": (FIRST, SECOND, DIGITS, DIGITS),
        "AA9A": (FIRST, SECOND, DIGITS, FOURTH),
    }[shape]
    outward = "".join(draw(st.sampled_from(pool)) for pool in pools)
    inward = draw(st.sampled_from(DIGITS)) + "".join(draw(st.sampled_from(INWARD)) for _ in "ab")
    return f"{outward} {inward}"


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c != " " else "\u3000" for c in text)


@given(valid_postcodes())
def test_valid_postcodes_are_accepted_in_any_case_spacing_and_width(postcode: str) -> None:
    for typed in (postcode, postcode.lower(), postcode.replace(" ", ""), full_width(postcode)):
        assert normalise_postcode(typed) == postcode
    parsed = parse_postcode(in_script(postcode, "\u0660"))
    assert parsed is not None and parsed.text == postcode


@given(valid_postcodes(), st.data())
def test_a_letter_the_rules_forbid_in_its_position_is_refused(
    postcode: str, data: st.DataObject
) -> None:
    """Put a forbidden letter in one position: the postcode is no longer valid."""
    outward, inward = postcode.split(" ")
    shape = "".join("9" if c.isdigit() else "A" for c in outward)
    choices: list[tuple[str, str]] = [("first", "QVX"), ("inward", "CIKMOV")]
    if shape.startswith("AA"):
        choices.append(("second", "IJZ"))
    if shape == "A9A":
        choices.append(("third", "".join(c for c in LETTERS if c not in THIRD)))
    if shape == "AA9A":
        choices.append(("fourth", "".join(c for c in LETTERS if c not in FOURTH)))
    where, forbidden = data.draw(st.sampled_from(choices))
    letter = data.draw(st.sampled_from(forbidden))
    if where == "inward":
        bad = f"{outward} {inward[0]}{letter}{inward[2]}"
    else:
        index = {"first": 0, "second": 1, "third": 2, "fourth": 3}[where]
        bad = f"{outward[:index]}{letter}{outward[index + 1 :]} {inward}"
    assert normalise_postcode(bad) is None and parse_postcode(bad) is None


@pytest.mark.parametrize(
    "typed",
    [
        "MK42 9CI",  # issue 13, section 5: C and I are never inward letters
        "MK42 9OV",  # issue 13: O and V neither
        "QK1 1AA",  # issue 13: Q is never first
        "BI56 3QX",  # faker-ruby/faker#44: I is never second
        "EC1V OBW",  # google/libaddressinput#123: a letter O where the sector digit goes
        "@WV11 2HE",  # hmcts/sscs-submit-your-appeal#373: a symbol before the postcode
        "MK42 9ＤÉ",  # still not ASCII after folding
        "ⅯK42 9DJ",  # a Roman numeral Ⅿ (category Nl) is not the letter M
    ],
)
def test_impossible_postcodes_are_refused(typed: str) -> None:
    assert parse_postcode(typed) is None


@pytest.mark.parametrize(
    ("typed", "text"),
    [
        ("ＭＫ４２ ９ＤＪ", "MK42 9DJ"),  # issue 13: full-width
        ("mk42\u00a09dj", "MK42 9DJ"),
        ("CR0 0XZ", "CR0 0XZ"),  # sarcadass/i18n-zipcodes#22: district 0, sector 0 (Croydon)
        ("W1A 1HQ", "W1A 1HQ"),  # A9A
        ("EC1A 1BB", "EC1A 1BB"),  # AA9A
        ("N1P 1AA", "N1P 1AA"),  # P in the third position (since 2012's N1P)
        ("SE1P 5LX", "SE1P 5LX"),  # P in the fourth position
    ],
)
def test_real_postcodes_are_accepted(typed: str, text: str) -> None:
    parsed = parse_postcode(typed)
    assert parsed is not None and parsed.text == text and parsed.geographic


@pytest.mark.parametrize(
    ("typed", "text"),
    [
        ("GIR 0AA", "GIR 0AA"),  # Girobank: breaks the second-position rule, yet valid
        ("GIR0AA", "GIR 0AA"),  # alphagov/collections#2181: without its space
        ("BFPO 61", "BFPO 61"),  # google/libaddressinput#123: the BFPO form of an address
        ("BF1 2AY", "BF1 2AY"),  # google/libaddressinput#123: BFPO's own postcode
        ("bfpo1234", "BFPO 1234"),
        ("STHL 1ZZ", "STHL 1ZZ"),  # alphagov/govuk-coronavirus-vulnerable-people-form#71
        ("FIQQ 1ZZ", "FIQQ 1ZZ"),  # (MapIt's list of special postcodes)
        ("SAN TA1", "SAN TA1"),
        ("GX11 1AA", "GX11 1AA"),  # Gibraltar
    ],
)
def test_valid_non_geographic_postcodes_are_out_of_area_not_errors(typed: str, text: str) -> None:
    """Issue 13: GIR 0AA and BFPO are valid postcodes that locate nowhere in BLMK."""
    parsed = parse_postcode(typed, allow_outward=False)
    assert parsed is not None and parsed.text == text and not parsed.geographic
    assert not is_geographic_postcode(text)
    # Even where an area of the same letters is known (SAN's "SA", GIR's "GI"), it locates
    # nowhere: no place and no point to measure distances from.
    gazetteer = Gazetteer({"SAN": ("bedford", 52.1, -0.4)}, {"SA": (51.6, -3.9), "GI": (0, 0)})
    located = gazetteer.locate(parsed)
    assert located.place is None and located.point is None


def test_an_outward_code_alone_is_a_district_only_where_allowed() -> None:
    assert normalise_postcode("ＭＫ４２") == "MK42"
    assert normalise_postcode("MK42", allow_outward=False) is None
    assert normalise_postcode("QK1") is None


# --- NHS numbers, ODS codes and phone numbers: fixed cases -----------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "９４３４７６５９１９",  # issue 13, section 5: full-width
        "٩٤٣٤٧٦٥٩١٩",  # issue 13: Arabic-Indic
        "۹۴۳۴۷۶۵۹۱۹",  # Extended Arabic-Indic (Persian), as in jackocnr/intl-tel-input#2105
        "943 476 5919",
        "943-476-5919",
        "943\u00a0476\u00a05919",  # NHSDigital/manage-vaccinations-in-schools#3560
        "\u200f٩٤٣٤٧٦٥٩١٩\u200f",  # right-to-left marks copied with Arabic-Indic digits
    ],
)
def test_the_issues_nhs_number_in_every_spelling_is_9434765919(typed: str) -> None:
    assert normalise_nhs_number(typed) == "9434765919"


@pytest.mark.parametrize(
    "typed",
    [
        "９４３４７６５９１８",  # apache/commons-validator#380: a full-width number must still
        "٩٤٣٤٧٦٥٩١٨",  # pass its check digit (the wrong last digit here)
        "٠٠٠٠٠٠٠٠٠٠",  # all one digit: "unknown", never issued
        "⑨434765919",  # a circled digit (category No) is not a digit someone typed
        "94347659１9x",
        "9434765919\u0301",  # a combining accent stays non-ASCII
    ],
)
def test_nhs_numbers_that_are_not_valid_in_any_script_are_refused(typed: str) -> None:
    assert normalise_nhs_number(typed) is None


@pytest.mark.parametrize(
    ("typed", "code"),
    [("RC9", "RC9"), (" ｒｃ９ ", "RC9"), ("e81001", "E81001"), ("Ｅ８１٠٠١", "E81001")],
)
def test_ods_codes_are_ascii_capitals(typed: str, code: str) -> None:
    assert normalise_ods_code(typed) == code


@pytest.mark.parametrize("typed", ["R C9", "RC", "RC9-01", "ＲС９"])  # С: Cyrillic Es
def test_text_that_is_not_an_ods_code_is_refused(typed: str) -> None:
    assert normalise_ods_code(typed) is None


def test_one_ods_comparison_folds_case_and_spaces_and_fails_closed() -> None:
    """One answer to "does this provider own this code", for referrals, DTOC episodes and capacity.
    A missing code on either side matches nothing, so a caller without an organisation, or a
    service without a code, is nobody's."""
    assert same_ods_code("RC9", "RC9")
    assert same_ods_code(" rc9", "RC9 ")
    assert not same_ods_code("RC9", "RD8")
    assert not same_ods_code("RC9", "RC91")
    assert not same_ods_code(None, "RC9")
    assert not same_ods_code("RC9", None)
    assert not same_ods_code(None, None)


@given(st.sampled_from(ZEROS), st.integers(0, 999))
def test_a_mobile_number_in_any_digit_script_is_one_e164_number(zero: str, n: int) -> None:
    """jackocnr/intl-tel-input#2105: Arabic and Persian keyboards type other digits; the
    number texted and matched against replies is the same E.164 whatever the script."""
    typed = in_script(f"07700 900{n:03d}", zero)
    assert uk_mobile_e164(typed) == f"+447700900{n:03d}"


def test_phone_numbers_keep_their_layout_in_ascii() -> None:
    assert normalise_phone("٠١٦٣٢ ٩٦٠٥٠٠") == "01632 960500"
    assert normalise_phone("+44 (0)1632-960500") == "+44 (0)1632 960500"
    assert normalise_phone("111") == "111"
    assert normalise_phone("07700 FLOWER") is None  # not a keypad spelling
    with pytest.raises(ValueError, match="Not a phone number"):
        uk_mobile_e164("07700 FLOWER")
