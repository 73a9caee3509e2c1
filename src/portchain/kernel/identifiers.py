"""Trade identifiers with check digits and formats (DOMAIN.md, Identifiers).

Shared by every module that names a container, a port, a terminal or a ship, so the
rule is written once: pydantic ``Annotated`` types whose error text states the rule.
"""

from __future__ import annotations

from typing import Annotated

import pycountry
from pydantic import AfterValidator

_LETTER_VALUES = {
    letter: value
    for letter, value in zip(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        [v for v in range(10, 39) if v % 11 != 0],
        strict=True,
    )
}
"""ISO 6346 letter values: A=10 upwards, skipping multiples of 11 (so B=12, L=23, V=34)."""


def iso6346_check_digit(first_ten: str) -> int:
    """The check digit of the owner code, category and serial (10 characters)."""
    total = 0
    for i, ch in enumerate(first_ten):
        value = int(ch) if ch.isdigit() else _LETTER_VALUES[ch]
        total += value << i
    return total % 11 % 10


def _container_number(number: str) -> str:
    if (
        len(number) != 11
        or not number[:3].isascii()
        or not number[:3].isalpha()
        or not number[:3].isupper()
        or number[3] not in "UJZ"
        or not number[4:].isascii()
        or not number[4:].isdigit()
    ):
        raise ValueError(
            "must be an ISO 6346 container number: 3-letter owner code, category U, J or Z, "
            "6-digit serial and check digit, e.g. MSKU9070323"
        )
    if iso6346_check_digit(number[:10]) != int(number[10]):
        raise ValueError(
            f"check digit of ISO 6346 number {number} must be {iso6346_check_digit(number[:10])}"
        )
    return number


def _locode(code: str) -> str:
    if (
        len(code) != 5
        or not code.isascii()
        or pycountry.countries.get(alpha_2=code[:2]) is None
        or not code[:2].isupper()
        or any(ch not in "ABCDEFGHIJKLMNOPQRSTUVWXYZ23456789" for ch in code[2:])
    ):
        raise ValueError(
            "must be a UN/LOCODE: ISO 3166 country code and 3 of A-Z or 2-9, e.g. CNSHK"
        )
    return code


def _terminal_id(terminal_id: str) -> str:
    port, dash, facility = terminal_id.partition("-")
    if (
        not dash
        or not 2 <= len(facility) <= 6
        or not facility.isascii()
        or not facility.isalnum()
        or facility != facility.upper()
    ):
        raise ValueError("must be <UN/LOCODE>-<facility code of 2-6 A-Z or 0-9>, e.g. CNSHK-SCT")
    try:
        _locode(port)
    except ValueError:
        raise ValueError(
            "must start with the port's UN/LOCODE (ISO 3166 country + 3 of A-Z or 2-9), "
            "e.g. CNSHK-SCT"
        ) from None
    return terminal_id


ContainerNumber = Annotated[str, AfterValidator(_container_number)]
"""An ISO 6346 container number with a correct check digit."""

Locode = Annotated[str, AfterValidator(_locode)]
"""A UN/LOCODE such as CNSHK or NLRTM."""

TerminalId = Annotated[str, AfterValidator(_terminal_id)]
"""A terminal: its port's UN/LOCODE, a dash and a facility code, e.g. CNSHK-SCT."""


def imo_check_digit(first_six: str) -> int:
    """The IMO ship number's check digit: digits weighted 7, 6, 5, 4, 3, 2; the sum mod 10."""
    return sum(int(d) * w for d, w in zip(first_six, (7, 6, 5, 4, 3, 2), strict=True)) % 10


def _imo_number(number: str) -> str:
    if len(number) != 7 or not number.isascii() or not number.isdigit():
        raise ValueError("must be an IMO ship number: 7 digits, e.g. 9398405")
    if imo_check_digit(number[:6]) != int(number[6]):
        raise ValueError(
            f"check digit of IMO number {number} must be {imo_check_digit(number[:6])}"
        )
    return number


ImoNumber = Annotated[str, AfterValidator(_imo_number)]
"""An IMO ship number (7 digits, the last a check digit)."""
