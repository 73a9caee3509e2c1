"""The logistics module as the app wires it: its actions, who may sign each, its read rule.

The app builds it with :func:`build`, handing in what it reads from other modules
(interfaces.py): the port module's terminals, membership's organisations and, when the
trade module is wired, its sales contracts.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from portchain.kernel.env import BlockEnv
from portchain.kernel.events import Event
from portchain.kernel.module import Action, Handler, Message, ModuleSpec
from portchain.kernel.state import State
from portchain.modules.logistics import handlers as h
from portchain.modules.logistics import messages as m
from portchain.modules.logistics.access import state_audience
from portchain.modules.logistics.handlers import Deps
from portchain.modules.logistics.interfaces import Contracts, Organisations, Terminals

CARRIER = frozenset({"carrier"})
SHIPPER_SIDE = frozenset({"shipper", "forwarder"})

VERBS: tuple[tuple[str, type[Message], Callable[..., list[Event]], frozenset[str], str], ...] = (
    (
        "register_vessel",
        m.RegisterVessel,
        h.apply_register_vessel,
        CARRIER,
        "A carrier registers a vessel it operates (IMO number with check digit).",
    ),
    (
        "schedule_call",
        m.ScheduleCall,
        h.apply_schedule_call,
        CARRIER,
        "A carrier schedules a call of its vessel at a terminal.",
    ),
    (
        "report_transport",
        m.ReportTransport,
        h.apply_report_transport,
        CARRIER,
        "The call's carrier reports ARRI/DEPA as PLN, EST or ACT.",
    ),
    (
        "request_booking",
        m.RequestBooking,
        h.apply_request_booking,
        SHIPPER_SIDE,
        "A shipper, or a forwarder for it, requests a booking (RECEIVED).",
    ),
    ("confirm", m.BookingStep, h.apply_confirm, CARRIER, "The carrier confirms (CONFIRMED)."),
    (
        "reject",
        m.ReasonedStep,
        h.apply_reject,
        CARRIER,
        "The carrier rejects before confirmation (REJECTED).",
    ),
    (
        "request_update",
        m.ReasonedStep,
        h.apply_request_update,
        CARRIER,
        "The carrier asks the shipper for an update (PENDING_UPDATE).",
    ),
    (
        "update",
        m.UpdateBooking,
        h.apply_update,
        SHIPPER_SIDE,
        "The shipper's side updates a booking pending update (RECEIVED again).",
    ),
    (
        "cancel",
        m.BookingStep,
        h.apply_cancel,
        SHIPPER_SIDE,
        "The shipper's side cancels before confirmation (CANCELLED).",
    ),
    (
        "request_cancellation",
        m.BookingStep,
        h.apply_request_cancellation,
        SHIPPER_SIDE,
        "The shipper's side asks the carrier to cancel a confirmed booking.",
    ),
    (
        "confirm_cancellation",
        m.BookingStep,
        h.apply_confirm_cancellation,
        CARRIER,
        "The carrier accepts the cancellation request (CANCELLED).",
    ),
    (
        "decline_cancellation",
        m.ReasonedStep,
        h.apply_decline_cancellation,
        CARRIER,
        "The carrier refuses the cancellation request (stays CONFIRMED).",
    ),
    (
        "decline",
        m.ReasonedStep,
        h.apply_decline,
        CARRIER,
        "The carrier withdraws a confirmed booking (DECLINED).",
    ),
    (
        "complete",
        m.BookingStep,
        h.apply_complete,
        CARRIER,
        "The carrier completes a delivered booking (COMPLETED).",
    ),
    (
        "register_container",
        m.RegisterContainer,
        h.apply_register_container,
        frozenset({"carrier", "shipper"}),
        "A carrier, or a shipper for its own container, registers an ISO 6346 container.",
    ),
    (
        "assign_container",
        m.AssignContainer,
        h.apply_assign_container,
        CARRIER,
        "The carrier assigns a container to one of its confirmed bookings.",
    ),
    (
        "add_seal",
        m.AddSeal,
        h.apply_add_seal,
        frozenset({"carrier", "shipper", "forwarder", "customs"}),
        "A seal by its source: the booking's carrier, its shipper's side, or customs.",
    ),
)


def init_genesis(state: State, env: BlockEnv, genesis: Any) -> list[Event]:
    """The logistics module has no genesis section and writes nothing at genesis."""
    return []


def build(
    terminals: Terminals, organisations: Organisations, contracts: Contracts | None = None
) -> ModuleSpec:
    deps = Deps(terminals, organisations, contracts)
    actions = {}
    for verb, message, handler, roles, summary in VERBS:
        bound: Handler = partial(handler, deps)
        actions[verb] = Action(verb, message, bound, roles=roles, summary=summary)
    return ModuleSpec(
        name="logistics",
        actions=actions,
        init_genesis=init_genesis,
        state_audience=state_audience,
    )
