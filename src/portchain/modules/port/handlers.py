"""State transitions of the port module.

Every handler takes the module's :class:`Deps` first (what it reads from other
modules), then ``(state, env, ctx, msg)``. Who may sign each action at all (its
roles) is declared in ``module.py`` and checked by the app first; here the
signer's relation to the terminal or the container is checked, then the
physical rules of the move (README.md, "The rules of a move"):

* a container is in one place at a time: a terminal's yard, a vessel call, or inland;
* GTIN only from inland (or a container never seen); LOAD, GTOT, INSP, RSEA, RMVD only at
  the terminal where it is; LOAD only onto a call at that terminal;
* DISC only from a vessel it is on, at another call of the same vessel;
* GTOT of a LADEN container discharged at this terminal needs every release;
* EMPTY/LADEN changes only by STUF and STRP, or while inland where nobody on the ledger
  sees it (a gate-in states it afresh).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from portchain.kernel.access import Audience, audience, parties
from portchain.kernel.env import BlockEnv
from portchain.kernel.events import Event
from portchain.kernel.module import Context
from portchain.kernel.state import State
from portchain.modules.port import errors, events, store
from portchain.modules.port.access import terminal_side
from portchain.modules.port.interfaces import (
    RELEASE_KINDS,
    Booking,
    Logistics,
    Organisations,
    Releases,
)
from portchain.modules.port.messages import (
    AllocateBerth,
    Discharge,
    GateIn,
    GateOut,
    InlandMove,
    Inspect,
    Load,
    RegisterTerminal,
    RemoveSeal,
    Reseal,
    Stuffing,
    TerminalMove,
)
from portchain.modules.port.store import AT_TERMINAL, INLAND, ON_VESSEL, Berth, Box, Move, Terminal

RELEASE_NAMES = {
    "customs": "customs release",
    "carrier": "carrier release",
    "charges": "terminal charges",
}


@dataclass(frozen=True)
class Deps:
    """What the handlers read from other modules (wired by the app)."""

    logistics: Logistics
    organisations: Organisations
    releases: Releases


# -- terminals ------------------------------------------------------------------------
def apply_register_terminal(
    deps: Deps, state: State, env: BlockEnv, ctx: Context, msg: RegisterTerminal
) -> list[Event]:
    """A port operator registers a terminal in a port of its own country."""
    operator = deps.organisations.get_org(state, ctx.signer.org)
    port = msg.terminal_id.partition("-")[0]
    if operator is None or operator.country != port[:2]:
        country = operator.country if operator is not None else "?"
        raise errors.PortNotYours(
            f"port {port} is in {port[:2]}; {ctx.signer.org} operates ports in {country}",
            field="body.terminal_id",
        )
    if store.get_terminal(state, msg.terminal_id) is not None:
        raise errors.TerminalExists(
            f"terminal {msg.terminal_id} is registered", field="body.terminal_id"
        )
    org = deps.organisations.get_org(state, msg.org)
    if org is None or org.status != "active" or "terminal" not in org.roles:
        raise errors.NotATerminalOrg(
            f"{msg.org} must be an active member organisation with role terminal",
            field="body.org",
        )
    terminal = Terminal(
        id=msg.terminal_id,
        port=port,
        operator=ctx.signer.org,
        org=msg.org,
        name=msg.name,
        registered_ms=env.time_ms,
    )
    store.put_terminal(state, terminal)
    return [events.terminal_registered(terminal)]


def _own_terminal(state: State, ctx: Context, terminal_id: str) -> Terminal:
    terminal = store.get_terminal(state, terminal_id)
    if terminal is None:
        raise errors.TerminalNotFound(f"no terminal {terminal_id}", field="body.terminal")
    if terminal.org != ctx.signer.org:
        raise errors.NotEntitled(
            f"{terminal_id} is operated by {terminal.org}; only it reports moves and berths there",
            field="body.terminal",
        )
    return terminal


def apply_allocate_berth(
    deps: Deps, state: State, env: BlockEnv, ctx: Context, msg: AllocateBerth
) -> list[Event]:
    """The terminal sets (or moves) the berth window of a vessel call at it."""
    terminal = _own_terminal(state, ctx, msg.terminal)
    call = deps.logistics.vessel_call(state, msg.call_id)
    if call is None:
        raise errors.CallNotFound(f"no vessel call {msg.call_id}", field="body.call_id")
    if call.terminal != terminal.id:
        raise errors.CallElsewhere(
            f"vessel call {msg.call_id} is at {call.terminal or call.port}, not {terminal.id}",
            field="body.call_id",
        )
    berth = Berth(
        terminal=terminal.id,
        call_id=call.call_id,
        berth=msg.berth,
        start_ms=msg.start_ms,
        end_ms=msg.end_ms,
        carrier=call.carrier,
        vessel_imo=call.vessel_imo,
        vessel_name=call.vessel_name,
        updated_ms=env.time_ms,
    )
    store.put_berth(state, berth)
    return [events.berth_allocated(berth)]


# -- containers: shared steps ------------------------------------------------------------
def _where(box: Box) -> str:
    if box.kind == AT_TERMINAL:
        return f"at terminal {box.terminal}"
    if box.kind == ON_VESSEL:
        return f"on board vessel call {box.call_id}"
    return f"inland at {box.place}" if box.place else "inland"


def _must_be_at(box: Box | None, number: str, terminal: Terminal, verb: str) -> Box:
    if box is None or box.kind != AT_TERMINAL or box.terminal != terminal.id:
        where = "not known to the ledger" if box is None else _where(box)
        raise errors.NotThere(
            f"{number} is {where}; it must be at terminal {terminal.id} to {verb}",
            field="body.container",
        )
    return box


def _must_be_inland(box: Box | None, number: str, verb: str) -> None:
    if box is not None and box.kind != INLAND:
        raise errors.NotThere(
            f"{number} is {_where(box)}; it must be outside every terminal and vessel to {verb}",
            field="body.container",
        )


def _same_fill(box: Box, msg: TerminalMove | InlandMove) -> None:
    if box.full != (msg.empty_indicator == "LADEN"):
        known = "LADEN" if box.full else "EMPTY"
        raise errors.FillMismatch(
            f"{box.number} is {known}; only STUF or STRP changes that",
            field="body.empty_indicator",
        )


def _booking_of(deps: Deps, state: State, number: str) -> Booking | None:
    container = deps.logistics.container(state, number)
    if container is None or not container.booking:
        return None
    return deps.logistics.booking(state, container.booking)


def _audience(
    reporter: str,
    terminal: Terminal | None,
    booking: Booking | None,
    call_carrier: str = "",
) -> Audience:
    principals: list[str | Audience] = [parties(reporter, call_carrier)]
    if terminal is not None:
        principals.append(terminal_side(terminal))
    if booking is not None:
        principals.append(
            parties(booking.carrier, booking.shipper, booking.forwarder, booking.consignee)
        )
    return audience(*principals)


def _record(
    state: State,
    env: BlockEnv,
    ctx: Context,
    before: Box | None,
    after: Box,
    move: Move,
) -> list[Event]:
    """Store the move and the container's new place; keep the terminal index in step."""
    n = (before.moves if before is not None else 0) + 1
    move = replace(move, n=n, time_ms=env.time_ms, reporter=ctx.signer.org, tx=ctx.tx_hash.hex())
    after = replace(after, moves=n, audience=move.audience)
    store.put_move(state, move)
    store.put_box(state, after)
    left = (
        before is not None
        and before.kind == AT_TERMINAL
        and (after.kind != AT_TERMINAL or after.terminal != before.terminal)
    )
    if left:
        assert before is not None
        store.drop_at(state, before.terminal, before.number)
    if after.kind == AT_TERMINAL and (
        before is None
        or (before.kind, before.terminal, before.full, before.since_ms, before.arrived_by)
        != (after.kind, after.terminal, after.full, after.since_ms, after.arrived_by)
    ):
        store.put_at(state, after)
    return [events.equipment_event(move)]


def _gate(
    state: State,
    env: BlockEnv,
    box: Box,
    direction: str,
    booking: Booking | None,
    haulier: str,
    truck: str,
) -> None:
    """Write the terminal's gate record of the container's latest move (a GTIN or GTOT)."""
    n = store.next_gate(state, box.terminal)
    store.put_gate(
        state,
        store.Gate(
            n=n,
            terminal=box.terminal,
            number=box.number,
            direction=direction,
            full=box.full,
            time_ms=env.time_ms,
            move=box.moves,
            booking=booking.reference if booking is not None else "",
            haulier=haulier,
            truck=truck,
        ),
    )


def after_of(state: State, number: str) -> Box:
    box = store.get_box(state, number)
    assert box is not None  # just written
    return box


def _move(event: str, number: str, full: bool, aud: Audience, booking: Booking | None) -> Move:
    return Move(
        n=0,
        number=number,
        event=event,
        full=full,
        time_ms=0,
        reporter="",
        booking=booking.reference if booking is not None else "",
        audience=aud,
    )


# -- gate ----------------------------------------------------------------------------
def apply_gate_in(
    deps: Deps, state: State, env: BlockEnv, ctx: Context, msg: GateIn
) -> list[Event]:
    """GTIN: the container comes in through the terminal's gate, from inland."""
    terminal = _own_terminal(state, ctx, msg.terminal)
    before = store.get_box(state, msg.container)
    _must_be_inland(before, msg.container, "gate in")
    full = msg.empty_indicator == "LADEN"
    booking = _booking_of(deps, state, msg.container)
    base = before or Box(number=msg.container, kind=INLAND, full=full, since_ms=0, moves=0)
    after = replace(
        base,
        kind=AT_TERMINAL,
        full=full,
        since_ms=env.time_ms,
        terminal=terminal.id,
        call_id="",
        vessel_imo="",
        arrived_by="GTIN",
        place="",
    )
    move = replace(
        _move("GTIN", msg.container, full, _audience(ctx.signer.org, terminal, booking), booking),
        terminal=terminal.id,
        seal=msg.seal or "",
        haulier=msg.haulier or "",
        truck=msg.truck,
        remarks=msg.remarks,
    )
    out = _record(state, env, ctx, before, after, move)
    _gate(state, env, after_of(state, msg.container), "in", booking, msg.haulier or "", msg.truck)
    return out


def apply_gate_out(
    deps: Deps, state: State, env: BlockEnv, ctx: Context, msg: GateOut
) -> list[Event]:
    """GTOT: the container leaves through the gate; laden import cargo needs every release."""
    terminal = _own_terminal(state, ctx, msg.terminal)
    before = _must_be_at(store.get_box(state, msg.container), msg.container, terminal, "gate out")
    _same_fill(before, msg)
    if before.arrived_by == "DISC" and before.full:
        present = deps.releases.present(state, msg.container)
        missing = [RELEASE_NAMES[kind] for kind in RELEASE_KINDS if kind not in present]
        if missing:
            raise errors.ReleaseMissing(
                f"{msg.container} is laden import cargo discharged from {before.call_id}; "
                f"gate-out needs {', '.join(RELEASE_NAMES[k] for k in RELEASE_KINDS)}; "
                f"missing: {', '.join(missing)}",
                field="body.container",
            )
    booking = _booking_of(deps, state, msg.container)
    after = replace(
        before,
        kind=INLAND,
        since_ms=env.time_ms,
        terminal="",
        call_id="",
        vessel_imo="",
        arrived_by="GTOT",
        place=terminal.port,
    )
    move = replace(
        _move(
            "GTOT",
            msg.container,
            before.full,
            _audience(ctx.signer.org, terminal, booking),
            booking,
        ),
        terminal=terminal.id,
        haulier=msg.haulier or "",
        truck=msg.truck,
        remarks=msg.remarks,
    )
    out = _record(state, env, ctx, before, after, move)
    gated = replace(before, moves=before.moves + 1)
    _gate(state, env, gated, "out", booking, msg.haulier or "", msg.truck)
    return out


# -- quay ------------------------------------------------------------------------------
def apply_load(deps: Deps, state: State, env: BlockEnv, ctx: Context, msg: Load) -> list[Event]:
    """LOAD: from this terminal's yard onto a vessel call at this terminal."""
    terminal = _own_terminal(state, ctx, msg.terminal)
    call = deps.logistics.vessel_call(state, msg.call_id)
    if call is None:
        raise errors.CallNotFound(f"no vessel call {msg.call_id}", field="body.call_id")
    if call.terminal != terminal.id:
        raise errors.CallElsewhere(
            f"vessel call {msg.call_id} is at {call.terminal or call.port}, not {terminal.id}",
            field="body.call_id",
        )
    before = _must_be_at(store.get_box(state, msg.container), msg.container, terminal, "load")
    _same_fill(before, msg)
    booking = _booking_of(deps, state, msg.container)
    after = replace(
        before,
        kind=ON_VESSEL,
        since_ms=env.time_ms,
        call_id=call.call_id,
        vessel_imo=call.vessel_imo,
        arrived_by="LOAD",
        load_call=call.call_id,
        load_terminal=terminal.id,
        load_ms=env.time_ms,
    )
    aud = _audience(ctx.signer.org, terminal, booking, call.carrier)
    move = replace(
        _move("LOAD", msg.container, before.full, aud, booking),
        terminal=terminal.id,
        call_id=call.call_id,
        remarks=msg.remarks,
    )
    return _record(state, env, ctx, before, after, move)


def apply_discharge(
    deps: Deps, state: State, env: BlockEnv, ctx: Context, msg: Discharge
) -> list[Event]:
    """DISC: from the vessel onto this terminal, at a later call of the vessel it was loaded on."""
    terminal = _own_terminal(state, ctx, msg.terminal)
    call = deps.logistics.vessel_call(state, msg.call_id)
    if call is None:
        raise errors.CallNotFound(f"no vessel call {msg.call_id}", field="body.call_id")
    if call.terminal != terminal.id:
        raise errors.CallElsewhere(
            f"vessel call {msg.call_id} is at {call.terminal or call.port}, not {terminal.id}",
            field="body.call_id",
        )
    before = store.get_box(state, msg.container)
    if before is None or before.kind != ON_VESSEL:
        where = "not known to the ledger" if before is None else _where(before)
        raise errors.NotThere(
            f"{msg.container} is {where}; it must be on board to be discharged",
            field="body.container",
        )
    if call.vessel_imo != before.vessel_imo or call.call_id == before.call_id:
        raise errors.WrongVessel(
            f"{msg.container} was loaded on call {before.call_id} of vessel IMO "
            f"{before.vessel_imo}; it is discharged at another call of that vessel",
            field="body.call_id",
        )
    _same_fill(before, msg)
    booking = _booking_of(deps, state, msg.container)
    after = replace(
        before,
        kind=AT_TERMINAL,
        since_ms=env.time_ms,
        terminal=terminal.id,
        call_id=call.call_id,
        vessel_imo="",
        arrived_by="DISC",
    )
    aud = _audience(ctx.signer.org, terminal, booking, call.carrier)
    move = replace(
        _move("DISC", msg.container, before.full, aud, booking),
        terminal=terminal.id,
        call_id=call.call_id,
        remarks=msg.remarks,
    )
    return _record(state, env, ctx, before, after, move)


# -- in the yard -------------------------------------------------------------------------
def _yard_check(
    deps: Deps,
    state: State,
    env: BlockEnv,
    ctx: Context,
    msg: TerminalMove,
    event: str,
    verb: str,
    seal: str,
) -> list[Event]:
    terminal = _own_terminal(state, ctx, msg.terminal)
    before = _must_be_at(store.get_box(state, msg.container), msg.container, terminal, verb)
    _same_fill(before, msg)
    booking = _booking_of(deps, state, msg.container)
    move = replace(
        _move(
            event, msg.container, before.full, _audience(ctx.signer.org, terminal, booking), booking
        ),
        terminal=terminal.id,
        seal=seal,
        remarks=msg.remarks,
    )
    return _record(state, env, ctx, before, before, move)


def apply_inspect(
    deps: Deps, state: State, env: BlockEnv, ctx: Context, msg: Inspect
) -> list[Event]:
    """INSP: an inspection at the terminal where the container is."""
    return _yard_check(deps, state, env, ctx, msg, "INSP", "be inspected", "")


def apply_reseal(deps: Deps, state: State, env: BlockEnv, ctx: Context, msg: Reseal) -> list[Event]:
    """RSEA: a new seal is fixed at the terminal where the container is."""
    return _yard_check(deps, state, env, ctx, msg, "RSEA", "be resealed", msg.seal)


def apply_remove_seal(
    deps: Deps, state: State, env: BlockEnv, ctx: Context, msg: RemoveSeal
) -> list[Event]:
    """RMVD: the seal is removed at the terminal where the container is."""
    return _yard_check(deps, state, env, ctx, msg, "RMVD", "have its seal removed", msg.seal or "")


# -- stuffing and stripping --------------------------------------------------------------
STUFFERS = {"STUF": ("shipper", "forwarder"), "STRP": ("shipper", "forwarder", "consignee")}
"""Booking parties who may report stuffing or stripping inland."""


def _stuffing(
    deps: Deps, state: State, env: BlockEnv, ctx: Context, msg: Stuffing, event: str
) -> list[Event]:
    full_after = event == "STUF"
    before = store.get_box(state, msg.container)
    booking = _booking_of(deps, state, msg.container)
    terminal: Terminal | None = None
    if msg.terminal is not None:
        terminal = _own_terminal(state, ctx, msg.terminal)
        before = _must_be_at(before, msg.container, terminal, "be stuffed or stripped")
    else:
        if booking is None:
            raise errors.BookingRequired(
                f"{msg.container} is not assigned to a booking; inland stuffing and stripping "
                "are reported by the booking's parties",
                field="body.container",
            )
        entitled = [getattr(booking, role) for role in STUFFERS[event]]
        if ctx.signer.org not in entitled:
            raise errors.NotEntitled(
                f"only the booking's {' or '.join(STUFFERS[event])} reports {event} inland",
                field="body.container",
            )
        _must_be_inland(before, msg.container, "be stuffed or stripped inland")
    if before is not None and before.full == full_after:
        raise errors.FillMismatch(
            f"{msg.container} is already {'LADEN' if full_after else 'EMPTY'}",
            field="body.container",
        )
    if before is None:
        after = Box(
            number=msg.container,
            kind=INLAND,
            full=full_after,
            since_ms=env.time_ms,
            moves=0,
            place=msg.place or "",
            arrived_by=event,
        )
    else:
        after = replace(before, full=full_after, place=msg.place or before.place)
    move = replace(
        _move(
            event, msg.container, full_after, _audience(ctx.signer.org, terminal, booking), booking
        ),
        terminal=terminal.id if terminal is not None else "",
        place=msg.place or "",
        remarks=msg.remarks,
    )
    return _record(state, env, ctx, before, after, move)


def apply_stuff(
    deps: Deps, state: State, env: BlockEnv, ctx: Context, msg: Stuffing
) -> list[Event]:
    """STUF: cargo is packed into an empty container."""
    return _stuffing(deps, state, env, ctx, msg, "STUF")


def apply_strip(
    deps: Deps, state: State, env: BlockEnv, ctx: Context, msg: Stuffing
) -> list[Event]:
    """STRP: cargo is unpacked from a laden container."""
    return _stuffing(deps, state, env, ctx, msg, "STRP")


# -- inland --------------------------------------------------------------------------
def _inland(
    deps: Deps, state: State, env: BlockEnv, ctx: Context, msg: InlandMove, event: str
) -> list[Event]:
    booking = _booking_of(deps, state, msg.container)
    if "haulier" not in ctx.signer.roles:
        container = deps.logistics.container(state, msg.container)
        related = {container.owner if container is not None else ""}
        if booking is not None:
            related.add(booking.carrier)
        if ctx.signer.org not in related:
            raise errors.NotEntitled(
                f"a carrier reports {event} only for a container it owns or carries under a "
                "booking; a haulier may report it for any container",
                field="body.container",
            )
    before = store.get_box(state, msg.container)
    verb = "be picked up" if event == "PICK" else "be dropped off"
    _must_be_inland(before, msg.container, verb)
    full = msg.empty_indicator == "LADEN"
    base = before or Box(number=msg.container, kind=INLAND, full=full, since_ms=0, moves=0)
    after = replace(
        base, kind=INLAND, full=full, since_ms=env.time_ms, place=msg.place, arrived_by=event
    )
    move = replace(
        _move(event, msg.container, full, _audience(ctx.signer.org, None, booking), booking),
        place=msg.place,
        remarks=msg.remarks,
    )
    return _record(state, env, ctx, before, after, move)


def apply_pick_up(
    deps: Deps, state: State, env: BlockEnv, ctx: Context, msg: InlandMove
) -> list[Event]:
    """PICK: a haulier (or the carrier) picks the container up at an inland place."""
    return _inland(deps, state, env, ctx, msg, "PICK")


def apply_drop_off(
    deps: Deps, state: State, env: BlockEnv, ctx: Context, msg: InlandMove
) -> list[Event]:
    """DROP: a haulier (or the carrier) drops the container off at an inland place."""
    return _inland(deps, state, env, ctx, msg, "DROP")
