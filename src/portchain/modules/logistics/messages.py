"""The logistics module's messages: each action's body, validated statelessly.

Identifiers follow DOMAIN.md: IMO numbers and ISO 6346 container numbers carry check
digits; ports are UN/LOCODEs; terminals ``<UN/LOCODE>-<facility>``. Times are epoch
milliseconds (UTC). Every list and string is bounded.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from portchain.kernel.errors import InvalidError
from portchain.kernel.fields import Country, Name, OrgId, Text
from portchain.kernel.identifiers import ContainerNumber, ImoNumber, Locode, TerminalId
from portchain.kernel.module import Message

CallId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
"""A vessel call id chosen by its carrier: 1-64 of letters, digits, '.', '_', '-'."""

Reference = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9-]{3,34}$")]
"""A carrier booking reference: 4-35 of A-Z, 0-9 and '-' (DCSA: at most 35)."""

ContractId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
"""A sales contract id as the trade module records it."""

SizeType = Annotated[str, StringConstraints(pattern=r"^[0-9][0-9A-Z][A-Z][0-9A-Z]$")]
"""An ISO 6346 size-type code: length, height/width, type group and detail, e.g. 22G1, 45R1."""

SealNumber = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,14}$")]
"""A seal number: 1-15 of letters, digits and '-'."""

EpochMs = Annotated[int, Field(ge=0, le=253_402_300_799_999)]
"""Milliseconds since the Unix epoch, UTC, up to the end of year 9999."""


class RegisterVessel(Message):
    """A carrier registers a vessel it operates."""

    imo: ImoNumber
    name: Name
    flag: Country


class ScheduleCall(Message):
    """A carrier schedules a call of its vessel at a terminal (DCSA transport call)."""

    call_id: CallId
    imo: ImoNumber
    terminal: TerminalId
    voyage: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,15}$")]
    planned_arrival_ms: EpochMs
    planned_departure_ms: EpochMs

    def check(self) -> None:
        if self.planned_departure_ms <= self.planned_arrival_ms:
            raise InvalidError(
                "must be after planned_arrival_ms", field="body.planned_departure_ms"
            )


class ReportTransport(Message):
    """The carrier reports a DCSA transport event of a call: ARRI or DEPA, PLN/EST/ACT."""

    call_id: CallId
    event: Literal["ARRI", "DEPA"]
    classifier: Literal["PLN", "EST", "ACT"]
    time_ms: EpochMs


class Equipment(Message):
    size_type: SizeType
    count: Annotated[int, Field(ge=1, le=999)]


class RequestBooking(Message):
    """A shipper (or its forwarder) asks a carrier for space on a vessel call."""

    reference: Reference
    carrier: OrgId
    shipper: OrgId
    consignee: OrgId | None = None
    contract: ContractId | None = None
    vessel_call: CallId
    port_of_loading: Locode
    port_of_discharge: Locode
    equipment: Annotated[list[Equipment], Field(min_length=1, max_length=20)]

    def check(self) -> None:
        if self.port_of_loading == self.port_of_discharge:
            raise InvalidError("must differ from port_of_loading", field="body.port_of_discharge")


class UpdateBooking(Message):
    """The shipper's side answers a request for update with new equipment or consignee."""

    reference: Reference
    consignee: OrgId | None = None
    equipment: Annotated[list[Equipment], Field(min_length=1, max_length=20)]


class BookingStep(Message):
    """A step on a booking by one of its parties; ``reason`` where the step needs one."""

    reference: Reference
    reason: Text = ""


class ReasonedStep(BookingStep):
    """A step that must say why (reject, decline, request an update)."""

    def check(self) -> None:
        if not self.reason.strip():
            raise InvalidError("a reason is required for this step", field="body.reason")


class RegisterContainer(Message):
    """A carrier (or a shipper, for its own container) registers a container."""

    number: ContainerNumber
    size_type: SizeType


class AssignContainer(Message):
    """The carrier assigns a container to one of its confirmed bookings."""

    number: ContainerNumber
    reference: Reference


class AddSeal(Message):
    """A seal put on a container: by the carrier, the shipper's side or customs."""

    number: ContainerNumber
    seal: SealNumber
    source: Literal["CARRIER", "SHIPPER", "CUSTOMS"]
