"""The port module's rules on the real app: terminals, who may report which move, bad input,
and the release gate for import cargo."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from port_world import World, attr, container_number, new_world, ok
from portchain.kernel.errors import PortchainError
from support import seeded_key

IMO = "9321483"
LATER = 1_790_000_000_000 + 10 * 24 * 3600 * 1000


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    built = new_world(tmp_path)
    yield built
    built.chain.close()


@pytest.fixture
def scene(world: World) -> dict[str, str]:
    """A vessel calling at Shekou SCT then Rotterdam DDT; a booking by BRIGHTWAVE (forwarder
    PEARLFWD, consignee HOLLANDHOME) with MERIDIAN; a booked container gated in laden at
    SCT ("yard"), a booked container not yet seen ("booked"), an unregistered one ("stranger")."""
    world.vessel(IMO, "Meridian Star")
    shekou = world.call(IMO, "CNSHK-SCT")
    rotterdam = world.call(IMO, "NLRTM-DDT")
    booking = world.booking(call_id=shekou, forwarder="PEARLFWD")
    yard, booked, stranger = container_number(), container_number(), container_number()
    world.container(yard, booking)
    world.container(booked, booking)
    ok(
        world.move(
            "SHEKOU-CT", "gate_in", container=yard, terminal="CNSHK-SCT", empty_indicator="LADEN"
        )
    )
    return {
        "shekou": shekou,
        "rotterdam": rotterdam,
        "booking": booking,
        "yard": yard,
        "booked": booked,
        "stranger": stranger,
    }


# -- terminals ---------------------------------------------------------------------------
def test_a_port_operator_registers_terminals_in_its_own_port_only(world: World) -> None:
    chain = world.chain
    terminal = chain.state("port/terminal/CNSHK-SCT")
    assert terminal == {
        "id": "CNSHK-SCT",
        "port": "CNSHK",
        "operator": "SHEKOU-PORT",
        "org": "SHEKOU-CT",
        "name": "Terminal CNSHK-SCT",
        "registered_ms": terminal["registered_ms"],
    }
    abroad = world.chain.run(
        "RTM-PORT",
        "port.register_terminal",
        {"terminal_id": "CNSHK-XT", "name": "X", "org": "RTM-DELTA"},
    )
    assert (abroad.codespace, abroad.code) == ("port", 4)
    assert "port CNSHK is in CN; RTM-PORT operates ports in NL" in abroad.log
    not_terminal = world.chain.run(
        "SHEKOU-PORT",
        "port.register_terminal",
        {"terminal_id": "CNSHK-XT", "name": "X", "org": "BRIGHTWAVE"},
    )
    assert (not_terminal.codespace, not_terminal.code) == ("port", 5)
    assert "body.org" in not_terminal.log
    again = world.chain.run(
        "SHEKOU-PORT",
        "port.register_terminal",
        {"terminal_id": "CNSHK-SCT", "name": "X", "org": "SHEKOU-CT"},
    )
    assert (again.codespace, again.code) == ("port", 2)
    assert chain.state("port/terminal/CNSHK-XT") is None


def test_the_terminal_allocates_berth_windows_for_calls_at_it(world: World) -> None:
    world.vessel(IMO, "Meridian Star")
    shekou = world.call(IMO, "CNSHK-SCT")
    rotterdam = world.call(IMO, "NLRTM-DDT")
    window = {
        "terminal": "CNSHK-SCT",
        "call_id": shekou,
        "berth": "B3",
        "start_ms": LATER,
        "end_ms": LATER + 86_400_000,
    }
    allocated = ok(world.chain.run("SHEKOU-CT", "port.allocate_berth", window))
    assert attr(allocated, "port.berth_allocated", "berth") == "B3"
    other = world.chain.run("RTM-DELTA", "port.allocate_berth", window)
    assert (other.codespace, other.code) == ("port", 3)
    elsewhere = world.chain.run(
        "SHEKOU-CT", "port.allocate_berth", {**window, "call_id": rotterdam}
    )
    assert (elsewhere.codespace, elsewhere.code) == ("port", 7)
    moved = ok(
        world.chain.run(
            "SHEKOU-CT", "port.allocate_berth", {**window, "start_ms": LATER + 3_600_000}
        )
    )
    assert moved.ok
    schedule = [k for k in (world.chain.storage.reader().scan("port/schedule/CNSHK-SCT/"))]
    assert [key.rsplit("/", 2)[1] for key, _ in schedule] == [f"{LATER + 3_600_000:015d}"]


# -- who may do what -----------------------------------------------------------------------
def at_terminal(
    verb: str, terminal: str = "CNSHK-SCT", which: str = "yard", **extra: Any
) -> Callable[[dict[str, str]], dict[str, Any]]:
    def build(s: dict[str, str]) -> dict[str, Any]:
        body: dict[str, Any] = {"container": s[which], "terminal": terminal}
        if verb not in ("stuff", "strip"):
            body["empty_indicator"] = "LADEN"
        if verb in ("load", "discharge"):
            body["call_id"] = s[extra.pop("call", "shekou")] if "call" in extra else s["shekou"]
        return {**body, **extra}

    return build


def inland(which: str, **extra: Any) -> Callable[[dict[str, str]], dict[str, Any]]:
    def build(s: dict[str, str]) -> dict[str, Any]:
        return {"container": s[which], "place": "CNSZX", **extra}

    return build


def load_onto(call: str) -> Callable[[dict[str, str]], dict[str, Any]]:
    def build(s: dict[str, str]) -> dict[str, Any]:
        return {
            "container": s["yard"],
            "terminal": "CNSHK-SCT",
            "empty_indicator": "LADEN",
            "call_id": s[call],
        }

    return build


# (why, signer, verb, body, None if allowed else (codespace, code))
WHO_MAY: list[
    tuple[str, str, str, Callable[[dict[str, str]], dict[str, Any]], tuple[str, int] | None]
] = [
    (
        "the terminal gates in at its terminal",
        "SHEKOU-CT",
        "gate_in",
        at_terminal("gate_in", which="stranger"),
        None,
    ),
    (
        "a terminal cannot gate in at another's terminal",
        "RTM-DELTA",
        "gate_in",
        at_terminal("gate_in", which="stranger"),
        ("port", 3),
    ),
    ("the terminal loads onto a call at it", "SHEKOU-CT", "load", load_onto("shekou"), None),
    (
        "a terminal cannot load at another's terminal",
        "RTM-DELTA",
        "load",
        load_onto("shekou"),
        ("port", 3),
    ),
    (
        "not onto a call at another terminal",
        "SHEKOU-CT",
        "load",
        load_onto("rotterdam"),
        ("port", 7),
    ),
    ("a shipper cannot report a LOAD", "BRIGHTWAVE", "load", load_onto("shekou"), ("tx", 8)),
    ("a carrier cannot report a LOAD", "MERIDIAN", "load", load_onto("shekou"), ("tx", 8)),
    (
        "a carrier cannot report a GTIN",
        "MERIDIAN",
        "gate_in",
        at_terminal("gate_in", which="stranger"),
        ("tx", 8),
    ),
    (
        "a port operator cannot report a GTOT",
        "SHEKOU-PORT",
        "gate_out",
        at_terminal("gate_out"),
        ("tx", 8),
    ),
    (
        "customs does not report INSP itself",
        "CN-CUSTOMS",
        "inspect",
        at_terminal("inspect"),
        ("tx", 8),
    ),
    ("the terminal reports INSP", "SHEKOU-CT", "inspect", at_terminal("inspect"), None),
    (
        "the terminal reports RSEA",
        "SHEKOU-CT",
        "reseal",
        at_terminal("reseal", seal="SL12345"),
        None,
    ),
    ("the terminal reports RMVD", "SHEKOU-CT", "remove_seal", at_terminal("remove_seal"), None),
    (
        "another terminal cannot report RMVD",
        "RTM-DELTA",
        "remove_seal",
        at_terminal("remove_seal"),
        ("port", 3),
    ),
    ("the terminal strips at its terminal", "SHEKOU-CT", "strip", at_terminal("strip"), None),
    (
        "a shipper cannot strip at a terminal",
        "BRIGHTWAVE",
        "strip",
        at_terminal("strip"),
        ("port", 3),
    ),
    ("the terminal gates out export cargo", "SHEKOU-CT", "gate_out", at_terminal("gate_out"), None),
    ("a haulier cannot gate out", "MAASHAUL", "gate_out", at_terminal("gate_out"), ("tx", 8)),
    (
        "a haulier picks up any container",
        "MAASHAUL",
        "pick_up",
        inland("stranger", empty_indicator="EMPTY"),
        None,
    ),
    (
        "the booking's carrier picks up",
        "MERIDIAN",
        "pick_up",
        inland("booked", empty_indicator="EMPTY"),
        None,
    ),
    (
        "another carrier cannot pick up",
        "OTHERLINE",
        "pick_up",
        inland("booked", empty_indicator="EMPTY"),
        ("port", 3),
    ),
    (
        "a carrier cannot pick up a container it has nothing to do with",
        "MERIDIAN",
        "drop_off",
        inland("stranger", empty_indicator="EMPTY"),
        ("port", 3),
    ),
    (
        "a shipper cannot drop off",
        "BRIGHTWAVE",
        "drop_off",
        inland("booked", empty_indicator="EMPTY"),
        ("tx", 8),
    ),
    ("the booking's shipper stuffs inland", "BRIGHTWAVE", "stuff", inland("booked"), None),
    ("the booking's forwarder stuffs inland", "PEARLFWD", "stuff", inland("booked"), None),
    ("another shipper cannot stuff", "OTHERSHIP", "stuff", inland("booked"), ("port", 3)),
    ("a consignee cannot stuff", "HOLLANDHOME", "stuff", inland("booked"), ("tx", 8)),
    ("the booking's consignee strips inland", "HOLLANDHOME", "strip", inland("booked"), None),
    (
        "no inland stuffing without a booking",
        "BRIGHTWAVE",
        "stuff",
        inland("stranger"),
        ("port", 12),
    ),
    ("the terminal cannot stuff inland", "SHEKOU-CT", "stuff", inland("booked"), ("port", 3)),
]


@pytest.mark.parametrize(
    ("why", "signer", "verb", "body", "outcome"), WHO_MAY, ids=[row[0] for row in WHO_MAY]
)
def test_who_may_do_what(
    world: World,
    scene: dict[str, str],
    why: str,
    signer: str,
    verb: str,
    body: Callable[[dict[str, str]], dict[str, Any]],
    outcome: tuple[str, int] | None,
) -> None:
    chain = world.chain
    raw = chain.sign(signer, f"port.{verb}", body(scene))
    number = body(scene)["container"]
    before = chain.state(f"port/box/{number}")
    if outcome == ("tx", 8):  # refused at the mempool, before any handler
        with pytest.raises(PortchainError) as refused:
            chain.app.check_tx(raw)
        assert (refused.value.codespace, refused.value.code) == outcome
    result = chain.block(raw).tx_results[0]
    if outcome is None:
        assert result.ok, result.log
        assert chain.state(f"port/box/{number}")["moves"] == (before["moves"] if before else 0) + 1
    else:
        assert (result.codespace, result.code) == outcome, result.log
        assert chain.state(f"port/box/{number}") == before  # nothing moved


# -- the release gate --------------------------------------------------------------------
def test_import_gate_out_is_refused_naming_every_missing_release(
    world: World, scene: dict[str, str]
) -> None:
    yard = scene["yard"]
    ok(
        world.move(
            "SHEKOU-CT",
            "load",
            container=yard,
            terminal="CNSHK-SCT",
            empty_indicator="LADEN",
            call_id=scene["shekou"],
        )
    )
    ok(
        world.move(
            "RTM-DELTA",
            "discharge",
            container=yard,
            terminal="NLRTM-DDT",
            empty_indicator="LADEN",
            call_id=scene["rotterdam"],
        )
    )
    before = world.chain.state(f"port/box/{yard}")
    refused = world.move(
        "RTM-DELTA", "gate_out", container=yard, terminal="NLRTM-DDT", empty_indicator="LADEN"
    )
    assert (refused.codespace, refused.code) == ("port", 11)
    assert "missing: customs release, carrier release, terminal charges" in refused.log
    assert refused.log.startswith("body.container: ")
    assert world.chain.state(f"port/box/{yard}") == before
    assert world.chain.state(f"port/at/NLRTM-DDT/{yard}") is not None


def test_export_and_empty_moves_leave_the_terminal_freely(
    world: World, scene: dict[str, str]
) -> None:
    yard, booked = scene["yard"], scene["booked"]
    # Export cargo that gated in laden may leave again (shut out, returned to the shipper).
    out = ok(
        world.move(
            "SHEKOU-CT",
            "gate_out",
            container=yard,
            terminal="CNSHK-SCT",
            empty_indicator="LADEN",
            haulier="MAASHAUL",
            truck="YUE B12345",
        )
    )
    assert attr(out, "port.equipment_event", "event") == "GTOT"
    assert world.chain.state(f"port/at/CNSHK-SCT/{yard}") is None
    twice = world.move(
        "SHEKOU-CT", "gate_out", container=yard, terminal="CNSHK-SCT", empty_indicator="LADEN"
    )
    assert (twice.codespace, twice.code) == ("port", 8)
    # An empty container discharged at Rotterdam needs no release.
    ok(
        world.move(
            "SHEKOU-CT", "gate_in", container=booked, terminal="CNSHK-SCT", empty_indicator="EMPTY"
        )
    )
    ok(
        world.move(
            "SHEKOU-CT",
            "load",
            container=booked,
            terminal="CNSHK-SCT",
            empty_indicator="EMPTY",
            call_id=scene["shekou"],
        )
    )
    ok(
        world.move(
            "RTM-DELTA",
            "discharge",
            container=booked,
            terminal="NLRTM-DDT",
            empty_indicator="EMPTY",
            call_id=scene["rotterdam"],
        )
    )
    ok(
        world.move(
            "RTM-DELTA", "gate_out", container=booked, terminal="NLRTM-DDT", empty_indicator="EMPTY"
        )
    )
    gates = [value for _, value in world.chain.storage.reader().scan("port/gate/CNSHK-SCT/")]
    assert len(gates) == 3  # yard in, yard out, booked in


def test_a_discharge_needs_the_vessel_it_was_loaded_on(world: World, scene: dict[str, str]) -> None:
    yard = scene["yard"]
    other_imo = "9074729"
    world.vessel(other_imo, "Other Star")
    other_call = world.call(other_imo, "NLRTM-DDT")
    not_loaded = world.move(
        "RTM-DELTA",
        "discharge",
        container=yard,
        terminal="NLRTM-DDT",
        empty_indicator="LADEN",
        call_id=scene["rotterdam"],
    )
    assert (not_loaded.codespace, not_loaded.code) == ("port", 8)
    assert "at terminal CNSHK-SCT; it must be on board" in not_loaded.log
    ok(
        world.move(
            "SHEKOU-CT",
            "load",
            container=yard,
            terminal="CNSHK-SCT",
            empty_indicator="LADEN",
            call_id=scene["shekou"],
        )
    )
    wrong = world.move(
        "RTM-DELTA",
        "discharge",
        container=yard,
        terminal="NLRTM-DDT",
        empty_indicator="LADEN",
        call_id=other_call,
    )
    assert (wrong.codespace, wrong.code) == ("port", 9)
    same_call = world.move(
        "SHEKOU-CT",
        "discharge",
        container=yard,
        terminal="CNSHK-SCT",
        empty_indicator="LADEN",
        call_id=scene["shekou"],
    )
    assert (same_call.codespace, same_call.code) == ("port", 9)
    empty = world.move(
        "RTM-DELTA",
        "discharge",
        container=yard,
        terminal="NLRTM-DDT",
        empty_indicator="EMPTY",
        call_id=scene["rotterdam"],
    )
    assert (empty.codespace, empty.code) == ("port", 10)
    assert "body.empty_indicator" in empty.log


# -- bad input ---------------------------------------------------------------------------------
GOOD = {"container": "CSQU3054383", "terminal": "CNSHK-SCT", "empty_indicator": "LADEN"}
BAD_INPUT: list[tuple[str, str, dict[str, Any], str, str]] = [
    (
        "SHEKOU-PORT",
        "register_terminal",
        {"terminal_id": "CNSHK", "name": "X", "org": "SHEKOU-CT"},
        "body.terminal_id",
        "UN/LOCODE",
    ),
    (
        "SHEKOU-PORT",
        "register_terminal",
        {"terminal_id": "CNSHK-SCT", "name": "", "org": "SHEKOU-CT"},
        "body.name",
        "at least 1",
    ),
    (
        "SHEKOU-PORT",
        "register_terminal",
        {"terminal_id": "CNSHK-SCT", "name": "X", "org": "shekou ct"},
        "body.org",
        "pattern",
    ),
    (
        "SHEKOU-CT",
        "allocate_berth",
        {"terminal": "CNSHK-SCT", "call_id": "C1", "berth": "B1", "start_ms": 5, "end_ms": 5},
        "body.end_ms",
        "must be after start_ms",
    ),
    (
        "SHEKOU-CT",
        "allocate_berth",
        {"terminal": "CNSHK-SCT", "call_id": "C/1", "berth": "B1", "start_ms": 5, "end_ms": 9},
        "body.call_id",
        "pattern",
    ),
    ("SHEKOU-CT", "gate_in", {**GOOD, "container": "CSQU3054384"}, "body.container", "check digit"),
    ("SHEKOU-CT", "gate_in", {**GOOD, "truck": "yue b 1"}, "body.truck", "pattern"),
    (
        "SHEKOU-CT",
        "gate_out",
        {**GOOD, "empty_indicator": "FULL"},
        "body.empty_indicator",
        "'EMPTY' or 'LADEN'",
    ),
    ("SHEKOU-CT", "load", GOOD, "body.call_id", "Field required"),
    (
        "SHEKOU-CT",
        "discharge",
        {**GOOD, "call_id": "C1", "terminal": "CNSHK-S"},
        "body.terminal",
        "UN/LOCODE",
    ),
    ("SHEKOU-CT", "inspect", {**GOOD, "remarks": "x" * 257}, "body.remarks", "at most 256"),
    ("SHEKOU-CT", "reseal", GOOD, "body.seal", "Field required"),
    ("SHEKOU-CT", "remove_seal", {**GOOD, "seal": "S" * 16}, "body.seal", "pattern"),
    (
        "SHEKOU-CT",
        "stuff",
        {"container": "CSQU3054383"},
        "body.terminal",
        "exactly one of terminal",
    ),
    (
        "SHEKOU-CT",
        "strip",
        {"container": "CSQU3054383", "terminal": "CNSHK-SCT", "place": "CNSHK"},
        "body.terminal",
        "exactly one of terminal",
    ),
    (
        "MAASHAUL",
        "pick_up",
        {"container": "CSQU3054383", "place": "NLXX1", "empty_indicator": "EMPTY"},
        "body.place",
        "UN/LOCODE",
    ),
    (
        "MAASHAUL",
        "drop_off",
        {"container": "CSQU3054383", "place": "NLRTM", "empty_indicator": "EMPTY", "extra": 1},
        "body.extra",
        "Extra inputs",
    ),
]


@pytest.mark.parametrize(
    ("signer", "verb", "body", "field", "rule"),
    BAD_INPUT,
    ids=[f"{r[1]}-{r[3]}" for r in BAD_INPUT],
)
def test_bad_input_is_refused_naming_field_and_rule_and_changes_nothing(
    world: World, signer: str, verb: str, body: dict[str, Any], field: str, rule: str
) -> None:
    chain = world.chain
    before = chain.app_hash
    raw = chain.sign(signer, f"port.{verb}", body, seq=chain.seqs.get(seeded_key(signer).key_id, 0))
    with pytest.raises(PortchainError) as refused:
        chain.app.check_tx(raw)
    assert (refused.value.codespace, refused.value.code) == ("tx", 9)
    assert refused.value.field == field
    assert rule in refused.value.message
    assert chain.app_hash == before
