"""Events of the logistics module, one named constructor per event type.

Vessels and calls are public; a booking's events go to its parties and carry the DCSA
shipment event code (RECE, CONF, PENU, REJE, DECL, CANC, CMPL); a container's go to its
audience.
"""

from __future__ import annotations

from portchain.kernel.access import PUBLIC
from portchain.kernel.events import Event, index_by
from portchain.modules.logistics.store import Booking, Container, TransportEvent, Vessel, VesselCall

index_by("reference", "call_id", "container", "imo")


def vessel_registered(vessel: Vessel) -> Event:
    return Event.to(
        PUBLIC,
        "logistics.vessel_registered",
        imo=vessel.imo,
        name=vessel.name,
        carrier=vessel.carrier,
    )


def call_scheduled(call: VesselCall) -> Event:
    return Event.to(
        PUBLIC,
        "logistics.call_scheduled",
        call_id=call.call_id,
        imo=call.vessel_imo,
        carrier=call.carrier,
        port=call.port,
        terminal=call.terminal,
    )


def transport_event(call: VesselCall, event: TransportEvent) -> Event:
    return Event.to(
        PUBLIC,
        "logistics.transport_event",
        call_id=call.call_id,
        imo=call.vessel_imo,
        event=event.event,
        classifier=event.classifier,
        time_ms=event.time_ms,
        port=call.port,
        terminal=call.terminal,
    )


def shipment_event(booking: Booking, code: str) -> Event:
    """A DCSA shipment event on the booking (``code``: RECE, CONF, PENU, ...)."""
    return Event.to(
        booking.audience,
        "logistics.shipment_event",
        reference=booking.reference,
        code=code,
        status=booking.status,
        carrier=booking.carrier,
        shipper=booking.shipper,
        call_id=booking.vessel_call,
    )


def container_event(container: Container, what: str) -> Event:
    return Event.to(
        container.audience,
        f"logistics.container_{what}",
        container=container.number,
        reference=container.booking or "",
        owner=container.owner,
    )
