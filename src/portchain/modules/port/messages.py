"""The port module's messages: each action's body, validated statelessly.

Field rules (each refusal names the field and the rule):

* container numbers are ISO 6346: owner code (3 letters), category (U, J or Z), 6-digit
  serial and the check digit computed as DOMAIN.md says;
* a port is a UN/LOCODE (ISO 3166 country + 3 of A-Z or 2-9); a terminal id is
  ``<UN/LOCODE>-<facility code>`` with a facility code of 2-6 of A-Z and 0-9;
* EMPTY or LADEN is DCSA's ``emptyIndicatorCode``.
"""

from __future__ import annotations

from typing import Annotated, Literal

import pycountry
from pydantic import AfterValidator, Field, StringConstraints

from portchain.kernel.errors import InvalidError
from portchain.kernel.fields import Name, OrgId
from portchain.kernel.module import Message

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

CallId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
"""A vessel call id as the logistics module issues it: 1-64 of letters, digits, '.', '_', '-'."""

SealNumber = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,14}$")]
"""A seal number: 1-15 of letters, digits and '-' (DCSA seals are at most 15 characters)."""

Truck = Annotated[str, StringConstraints(pattern=r"^([A-Z0-9][A-Z0-9 -]{0,14}[A-Z0-9])?$")]
"""A truck's licence plate: 2-16 of A-Z, 0-9, space and '-', or empty."""

Remarks = Annotated[str, StringConstraints(max_length=256)]
"""Free text: at most 256 characters."""

Fill = Literal["EMPTY", "LADEN"]
"""DCSA emptyIndicatorCode."""

EpochMs = Annotated[int, Field(ge=0, le=253_402_300_799_999)]
"""Milliseconds since the Unix epoch, UTC, up to the end of year 9999."""


class RegisterTerminal(Message):
    """A port operator registers a terminal in its own port and names its operator."""

    terminal_id: TerminalId
    name: Name
    org: OrgId
    """The terminal organisation (role ``terminal``) that operates it."""


class AllocateBerth(Message):
    """The terminal sets the berth window of a vessel call at it (again to change it)."""

    terminal: TerminalId
    call_id: CallId
    berth: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,15}$")]
    """The berth's name at the terminal: 1-16 of letters, digits, space, '.', '_', '-'."""
    start_ms: EpochMs
    end_ms: EpochMs

    def check(self) -> None:
        if self.end_ms <= self.start_ms:
            raise InvalidError("must be after start_ms", field="body.end_ms")
        if self.end_ms - self.start_ms > 30 * 24 * 3600 * 1000:
            raise InvalidError("a berth window is at most 30 days", field="body.end_ms")


class TerminalMove(Message):
    """A move at a terminal, reported by the terminal organisation."""

    container: ContainerNumber
    terminal: TerminalId
    empty_indicator: Fill
    remarks: Remarks = ""


class GateIn(TerminalMove):
    """GTIN: the container enters the terminal through its gate."""

    haulier: OrgId | None = None
    truck: Truck = ""
    seal: SealNumber | None = None


class GateOut(TerminalMove):
    """GTOT: the container leaves the terminal through its gate."""

    haulier: OrgId | None = None
    truck: Truck = ""


class Load(TerminalMove):
    """LOAD: the container is loaded onto a vessel call at this terminal."""

    call_id: CallId


class Discharge(TerminalMove):
    """DISC: the container is discharged from a vessel call at this terminal."""

    call_id: CallId


class Inspect(TerminalMove):
    """INSP: the container is inspected at the terminal."""


class Reseal(TerminalMove):
    """RSEA: the container is resealed at the terminal with a new seal."""

    seal: SealNumber


class RemoveSeal(TerminalMove):
    """RMVD: the container's seal is removed at the terminal."""

    seal: SealNumber | None = None


class InlandMove(Message):
    """PICK or DROP: a haulier or carrier picks the container up at, or drops it off at, a place."""

    container: ContainerNumber
    place: Locode
    """Where: the UN/LOCODE of the town or depot's location."""
    empty_indicator: Fill
    remarks: Remarks = ""


class Stuffing(Message):
    """STUF (the container becomes LADEN) or STRP (it becomes EMPTY), at a terminal or inland."""

    container: ContainerNumber
    terminal: TerminalId | None = None
    place: Locode | None = None
    remarks: Remarks = ""

    def check(self) -> None:
        if (self.terminal is None) == (self.place is None):
            raise InvalidError(
                "give exactly one of terminal (at a terminal) or place (inland)",
                field="body.terminal",
            )


__all__ = [
    "AllocateBerth",
    "ContainerNumber",
    "Discharge",
    "GateIn",
    "GateOut",
    "InlandMove",
    "Inspect",
    "Load",
    "Locode",
    "RegisterTerminal",
    "RemoveSeal",
    "Reseal",
    "Stuffing",
    "TerminalId",
    "TerminalMove",
    "iso6346_check_digit",
]
