"""State keys and records of the logistics module (every key under ``logistics/``).

::

    logistics/vessel/<imo>                       Vessel (public to members)
    logistics/call/<call id>                     VesselCall (public to members)
    logistics/booking/<reference>                Booking (its parties)
    logistics/party/<org>/<reference>            index: the bookings an organisation is party to
    logistics/manifest/<call id>/<reference>     index: the bookings on a vessel call
    logistics/container/<number>                 Container (its owner and its booking's parties)

Records are frozen dataclasses stored as canonical JSON; the confidential ones carry the
audience (kernel/access.py) that may read them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from portchain.kernel import codec
from portchain.kernel.access import Audience, audience, parties
from portchain.kernel.module import StateReader
from portchain.kernel.state import State

VESSEL = "logistics/vessel/"
CALL = "logistics/call/"
BOOKING = "logistics/booking/"
PARTY = "logistics/party/"
MANIFEST = "logistics/manifest/"
CONTAINER = "logistics/container/"

# Booking statuses (DCSA Booking 2.0).
RECEIVED = "RECEIVED"
PENDING_UPDATE = "PENDING_UPDATE"
CONFIRMED = "CONFIRMED"
REJECTED = "REJECTED"
DECLINED = "DECLINED"
CANCELLED = "CANCELLED"
COMPLETED = "COMPLETED"

# Vessel call statuses, from the carrier's ACT transport events.
SCHEDULED = "SCHEDULED"
ARRIVED = "ARRIVED"
DEPARTED = "DEPARTED"


@dataclass(frozen=True, slots=True)
class Vessel:
    imo: str
    name: str
    flag: str
    carrier: str
    registered_ms: int


@dataclass(frozen=True, slots=True)
class TransportEvent:
    event: str
    """ARRI or DEPA."""
    classifier: str
    """PLN, EST or ACT."""
    time_ms: int
    """When it happens (or happened), as the carrier reports it."""
    reported_ms: int
    """The block time of the report."""


@dataclass(frozen=True, slots=True)
class VesselCall:
    call_id: str
    vessel_imo: str
    vessel_name: str
    carrier: str
    port: str
    terminal: str
    voyage: str
    status: str
    events: tuple[TransportEvent, ...] = ()


@dataclass(frozen=True, slots=True)
class Equipment:
    size_type: str
    count: int


@dataclass(frozen=True, slots=True)
class Booking:
    reference: str
    carrier: str
    shipper: str
    forwarder: str | None
    consignee: str | None
    contract: str | None
    vessel_call: str
    port_of_loading: str
    port_of_discharge: str
    equipment: tuple[Equipment, ...]
    status: str
    requested_by: str
    updated_ms: int
    cancellation_requested: bool = False
    reason: str = ""
    containers: tuple[str, ...] = ()

    @property
    def audience(self) -> Audience:
        return parties(self.carrier, self.shipper, self.forwarder, self.consignee)

    @property
    def party_orgs(self) -> tuple[str, ...]:
        found = (self.carrier, self.shipper, self.forwarder, self.consignee)
        return tuple(sorted({org for org in found if org}))


@dataclass(frozen=True, slots=True)
class Container:
    number: str
    size_type: str
    owner: str
    booking: str | None = None
    seals: tuple[str, ...] = ()
    seal_sources: tuple[str, ...] = ()
    audience: tuple[str, ...] = field(default=())


def _load(reader: StateReader, key: str) -> Any:
    raw = reader.get(key)
    return None if raw is None else json.loads(raw)


def get_vessel(reader: StateReader, imo: str) -> Vessel | None:
    data = _load(reader, VESSEL + imo)
    return None if data is None else Vessel(**data)


def put_vessel(state: State, vessel: Vessel) -> None:
    state.set_json(VESSEL + vessel.imo, codec.plain(vessel))


def get_call(reader: StateReader, call_id: str) -> VesselCall | None:
    data = _load(reader, CALL + call_id)
    if data is None:
        return None
    data["events"] = tuple(TransportEvent(**e) for e in data["events"])
    return VesselCall(**data)


def put_call(state: State, call: VesselCall) -> None:
    state.set_json(CALL + call.call_id, codec.plain(call))


def get_booking(reader: StateReader, reference: str) -> Booking | None:
    data = _load(reader, BOOKING + reference)
    if data is None:
        return None
    data["equipment"] = tuple(Equipment(**e) for e in data["equipment"])
    data["containers"] = tuple(data["containers"])
    return Booking(**data)


def put_booking(state: State, booking: Booking) -> None:
    state.set_json(BOOKING + booking.reference, codec.plain(booking))
    for org in booking.party_orgs:
        state.set(f"{PARTY}{org}/{booking.reference}", b"1")
    state.set(f"{MANIFEST}{booking.vessel_call}/{booking.reference}", b"1")


def get_container(reader: StateReader, number: str) -> Container | None:
    data = _load(reader, CONTAINER + number)
    if data is None:
        return None
    for name in ("seals", "seal_sources", "audience"):
        data[name] = tuple(data[name])
    return Container(**data)


def put_container(state: State, container: Container, booking: Booking | None) -> Container:
    """Store ``container`` with its audience (its owner and its booking's parties)."""
    seen = audience(parties(container.owner), booking.audience if booking else ())
    stored = replace(container, audience=seen)
    state.set_json(CONTAINER + container.number, codec.plain(stored))
    return stored
