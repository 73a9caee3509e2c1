"""``portchain port``: terminals, berth schedules and container moves, read as an organisation.

Every command reads the home's database directly (the last committed block) as the
organisation whose key ``--as`` names, and shows only what that organisation may see:
the same answers the API gives it. Moves are reported with ``portchain tx`` (the actions
``port.gate_in``, ``port.load``, ... in src/portchain/modules/port/README.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from portchain.cli.output import emit
from portchain.cli.viewing import found as _found
from portchain.cli.viewing import open_as as _open
from portchain.modules.port import queries

app = typer.Typer(
    help="Terminals, berth schedules, containers at a terminal and a container's moves.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

HomeOpt = Annotated[Path, typer.Option("--home", help="The node's home directory.")]
AsOpt = Annotated[str, typer.Option("--as", help="ORG or ORG/USER whose view to show.")]
LimitOpt = Annotated[int, typer.Option(help="Most rows to show.", min=1, max=queries.MAX_PAGE)]


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
