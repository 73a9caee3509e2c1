"""``portchain logistics``: bookings, vessel calls, manifests and containers, read as an
organisation (writes: ``portchain tx``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from portchain.cli.output import emit
from portchain.cli.viewing import found, open_as
from portchain.modules.logistics import queries

app = typer.Typer(
    help="Bookings, vessel calls, manifests and containers, as --as may see them.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

HomeOpt = Annotated[Path, typer.Option("--home", help="The node's home directory.")]
AsOpt = Annotated[str, typer.Option("--as", help="ORG or ORG/USER whose view to show.")]


@app.command()
def bookings(home: HomeOpt, who: AsOpt) -> None:
    """The bookings ORG is party to."""
    reader, viewer = open_as(home, who)
    emit({"bookings": queries.my_bookings(reader, viewer, limit=queries.MAX_PAGE)})


@app.command()
def booking(home: HomeOpt, who: AsOpt, reference: Annotated[str, typer.Argument()]) -> None:
    """One booking (if ORG is party to it)."""
    reader, viewer = open_as(home, who)
    found(queries.booking(reader, viewer, reference), f"booking {reference}")


@app.command()
def calls(home: HomeOpt, who: AsOpt) -> None:
    """Vessel calls with their transport events."""
    reader, _ = open_as(home, who)
    emit({"calls": queries.vessel_calls(reader, limit=queries.MAX_PAGE)})


@app.command()
def manifest(home: HomeOpt, who: AsOpt, call_id: Annotated[str, typer.Argument()]) -> None:
    """A vessel call's bookings and containers (its carrier, the customs of its country)."""
    reader, viewer = open_as(home, who)
    found(queries.manifest(reader, viewer, call_id), f"the manifest of {call_id}")


@app.command()
def container(home: HomeOpt, who: AsOpt, number: Annotated[str, typer.Argument()]) -> None:
    """A container (its owner, its booking's parties)."""
    reader, viewer = open_as(home, who)
    found(queries.container(reader, viewer, number), f"container {number}")
