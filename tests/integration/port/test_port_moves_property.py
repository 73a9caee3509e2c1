"""Random sequences of moves: the ledger accepts exactly the physically consistent ones.

An independent model of the rules (README.md, "The rules of a move") predicts, move by
move, whether the ledger must accept it; the test runs the same moves through the real
app over SQLite and compares every outcome, then checks that no container is ever in two
places: its location record and the terminals' "containers here" index agree with the model.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from port_world import TERMINALS, World, container_number, new_world

OTHER_ORG = {"SHEKOU-CT": "RTM-DELTA", "RTM-DELTA": "SHEKOU-CT"}

# Two vessels: A calls at Shekou SCT, Rotterdam DDT and Shekou MCT; B at SCT and DDT.
CALL_PLAN = (
    ("A", "CNSHK-SCT"),
    ("A", "NLRTM-DDT"),
    ("A", "CNSHK-MCT"),
    ("B", "CNSHK-SCT"),
    ("B", "NLRTM-DDT"),
)
IMOS = {"A": "9321483", "B": "9074729"}

VERBS = ("gate_in", "gate_out", "load", "discharge", "inspect", "stuff", "strip")


@dataclass(frozen=True)
class Where:
    """The model's idea of where one container is."""

    kind: str  # "inland" | "terminal" | "vessel"
    full: bool
    terminal: str = ""
    call: int = -1
    vessel: str = ""
    discharged: bool = False


@dataclass
class Setup:
    world: World
    call_ids: list[str]


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    world = new_world(tmp_path_factory.mktemp("moves"))
    for name, imo in IMOS.items():
        world.vessel(imo, f"Vessel {name}")
    call_ids = [world.call(IMOS[vessel], terminal) for vessel, terminal in CALL_PLAN]
    yield Setup(world, call_ids)
    world.chain.close()


def predict(
    where: Where | None, verb: str, terminal: str, call: int, full: bool, right_signer: bool
) -> Where | None:
    """The container's new place if the move is physically possible and rightly reported;
    None if it must be refused."""
    if not right_signer:
        return None
    here = where if where is not None else Where("inland", full)
    at_terminal = here.kind == "terminal" and here.terminal == terminal
    call_vessel, call_terminal = CALL_PLAN[call]
    if verb == "gate_in":
        return Where("terminal", full, terminal) if here.kind == "inland" else None
    if verb in ("load", "discharge") and call_terminal != terminal:
        return None
    if verb == "load":
        if not at_terminal or here.full != full:
            return None
        return Where("vessel", full, terminal, call, call_vessel)
    if verb == "discharge":
        if here.kind != "vessel" or here.vessel != call_vessel or here.call == call:
            return None
        if here.full != full:
            return None
        return Where("terminal", full, terminal, call, discharged=True)
    if not at_terminal:
        return None
    if verb == "gate_out":
        if here.full != full or (here.discharged and here.full):
            return None  # laden import cargo needs releases, and there are none yet
        return Where("inland", full)
    if verb == "inspect":
        return here if here.full == full else None
    if verb == "stuff":
        return None if here.full else replace(here, full=True)
    assert verb == "strip"
    return replace(here, full=False) if here.full else None


def body(number: str, verb: str, terminal: str, call_id: str, full: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"container": number, "terminal": terminal}
    if verb not in ("stuff", "strip"):
        out["empty_indicator"] = "LADEN" if full else "EMPTY"
    if verb in ("load", "discharge"):
        out["call_id"] = call_id
    return out


def _move(
    verb: str, c: int, call: int, elsewhere: str | None, full: bool, right: bool
) -> tuple[str, int, str, int, bool, bool]:
    # Most moves happen at the terminal of the chosen call, so that voyages do occur.
    return verb, c, elsewhere or CALL_PLAN[call][1], call, full, right


move = st.builds(
    _move,
    st.sampled_from(VERBS),
    st.integers(0, 2),  # which container
    st.integers(0, len(CALL_PLAN) - 1),
    st.one_of(st.none(), st.none(), st.sampled_from(sorted(TERMINALS))),
    st.booleans(),  # laden
    st.integers(0, 11).map(lambda n: n != 0),  # the right terminal organisation signs
)


def biased_moves() -> st.SearchStrategy[list[tuple[Any, ...]]]:
    return st.lists(move, min_size=1, max_size=30)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(moves=biased_moves())
def test_the_ledger_accepts_exactly_the_physically_consistent_moves(
    setup: Setup, moves: list[tuple[Any, ...]]
) -> None:
    chain = setup.world.chain
    numbers = [container_number() for _ in range(3)]
    model: dict[int, Where | None] = {0: None, 1: None, 2: None}
    for start in range(0, len(moves), 6):
        chunk = moves[start : start + 6]
        raws, expected = [], []
        for verb, c, terminal, call, full, right in chunk:
            org = TERMINALS[terminal][1]
            signer = org if right else OTHER_ORG[org]
            raws.append(
                chain.sign(
                    signer,
                    f"port.{verb}",
                    body(numbers[c], verb, terminal, setup.call_ids[call], full),
                )
            )
            after = predict(model[c], verb, terminal, call, full, right)
            expected.append(after is not None)
            if after is not None:
                model[c] = after
        results = chain.block(*raws).tx_results
        for (verb, c, terminal, call, full, right), want, got in zip(
            chunk, expected, results, strict=True
        ):
            assert got.ok == want, (
                f"{verb} of container {c} at {terminal} call {call} laden={full} "
                f"right_signer={right}: expected {'accept' if want else 'refuse'}, got {got.log!r}"
            )
        check_one_place(setup, numbers, model)


def check_one_place(setup: Setup, numbers: list[str], model: dict[int, Where | None]) -> None:
    chain = setup.world.chain
    for c, number in enumerate(numbers):
        where = model[c]
        box = chain.state(f"port/box/{number}")
        indexed = [t for t in TERMINALS if chain.state(f"port/at/{t}/{number}") is not None]
        if where is None:
            assert box is None and indexed == []
            continue
        assert box["kind"] == where.kind and box["full"] == where.full
        if where.kind == "terminal":
            assert box["terminal"] == where.terminal
            assert indexed == [where.terminal]  # listed at exactly one terminal
        else:
            assert indexed == []
        if where.kind == "vessel":
            assert box["call_id"] == setup.call_ids[where.call]


VOYAGE = [
    ("gate_in", 0, "CNSHK-SCT", 0, True, True),
    ("load", 0, "CNSHK-SCT", 0, True, True),
    ("discharge", 0, "NLRTM-DDT", 1, True, True),
    ("gate_out", 0, "NLRTM-DDT", 1, True, True),  # refused: no release yet
    ("strip", 0, "NLRTM-DDT", 1, True, True),
    ("gate_out", 0, "NLRTM-DDT", 1, False, True),
    ("gate_out", 0, "NLRTM-DDT", 1, False, True),  # never twice
]


def test_a_whole_voyage_follows_the_model(setup: Setup) -> None:
    """The deterministic spine of the property: one export, voyage and import, move by move."""
    chain = setup.world.chain
    numbers = [container_number() for _ in range(3)]
    model: dict[int, Where | None] = {0: None, 1: None, 2: None}
    outcomes = []
    for verb, c, terminal, call, full, right in VOYAGE:
        result = chain.run(
            TERMINALS[terminal][1],
            f"port.{verb}",
            body(numbers[c], verb, terminal, setup.call_ids[call], full),
        )
        after = predict(model[c], verb, terminal, call, full, right)
        assert result.ok == (after is not None), result.log
        if after is not None:
            model[c] = after
        outcomes.append(result.ok)
    assert outcomes == [True, True, True, False, True, True, False]
    check_one_place(setup, numbers, model)
