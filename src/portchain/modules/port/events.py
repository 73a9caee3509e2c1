"""Events of the port module, one named constructor per event type.

A terminal's registration and a berth window are public to members. An equipment
event carries the audience of the move it reports (see ``access.py``).
"""

from __future__ import annotations

from portchain.kernel.access import PUBLIC
from portchain.kernel.events import Event, index_by
from portchain.modules.port.store import Berth, Move, Terminal

index_by("container", "terminal", "call_id")


def terminal_registered(terminal: Terminal) -> Event:
    return Event.to(
        PUBLIC,
        "port.terminal_registered",
        terminal=terminal.id,
        port=terminal.port,
        operator=terminal.operator,
        org=terminal.org,
        name=terminal.name,
    )


def berth_allocated(berth: Berth) -> Event:
    return Event.to(
        PUBLIC,
        "port.berth_allocated",
        terminal=berth.terminal,
        call_id=berth.call_id,
        berth=berth.berth,
        start_ms=berth.start_ms,
        end_ms=berth.end_ms,
    )


def equipment_event(move: Move) -> Event:
    """A DCSA equipment event (``event`` is GTIN, LOAD, DISC, GTOT, ...), ACT classifier."""
    return Event.to(
        move.audience,
        "port.equipment_event",
        container=move.number,
        event=move.event,
        empty_indicator="LADEN" if move.full else "EMPTY",
        terminal=move.terminal or None,
        call_id=move.call_id or None,
        place=move.place or None,
        reporter=move.reporter,
        move=move.n,
    )
