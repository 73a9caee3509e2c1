"""State keys and records of the port module (every key under ``port/``).

::

    port/terminal/<terminal id>                 Terminal (public to members)
    port/box/<container number>                 Box: where the container is now
    port/move/<container number>/<n:08d>        Move: the n-th equipment event of the container
    port/at/<terminal id>/<container number>    index: the container is at this terminal now
    port/gate/<terminal id>/<n:012d>            Gate: the terminal's n-th gate transaction
    port/gates/<terminal id>                    how many gate transactions the terminal has
    port/berth/<terminal id>/<call id>          Berth: a berth window the terminal allocated
    port/schedule/<terminal id>/<start:015d>/<call id>  index: berth windows by start time

Records are frozen dataclasses stored as canonical JSON. Each record that is not
public carries the audience (kernel/access.py) that may read it, so a raw state
read, a query and an event about it all answer the same parties.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from portchain.kernel import codec
from portchain.kernel.module import StateReader
from portchain.kernel.state import State

TERMINAL = "port/terminal/"
BOX = "port/box/"
MOVE = "port/move/"
AT = "port/at/"
GATE = "port/gate/"
GATES = "port/gates/"
BERTH = "port/berth/"
SCHEDULE = "port/schedule/"

# Where a container is (Box.kind).
AT_TERMINAL = "terminal"
ON_VESSEL = "vessel"
INLAND = "inland"


@dataclass(frozen=True, slots=True)
class Terminal:
    """A container terminal in a port, registered by the port's operator."""

    id: str
    """``<UN/LOCODE>-<facility code>``, e.g. ``CNSHK-SCT``."""
    port: str
    """The port's UN/LOCODE, e.g. ``CNSHK``."""
    operator: str
    """The port operator organisation that registered it."""
    org: str
    """The terminal organisation that operates it (gate and crane moves)."""
    name: str
    registered_ms: int = 0

    @property
    def country(self) -> str:
        return self.port[:2]


@dataclass(frozen=True, slots=True)
class Box:
    """Where one container is now, and what the rules need to know about how it got there."""

    number: str
    kind: str
    """``terminal``, ``vessel`` or ``inland``."""
    full: bool
    """LADEN (True) or EMPTY (False)."""
    since_ms: int
    moves: int
    """How many moves are recorded (``port/move/<number>/00000001`` ... ``moves``)."""
    terminal: str = ""
    """The terminal it is at (kind ``terminal``), or was loaded at (kind ``vessel``)."""
    call_id: str = ""
    """The vessel call it is on (kind ``vessel``), or was discharged from (kind ``terminal``
    after a discharge)."""
    vessel_imo: str = ""
    """The vessel it is on (kind ``vessel``)."""
    arrived_by: str = ""
    """The move that brought it where it is: GTIN, DISC, LOAD, GTOT, PICK, DROP."""
    place: str = ""
    """Inland: the UN/LOCODE of the last place reported (PICK, DROP, STUF, STRP)."""
    load_call: str = ""
    """The vessel call of its latest LOAD ('' if never loaded)."""
    load_terminal: str = ""
    load_ms: int = 0
    audience: tuple[str, ...] = ()
    """Who may read this record: the audience of its latest move."""


@dataclass(frozen=True, slots=True)
class Move:
    """One DCSA equipment event, as the ledger accepted it."""

    n: int
    number: str
    event: str
    """GTIN, GTOT, LOAD, DISC, STUF, STRP, PICK, DROP, INSP, RSEA, RMVD."""
    full: bool
    time_ms: int
    reporter: str
    """The organisation that reported it (the signer's)."""
    terminal: str = ""
    call_id: str = ""
    place: str = ""
    booking: str = ""
    """The container's booking when the move was made ('' if none)."""
    seal: str = ""
    haulier: str = ""
    truck: str = ""
    remarks: str = ""
    tx: str = ""
    """Hash of the transaction that reported it (hex)."""
    audience: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class Gate:
    """A gate transaction at a terminal (a GTIN or a GTOT)."""

    n: int
    terminal: str
    number: str
    direction: str
    """``in`` or ``out``."""
    full: bool
    time_ms: int
    move: int
    """The container's move number of this gate transaction."""
    booking: str = ""
    haulier: str = ""
    truck: str = ""


@dataclass(frozen=True, slots=True)
class Berth:
    """A berth window the terminal allocated to a vessel call at it."""

    terminal: str
    call_id: str
    berth: str
    start_ms: int
    end_ms: int
    carrier: str = ""
    vessel_imo: str = ""
    vessel_name: str = ""
    updated_ms: int = 0


def _load(reader: StateReader, key: str) -> Any:
    raw = reader.get(key)
    return None if raw is None else json.loads(raw)


def _record(obj: Any) -> dict[str, Any]:
    data: dict[str, Any] = codec.plain(obj)
    return data


# -- terminals -----------------------------------------------------------------
def get_terminal(reader: StateReader, terminal_id: str) -> Terminal | None:
    data = _load(reader, TERMINAL + terminal_id)
    return None if data is None else Terminal(**data)


def put_terminal(state: State, terminal: Terminal) -> None:
    state.set_json(TERMINAL + terminal.id, _record(terminal))


# -- containers ------------------------------------------------------------------
def get_box(reader: StateReader, number: str) -> Box | None:
    data = _load(reader, BOX + number)
    if data is None:
        return None
    data["audience"] = tuple(data["audience"])
    return Box(**data)


def put_box(state: State, box: Box) -> None:
    state.set_json(BOX + box.number, _record(box))


def move_key(number: str, n: int) -> str:
    return f"{MOVE}{number}/{n:08d}"


def move_from(data: dict[str, Any]) -> Move:
    data["audience"] = tuple(data["audience"])
    return Move(**data)


def get_move(reader: StateReader, number: str, n: int) -> Move | None:
    data = _load(reader, move_key(number, n))
    return None if data is None else move_from(data)


def put_move(state: State, move: Move) -> None:
    state.set_json(move_key(move.number, move.n), _record(move))


def at_key(terminal_id: str, number: str) -> str:
    return f"{AT}{terminal_id}/{number}"


def put_at(state: State, box: Box) -> None:
    """Index the container under the terminal it is at now."""
    state.set_json(
        at_key(box.terminal, box.number),
        {"arrived_by": box.arrived_by, "full": box.full, "since_ms": box.since_ms},
    )


def drop_at(state: State, terminal_id: str, number: str) -> None:
    state.delete(at_key(terminal_id, number))


# -- gates -----------------------------------------------------------------------
def gate_key(terminal_id: str, n: int) -> str:
    return f"{GATE}{terminal_id}/{n:012d}"


def next_gate(state: State, terminal_id: str) -> int:
    raw = state.get(GATES + terminal_id)
    n = (0 if raw is None else int(raw)) + 1
    state.set(GATES + terminal_id, str(n).encode())
    return n


def put_gate(state: State, gate: Gate) -> None:
    state.set_json(gate_key(gate.terminal, gate.n), _record(gate))


# -- berths ----------------------------------------------------------------------
def berth_key(terminal_id: str, call_id: str) -> str:
    return f"{BERTH}{terminal_id}/{call_id}"


def get_berth(reader: StateReader, terminal_id: str, call_id: str) -> Berth | None:
    data = _load(reader, berth_key(terminal_id, call_id))
    return None if data is None else Berth(**data)


def schedule_key(berth: Berth) -> str:
    return f"{SCHEDULE}{berth.terminal}/{berth.start_ms:015d}/{berth.call_id}"


def put_berth(state: State, berth: Berth) -> None:
    """Store the window and index it by start time (moving the index entry if it changed)."""
    old = get_berth(state, berth.terminal, berth.call_id)
    if old is not None:
        state.delete(schedule_key(old))
    state.set_json(berth_key(berth.terminal, berth.call_id), _record(berth))
    state.set(schedule_key(berth), berth.call_id.encode())
