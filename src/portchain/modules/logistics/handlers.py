"""Logistics state transitions: ``apply_<verb>(deps, state, env, ctx, msg) -> list[Event]``.

Roles are checked by the app from each action's declaration (module.py); these handlers
check the signer's relation to the object (its vessel, its booking) and the state machines
(README.md). Every refusal raises a registered error naming the field at fault.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from portchain.kernel.env import BlockEnv
from portchain.kernel.events import Event
from portchain.kernel.module import Context
from portchain.kernel.state import State
from portchain.modules.logistics import errors, events, messages, store
from portchain.modules.logistics.interfaces import Contracts, Organisations, Terminals
from portchain.modules.logistics.store import (
    CANCELLED,
    COMPLETED,
    CONFIRMED,
    DECLINED,
    PENDING_UPDATE,
    RECEIVED,
    REJECTED,
    Booking,
    Container,
    Equipment,
    TransportEvent,
    Vessel,
    VesselCall,
)

# -- dependencies -----------------------------------------------------------------------


@dataclass(frozen=True)
class Deps:
    terminals: Terminals
    organisations: Organisations
    contracts: Contracts | None = None


def _active_with_role(deps: Deps, state: State, org_id: str, role: str) -> bool:
    org = deps.organisations(state, org_id)
    return org is not None and org.status == "active" and role in org.roles


# -- vessels and calls ------------------------------------------------------------------


def apply_register_vessel(
    deps: Deps, state: State, env: BlockEnv, ctx: Context, msg: messages.RegisterVessel
) -> list[Event]:
    if store.get_vessel(state, msg.imo) is not None:
        raise errors.VesselExists(f"IMO {msg.imo} is registered", field="body.imo")
    vessel = Vessel(msg.imo, msg.name, msg.flag, ctx.signer.org, env.time_ms)
    store.put_vessel(state, vessel)
    return [events.vessel_registered(vessel)]


def apply_schedule_call(
    deps: Deps, state: State, env: BlockEnv, ctx: Context, msg: messages.ScheduleCall
) -> list[Event]:
    vessel = store.get_vessel(state, msg.imo)
    if vessel is None:
        raise errors.VesselNotFound(f"no vessel with IMO {msg.imo}", field="body.imo")
    if vessel.carrier != ctx.signer.org:
        raise errors.NotYourVessel(f"IMO {msg.imo} is {vessel.carrier}'s", field="body.imo")
    if store.get_call(state, msg.call_id) is not None:
        raise errors.CallExists(f"call {msg.call_id} exists", field="body.call_id")
    terminal = deps.terminals(state, msg.terminal)
    if terminal is None:
        raise errors.TerminalNotFound(
            f"no terminal {msg.terminal} is registered", field="body.terminal"
        )
    call = VesselCall(
        call_id=msg.call_id,
        vessel_imo=vessel.imo,
        vessel_name=vessel.name,
        carrier=vessel.carrier,
        port=terminal.port,
        terminal=terminal.id,
        voyage=msg.voyage,
        status=store.SCHEDULED,
        events=(
            TransportEvent("ARRI", "PLN", msg.planned_arrival_ms, env.time_ms),
            TransportEvent("DEPA", "PLN", msg.planned_departure_ms, env.time_ms),
        ),
    )
    store.put_call(state, call)
    return [events.call_scheduled(call)]


def _actual(call: VesselCall, event: str) -> TransportEvent | None:
    return next((e for e in call.events if e.event == event and e.classifier == "ACT"), None)


def apply_report_transport(
    deps: Deps, state: State, env: BlockEnv, ctx: Context, msg: messages.ReportTransport
) -> list[Event]:
    """ARRI/DEPA by the call's carrier: one ACT ARRI, then one ACT DEPA, then nothing."""
    call = store.get_call(state, msg.call_id)
    if call is None:
        raise errors.CallNotFound(f"no vessel call {msg.call_id}", field="body.call_id")
    if call.carrier != ctx.signer.org:
        raise errors.NotYourVessel(
            f"call {msg.call_id} is {call.carrier}'s to report", field="body.call_id"
        )
    if call.status == store.DEPARTED:
        raise errors.BadTransportEvent(
            f"the vessel has departed from call {call.call_id}", field="body.call_id"
        )
    arrived = _actual(call, "ARRI")
    status = call.status
    if msg.classifier == "ACT":
        if msg.event == "ARRI":
            if arrived is not None:
                raise errors.BadTransportEvent(
                    "the arrival is already reported", field="body.event"
                )
            status = store.ARRIVED
        else:
            if arrived is None:
                raise errors.BadTransportEvent(
                    "an actual departure needs the actual arrival first", field="body.event"
                )
            if msg.time_ms < arrived.time_ms:
                raise errors.BadTransportEvent(
                    "the departure cannot be before the arrival", field="body.time_ms"
                )
            status = store.DEPARTED
    elif msg.event == "ARRI" and arrived is not None:
        raise errors.BadTransportEvent(
            "the vessel has arrived: only its actual departure remains", field="body.event"
        )
    if len(call.events) >= 64:
        raise errors.BadTransportEvent("a call keeps at most 64 events", field="body.call_id")
    event = TransportEvent(msg.event, msg.classifier, msg.time_ms, env.time_ms)
    updated = replace(call, status=status, events=(*call.events, event))
    store.put_call(state, updated)
    return [events.transport_event(updated, event)]


# -- bookings ---------------------------------------------------------------------------


def _equipment(items: list[messages.Equipment]) -> tuple[Equipment, ...]:
    return tuple(Equipment(e.size_type, e.count) for e in items)


def apply_request_booking(
    deps: Deps, state: State, env: BlockEnv, ctx: Context, msg: messages.RequestBooking
) -> list[Event]:
    """RECEIVED: the shipper, or a forwarder acting for it, asks a carrier for space."""
    signer = ctx.signer.org
    forwarder = None
    if signer != msg.shipper:
        if "forwarder" not in ctx.signer.roles:
            raise errors.NotAParty(
                f"{signer} may book only as the shipper or as its forwarder", field="body.shipper"
            )
        forwarder = signer
    if not _active_with_role(deps, state, msg.shipper, "shipper"):
        raise errors.NotAParty(
            f"{msg.shipper} is not an active member with role shipper", field="body.shipper"
        )
    if not _active_with_role(deps, state, msg.carrier, "carrier"):
        raise errors.NotACarrier(f"{msg.carrier} is not an active carrier", field="body.carrier")
    if msg.consignee is not None and deps.organisations(state, msg.consignee) is None:
        raise errors.NotAParty(f"no organisation {msg.consignee}", field="body.consignee")
    if store.get_booking(state, msg.reference) is not None:
        raise errors.BookingExists(f"booking {msg.reference} exists", field="body.reference")
    call = store.get_call(state, msg.vessel_call)
    if call is None or call.carrier != msg.carrier:
        raise errors.CallNotFound(
            f"{msg.carrier} has no vessel call {msg.vessel_call}", field="body.vessel_call"
        )
    if call.port != msg.port_of_loading:
        raise errors.CallNotFound(
            f"vessel call {call.call_id} is at {call.port}, not the port of loading",
            field="body.port_of_loading",
        )
    if msg.contract is not None and deps.contracts is not None:
        contract = deps.contracts(state, msg.contract)
        if contract is None or contract.seller != msg.shipper:
            raise errors.ContractMismatch(
                f"no sales contract {msg.contract} with {msg.shipper} as seller",
                field="body.contract",
            )
    booking = Booking(
        reference=msg.reference,
        carrier=msg.carrier,
        shipper=msg.shipper,
        forwarder=forwarder,
        consignee=msg.consignee,
        contract=msg.contract,
        vessel_call=msg.vessel_call,
        port_of_loading=msg.port_of_loading,
        port_of_discharge=msg.port_of_discharge,
        equipment=_equipment(msg.equipment),
        status=RECEIVED,
        requested_by=signer,
        updated_ms=env.time_ms,
    )
    store.put_booking(state, booking)
    return [events.shipment_event(booking, "RECE")]


def _booking(state: State, reference: str) -> Booking:
    booking = store.get_booking(state, reference)
    if booking is None:
        raise errors.BookingNotFound(f"no booking {reference}", field="body.reference")
    return booking


def _carrier_of(booking: Booking, ctx: Context) -> None:
    if ctx.signer.org != booking.carrier:
        raise errors.NotAParty(
            f"only the carrier {booking.carrier} takes this step", field="body.reference"
        )


def _shipper_side_of(booking: Booking, ctx: Context) -> None:
    if ctx.signer.org not in (booking.shipper, booking.forwarder):
        raise errors.NotAParty(
            f"only the shipper {booking.shipper} or its forwarder takes this step",
            field="body.reference",
        )


def _status(booking: Booking, *allowed: str) -> None:
    if booking.status not in allowed:
        raise errors.BadBookingStatus(
            f"booking {booking.reference} is {booking.status}; this needs {' or '.join(allowed)}",
            field="body.reference",
        )


def _step(
    state: State, env: BlockEnv, booking: Booking, code: str, **changes: object
) -> list[Event]:
    updated = replace(booking, updated_ms=env.time_ms, **changes)  # type: ignore[arg-type]
    store.put_booking(state, updated)
    return [events.shipment_event(updated, code)]


def apply_confirm(
    deps: Deps, state: State, env: BlockEnv, ctx: Context, msg: messages.BookingStep
) -> list[Event]:
    booking = _booking(state, msg.reference)
    _carrier_of(booking, ctx)
    _status(booking, RECEIVED)
    return _step(state, env, booking, "CONF", status=CONFIRMED, reason="")


def apply_reject(
    deps: Deps, state: State, env: BlockEnv, ctx: Context, msg: messages.ReasonedStep
) -> list[Event]:
    booking = _booking(state, msg.reference)
    _carrier_of(booking, ctx)
    _status(booking, RECEIVED, PENDING_UPDATE)
    return _step(state, env, booking, "REJE", status=REJECTED, reason=msg.reason)


def apply_request_update(
    deps: Deps, state: State, env: BlockEnv, ctx: Context, msg: messages.ReasonedStep
) -> list[Event]:
    booking = _booking(state, msg.reference)
    _carrier_of(booking, ctx)
    _status(booking, RECEIVED)
    return _step(state, env, booking, "PENU", status=PENDING_UPDATE, reason=msg.reason)


def apply_update(
    deps: Deps, state: State, env: BlockEnv, ctx: Context, msg: messages.UpdateBooking
) -> list[Event]:
    booking = _booking(state, msg.reference)
    _shipper_side_of(booking, ctx)
    _status(booking, PENDING_UPDATE)
    if msg.consignee is not None and deps.organisations(state, msg.consignee) is None:
        raise errors.NotAParty(f"no organisation {msg.consignee}", field="body.consignee")
    return _step(
        state,
        env,
        booking,
        "RECE",
        status=RECEIVED,
        consignee=msg.consignee if msg.consignee is not None else booking.consignee,
        equipment=_equipment(msg.equipment),
        reason="",
    )


def apply_cancel(
    deps: Deps, state: State, env: BlockEnv, ctx: Context, msg: messages.BookingStep
) -> list[Event]:
    """The shipper's side cancels before confirmation (after it: request_cancellation)."""
    booking = _booking(state, msg.reference)
    _shipper_side_of(booking, ctx)
    _status(booking, RECEIVED, PENDING_UPDATE)
    return _step(state, env, booking, "CANC", status=CANCELLED, reason=msg.reason)


def apply_request_cancellation(
    deps: Deps, state: State, env: BlockEnv, ctx: Context, msg: messages.BookingStep
) -> list[Event]:
    booking = _booking(state, msg.reference)
    _shipper_side_of(booking, ctx)
    _status(booking, CONFIRMED)
    if booking.cancellation_requested:
        raise errors.BadBookingStatus("a cancellation is already requested", field="body.reference")
    return _step(state, env, booking, "PENC", cancellation_requested=True, reason=msg.reason)


def apply_confirm_cancellation(
    deps: Deps, state: State, env: BlockEnv, ctx: Context, msg: messages.BookingStep
) -> list[Event]:
    booking = _booking(state, msg.reference)
    _carrier_of(booking, ctx)
    _status(booking, CONFIRMED)
    if not booking.cancellation_requested:
        raise errors.BadBookingStatus("no cancellation is requested", field="body.reference")
    return _step(state, env, booking, "CANC", status=CANCELLED, cancellation_requested=False)


def apply_decline_cancellation(
    deps: Deps, state: State, env: BlockEnv, ctx: Context, msg: messages.ReasonedStep
) -> list[Event]:
    booking = _booking(state, msg.reference)
    _carrier_of(booking, ctx)
    _status(booking, CONFIRMED)
    if not booking.cancellation_requested:
        raise errors.BadBookingStatus("no cancellation is requested", field="body.reference")
    return _step(state, env, booking, "CONF", cancellation_requested=False, reason=msg.reason)


def apply_decline(
    deps: Deps, state: State, env: BlockEnv, ctx: Context, msg: messages.ReasonedStep
) -> list[Event]:
    """The carrier withdraws a confirmed booking (DCSA DECLINED)."""
    booking = _booking(state, msg.reference)
    _carrier_of(booking, ctx)
    _status(booking, CONFIRMED)
    return _step(
        state,
        env,
        booking,
        "DECL",
        status=DECLINED,
        reason=msg.reason,
        cancellation_requested=False,
    )


def apply_complete(
    deps: Deps, state: State, env: BlockEnv, ctx: Context, msg: messages.BookingStep
) -> list[Event]:
    booking = _booking(state, msg.reference)
    _carrier_of(booking, ctx)
    _status(booking, CONFIRMED)
    return _step(state, env, booking, "CMPL", status=COMPLETED, cancellation_requested=False)


# -- containers -------------------------------------------------------------------------

MAX_CONTAINERS_PER_BOOKING = 200
MAX_SEALS = 8


def apply_register_container(
    deps: Deps, state: State, env: BlockEnv, ctx: Context, msg: messages.RegisterContainer
) -> list[Event]:
    if store.get_container(state, msg.number) is not None:
        raise errors.ContainerExists(f"{msg.number} is registered", field="body.number")
    stored = store.put_container(state, Container(msg.number, msg.size_type, ctx.signer.org), None)
    return [events.container_event(stored, "registered")]


def _container(state: State, number: str) -> Container:
    container = store.get_container(state, number)
    if container is None:
        raise errors.ContainerNotFound(f"no container {number}", field="body.number")
    return container


def apply_assign_container(
    deps: Deps, state: State, env: BlockEnv, ctx: Context, msg: messages.AssignContainer
) -> list[Event]:
    """The carrier assigns a container to one of its confirmed bookings."""
    booking = _booking(state, msg.reference)
    _carrier_of(booking, ctx)
    _status(booking, CONFIRMED)
    container = _container(state, msg.number)
    if container.booking is not None:
        previous = store.get_booking(state, container.booking)
        if previous is not None and previous.status == CONFIRMED:
            raise errors.BadBookingStatus(
                f"{msg.number} serves booking {container.booking}", field="body.number"
            )
    if len(booking.containers) >= MAX_CONTAINERS_PER_BOOKING:
        raise errors.BadBookingStatus("the booking has its most containers", field="body.number")
    updated = replace(booking, containers=(*booking.containers, msg.number))
    store.put_booking(state, updated)
    stored = store.put_container(
        state, replace(container, booking=booking.reference, seals=(), seal_sources=()), updated
    )
    return [events.container_event(stored, "assigned")]


def apply_add_seal(
    deps: Deps, state: State, env: BlockEnv, ctx: Context, msg: messages.AddSeal
) -> list[Event]:
    """A seal by its source: the booking's carrier, the shipper's side, or the customs of the
    booking's country of loading or of discharge."""
    container = _container(state, msg.number)
    booking = store.get_booking(state, container.booking) if container.booking else None
    signer = ctx.signer.org
    if msg.source == "CUSTOMS":
        # The customs of the country it leaves from or arrives in, known from its booking.
        org = deps.organisations(state, signer)
        countries = (
            {booking.port_of_loading[:2], booking.port_of_discharge[:2]} if booking else set()
        )
        entitled = "customs" in ctx.signer.roles and org is not None and org.country in countries
    elif booking is None:
        entitled = False
    elif msg.source == "CARRIER":
        entitled = signer == booking.carrier
    else:
        entitled = signer in (booking.shipper, booking.forwarder)
    if not entitled:
        raise errors.NotAParty(
            f"{signer} may not put a {msg.source} seal on {msg.number}", field="body.source"
        )
    if len(container.seals) >= MAX_SEALS:
        raise errors.BadBookingStatus("a container carries at most 8 seals", field="body.seal")
    updated = replace(
        container,
        seals=(*container.seals, msg.seal),
        seal_sources=(*container.seal_sources, msg.source),
    )
    stored = store.put_container(state, updated, booking)
    return [events.container_event(stored, "sealed")]
