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

from pydantic import Field, StringConstraints

from portchain.kernel.errors import InvalidError
from portchain.kernel.fields import Name, OrgId
from portchain.kernel.identifiers import (
    ContainerNumber,
    Locode,
    TerminalId,
    iso6346_check_digit,
)
from portchain.kernel.module import Message

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
