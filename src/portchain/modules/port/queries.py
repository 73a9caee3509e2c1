"""Read-only views of the port module for the API and the CLI.

Every function takes the :class:`Viewer` and returns only what it may read
(access.py); a record it may not read is answered as missing (None). Lists come
from per-terminal and per-container keys, never from a scan of every record.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from portchain.kernel.access import Viewer
from portchain.kernel.env import format_time_ms
from portchain.kernel.module import QueryReader
from portchain.modules.port import store
from portchain.modules.port.access import terminal_side
from portchain.modules.port.store import Box, Move, Terminal

MAX_PAGE = 500
"""Longest page any list returns."""


def _terminal_view(terminal: Terminal) -> dict[str, Any]:
    return {**asdict(terminal), "country": terminal.country}


def terminals(
    reader: QueryReader, viewer: Viewer, after: str = "", limit: int = 100
) -> list[dict[str, Any]]:
    """Registered terminals by id (public to members)."""
    rows = reader.scan(
        store.TERMINAL, after=store.TERMINAL + after if after else "", limit=min(limit, MAX_PAGE)
    )
    out = []
    for key, _ in rows:
        terminal = store.get_terminal(reader, key[len(store.TERMINAL) :])
        if terminal is not None:
            out.append(_terminal_view(terminal))
    return out


def terminal(reader: QueryReader, viewer: Viewer, terminal_id: str) -> dict[str, Any] | None:
    found = store.get_terminal(reader, terminal_id)
    return None if found is None else _terminal_view(found)


def _terminal_for(reader: QueryReader, viewer: Viewer, terminal_id: str) -> Terminal | None:
    """The terminal if ``viewer`` is on its side (terminal, port operator, customs), else None."""
    found = store.get_terminal(reader, terminal_id)
    if found is None or not viewer.may_read(terminal_side(found)):
        return None
    return found


def containers_at(
    reader: QueryReader, viewer: Viewer, terminal_id: str, after: str = "", limit: int = 100
) -> list[dict[str, Any]] | None:
    """The containers at the terminal now, by number (None: not the viewer's terminal)."""
    if _terminal_for(reader, viewer, terminal_id) is None:
        return None
    prefix = f"{store.AT}{terminal_id}/"
    rows = reader.scan(prefix, after=prefix + after if after else "", limit=min(limit, MAX_PAGE))
    out = []
    for key, raw in rows:
        data = json.loads(raw)
        out.append(
            {
                "container": key[len(prefix) :],
                "empty_indicator": "LADEN" if data["full"] else "EMPTY",
                "arrived_by": data["arrived_by"],
                "since_ms": data["since_ms"],
                "since": format_time_ms(data["since_ms"]),
            }
        )
    return out


def gates(
    reader: QueryReader, viewer: Viewer, terminal_id: str, after: int = 0, limit: int = 100
) -> list[dict[str, Any]] | None:
    """The terminal's gate-in and gate-out records, oldest first (None: not its side)."""
    if _terminal_for(reader, viewer, terminal_id) is None:
        return None
    prefix = f"{store.GATE}{terminal_id}/"
    start = store.gate_key(terminal_id, after) if after else ""
    out = []
    for _, raw in reader.scan(prefix, after=start, limit=min(limit, MAX_PAGE)):
        data = json.loads(raw)
        data["empty_indicator"] = "LADEN" if data.pop("full") else "EMPTY"
        data["time"] = format_time_ms(data["time_ms"])
        out.append(data)
    return out


def berth_schedule(
    reader: QueryReader, viewer: Viewer, terminal_id: str, after: str = "", limit: int = 100
) -> list[dict[str, Any]] | None:
    """The terminal's berth windows by start time (public to members, as ports publish them).

    ``after`` is the cursor a previous page returned (``<start_ms:015d>/<call id>``).
    """
    if store.get_terminal(reader, terminal_id) is None:
        return None
    prefix = f"{store.SCHEDULE}{terminal_id}/"
    out = []
    for key, raw in reader.scan(
        prefix, after=prefix + after if after else "", limit=min(limit, MAX_PAGE)
    ):
        berth = store.get_berth(reader, terminal_id, raw.decode())
        if berth is not None:
            out.append(
                {
                    **asdict(berth),
                    "start": format_time_ms(berth.start_ms),
                    "end": format_time_ms(berth.end_ms),
                    "cursor": key[len(prefix) :],
                }
            )
    return out


def move_view(move: Move) -> dict[str, Any]:
    data = asdict(move)
    del data["audience"]
    data["empty_indicator"] = "LADEN" if data.pop("full") else "EMPTY"
    data["time"] = format_time_ms(move.time_ms)
    data["event_classifier"] = "ACT"
    return data


def box_view(box: Box) -> dict[str, Any]:
    return {
        "container": box.number,
        "kind": box.kind,
        "terminal": box.terminal,
        "call_id": box.call_id,
        "place": box.place,
        "empty_indicator": "LADEN" if box.full else "EMPTY",
        "arrived_by": box.arrived_by,
        "since_ms": box.since_ms,
        "since": format_time_ms(box.since_ms),
    }


def location(reader: QueryReader, viewer: Viewer, number: str) -> dict[str, Any] | None:
    """Where the container is now, if the viewer may read its latest move."""
    box = store.get_box(reader, number)
    if box is None or not viewer.may_read(box.audience):
        return None
    return box_view(box)


def history(
    reader: QueryReader, viewer: Viewer, number: str, after: int = 0, limit: int = 100
) -> dict[str, Any] | None:
    """The container's moves the viewer may read, oldest first, after move ``after``.

    None when the viewer may read none of its moves (or there are none): a container
    whose moves are all hidden is answered as one the ledger never saw.
    """
    limit = min(limit, MAX_PAGE)
    prefix = f"{store.MOVE}{number}/"
    cursor = store.move_key(number, after) if after else ""
    moves: list[dict[str, Any]] = []
    more = False
    while True:
        rows = reader.scan(prefix, after=cursor, limit=MAX_PAGE)
        for key, raw in rows:
            move = store.move_from(json.loads(raw))
            if viewer.may_read(move.audience):
                if len(moves) == limit:
                    more = True
                    break
                moves.append(move_view(move))
            cursor = key
        if more or len(rows) < MAX_PAGE:
            break
    if not moves and not after:
        return None
    return {
        "container": number,
        "location": location(reader, viewer, number),
        "moves": moves,
        "next": moves[-1]["n"] if more else None,
    }
