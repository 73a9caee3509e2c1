"""What the port module offers other modules (they declare it as a Protocol; the app wires it).

* :func:`terminal` — a registered terminal: ``id``, ``port``, ``operator``, ``org``, ``name``.
* :func:`loaded` — a container's latest LOAD: ``call_id``, ``terminal``, ``time_ms``.
* :func:`location` — where a container is now: ``kind`` (``terminal``, ``vessel`` or
  ``inland``), ``terminal``, ``call_id``, ``full``, ``since_ms``.

These read state directly and check no viewer: they are for handlers of other
modules (a release checks the container is at the terminal), which apply their
own rules. A query for a person goes through :mod:`portchain.modules.port.queries`.
"""

from __future__ import annotations

from dataclasses import dataclass

from portchain.kernel.module import StateReader
from portchain.modules.port import store
from portchain.modules.port.store import Terminal

__all__ = ["Loading", "Location", "Terminal", "loaded", "location", "terminal"]


@dataclass(frozen=True, slots=True)
class Loading:
    """The latest LOAD of a container onto a vessel call."""

    call_id: str
    terminal: str
    time_ms: int
    """Block time of the LOAD, milliseconds since the Unix epoch."""


@dataclass(frozen=True, slots=True)
class Location:
    """Where a container is now."""

    kind: str
    """``terminal`` (in a terminal's yard), ``vessel`` (on board) or ``inland`` (outside both)."""
    terminal: str
    """The terminal it is at (``terminal``), or was loaded at (``vessel``); '' inland."""
    call_id: str
    """The vessel call it is on (``vessel``), or was discharged from; '' otherwise."""
    full: bool
    """LADEN (True) or EMPTY (False)."""
    since_ms: int
    """Block time of the move that brought it there."""


def terminal(reader: StateReader, terminal_id: str) -> Terminal | None:
    """The terminal ``terminal_id`` (e.g. ``CNSHK-SCT``), or None if none is registered."""
    return store.get_terminal(reader, terminal_id)


def loaded(reader: StateReader, container_number: str) -> Loading | None:
    """The container's latest LOAD, or None if it was never loaded on this ledger."""
    box = store.get_box(reader, container_number)
    if box is None or not box.load_call:
        return None
    return Loading(box.load_call, box.load_terminal, box.load_ms)


def location(reader: StateReader, container_number: str) -> Location | None:
    """Where the container is now, or None if no move of it was ever reported."""
    box = store.get_box(reader, container_number)
    if box is None:
        return None
    return Location(box.kind, box.terminal, box.call_id, box.full, box.since_ms)
