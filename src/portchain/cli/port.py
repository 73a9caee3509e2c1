"""``portchain port``: terminals, berth schedules and container moves, read as an organisation.

Every command reads the home's database directly (the last committed block) as the
organisation whose key ``--as`` names, and shows only what that organisation may see:
the same answers the API gives it. Moves are reported with ``portchain tx`` (the actions
``port.gate_in``, ``port.load``, ... in src/portchain/modules/port/README.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from portchain.cli.output import emit
from portchain.kernel.access import Viewer
from portchain.modules.membership import queries as membership
from portchain.modules.port import queries
from portchain.node.home import Home, HomeError
from portchain.storage.sqlite import Reader, _connect

app = typer.Typer(
    help="Terminals, berth schedules, containers at a terminal and a container's moves.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

HomeOpt = Annotated[Path, typer.Option("--home", help="The node's home directory.")]
AsOpt = Annotated[str, typer.Option("--as", help="ORG or ORG/USER whose view to show.")]
LimitOpt = Annotated[int, typer.Option(help="Most rows to show.", min=1, max=queries.MAX_PAGE)]


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def _open(home: Path, who: str) -> tuple[Reader, Viewer]:
    target = Home(home)
    if not target.db_path.exists():
        _fail(f"{home} has no database yet; run portchain up or demo")
    try:
        key = target.load_key(who)
    except HomeError as exc:
        _fail(str(exc))
        raise
    reader = Reader(_connect(target.db_path))
    viewer = membership.viewer(reader, key.key.key_id)
    if viewer is None:
        _fail(f"the key of {who} is not an active key of an active organisation")
        raise AssertionError
    return reader, viewer


def _found(value: Any, what: str) -> None:
    if value is None:
        _fail(f"{what} not found")
    emit(value)


@app.command()
def terminals(home: HomeOpt, who: AsOpt, limit: LimitOpt = 100) -> None:
    """Registered terminals (public to members)."""
    reader, viewer = _open(home, who)
    emit(queries.terminals(reader, viewer, limit=limit))


@app.command()
def terminal(
    home: HomeOpt, who: AsOpt, terminal_id: Annotated[str, typer.Argument(help="e.g. CNSHK-SCT")]
) -> None:
    """One terminal: its port, port operator and terminal organisation."""
    reader, viewer = _open(home, who)
    _found(queries.terminal(reader, viewer, terminal_id), f"terminal {terminal_id}")


@app.command()
def containers(
    home: HomeOpt,
    who: AsOpt,
    terminal_id: Annotated[str, typer.Argument(help="e.g. CNSHK-SCT")],
    after: Annotated[str, typer.Option(help="Start after this container number.")] = "",
    limit: LimitOpt = 100,
) -> None:
    """Containers at the terminal now (for the terminal, its port operator and customs)."""
    reader, viewer = _open(home, who)
    _found(
        queries.containers_at(reader, viewer, terminal_id, after, limit), f"terminal {terminal_id}"
    )


@app.command()
def gates(
    home: HomeOpt,
    who: AsOpt,
    terminal_id: Annotated[str, typer.Argument(help="e.g. CNSHK-SCT")],
    after: Annotated[int, typer.Option(help="Start after this gate record number.")] = 0,
    limit: LimitOpt = 100,
) -> None:
    """The terminal's gate-in and gate-out records (its side only)."""
    reader, viewer = _open(home, who)
    _found(queries.gates(reader, viewer, terminal_id, after, limit), f"terminal {terminal_id}")


@app.command()
def berths(
    home: HomeOpt,
    who: AsOpt,
    terminal_id: Annotated[str, typer.Argument(help="e.g. CNSHK-SCT")],
    limit: LimitOpt = 100,
) -> None:
    """The terminal's berth schedule, by start time."""
    reader, viewer = _open(home, who)
    _found(
        queries.berth_schedule(reader, viewer, terminal_id, limit=limit), f"terminal {terminal_id}"
    )


@app.command()
def history(
    home: HomeOpt,
    who: AsOpt,
    number: Annotated[str, typer.Argument(help="ISO 6346 container number.")],
    after: Annotated[int, typer.Option(help="Start after this move number.")] = 0,
    limit: LimitOpt = 100,
) -> None:
    """Where a container is and the moves of it you may see."""
    reader, viewer = _open(home, who)
    _found(queries.history(reader, viewer, number, after, limit), f"container {number}")
