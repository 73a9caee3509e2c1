"""The port module as the app wires it: its actions, who may sign each, and its read rule.

The app builds it with :func:`build`, handing in what it reads from other modules
(interfaces.py): logistics' vessel calls, bookings and containers, membership's
organisations, and the releases (none until the release module exists).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from portchain.kernel.env import BlockEnv
from portchain.kernel.events import Event
from portchain.kernel.module import Action, Handler, Message, ModuleSpec
from portchain.kernel.state import State
from portchain.modules.port import handlers, messages
from portchain.modules.port.access import state_audience
from portchain.modules.port.handlers import Deps
from portchain.modules.port.interfaces import Logistics, Organisations, Releases
from portchain.modules.port.releases import NoReleases

TERMINAL = frozenset({"terminal"})

VERBS: tuple[tuple[str, type[Message], Callable[..., list[Event]], frozenset[str], str], ...] = (
    (
        "register_terminal",
        messages.RegisterTerminal,
        handlers.apply_register_terminal,
        frozenset({"port_operator"}),
        "A port operator registers a terminal in its port and names the terminal organisation.",
    ),
    (
        "allocate_berth",
        messages.AllocateBerth,
        handlers.apply_allocate_berth,
        TERMINAL,
        "The terminal sets the berth window of a vessel call at it.",
    ),
    ("gate_in", messages.GateIn, handlers.apply_gate_in, TERMINAL, "GTIN at the terminal's gate."),
    (
        "gate_out",
        messages.GateOut,
        handlers.apply_gate_out,
        TERMINAL,
        "GTOT at the terminal's gate.",
    ),
    (
        "load",
        messages.Load,
        handlers.apply_load,
        TERMINAL,
        "LOAD onto a vessel call at the terminal.",
    ),
    (
        "discharge",
        messages.Discharge,
        handlers.apply_discharge,
        TERMINAL,
        "DISC from a vessel call at the terminal.",
    ),
    ("inspect", messages.Inspect, handlers.apply_inspect, TERMINAL, "INSP at the terminal."),
    ("reseal", messages.Reseal, handlers.apply_reseal, TERMINAL, "RSEA at the terminal."),
    (
        "remove_seal",
        messages.RemoveSeal,
        handlers.apply_remove_seal,
        TERMINAL,
        "RMVD at the terminal.",
    ),
    (
        "stuff",
        messages.Stuffing,
        handlers.apply_stuff,
        frozenset({"terminal", "shipper", "forwarder"}),
        "STUF at the terminal (terminal) or inland (the booking's shipper or forwarder).",
    ),
    (
        "strip",
        messages.Stuffing,
        handlers.apply_strip,
        frozenset({"terminal", "shipper", "forwarder", "consignee"}),
        "STRP at the terminal (terminal) or inland (the booking's shipper, forwarder, consignee).",
    ),
    (
        "pick_up",
        messages.InlandMove,
        handlers.apply_pick_up,
        frozenset({"haulier", "carrier"}),
        "PICK inland, by a haulier or the container's carrier.",
    ),
    (
        "drop_off",
        messages.InlandMove,
        handlers.apply_drop_off,
        frozenset({"haulier", "carrier"}),
        "DROP inland, by a haulier or the container's carrier.",
    ),
)


def init_genesis(state: State, env: BlockEnv, genesis: Any) -> list[Event]:
    """The port module has no genesis section and writes nothing at genesis."""
    return []


def build(
    logistics: Logistics,
    organisations: Organisations,
    releases: Releases | None = None,
) -> ModuleSpec:
    """The module wired to the modules it reads; ``releases`` defaults to :class:`NoReleases`."""
    deps = Deps(logistics, organisations, releases or NoReleases())
    actions = {}
    for verb, message, handler, roles, summary in VERBS:
        bound: Handler = partial(handler, deps)
        actions[verb] = Action(verb, message, bound, roles=roles, summary=summary)
    return ModuleSpec(
        name="port",
        actions=actions,
        init_genesis=init_genesis,
        state_audience=state_audience,
    )
