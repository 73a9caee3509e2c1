"""``portchain trade``: sales contracts, read as an organisation (writes: ``portchain tx``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from portchain.cli.output import emit
from portchain.cli.viewing import found, open_as
from portchain.modules.trade import queries

app = typer.Typer(
    help="Sales contracts, as the organisation --as names may see them.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

HomeOpt = Annotated[Path, typer.Option("--home", help="The node's home directory.")]
AsOpt = Annotated[str, typer.Option("--as", help="ORG or ORG/USER whose view to show.")]


@app.command()
def contracts(home: HomeOpt, who: AsOpt) -> None:
    """The contracts ORG is party to."""
    reader, viewer = open_as(home, who)
    emit({"contracts": queries.my_contracts(reader, viewer, limit=queries.MAX_PAGE)})


@app.command()
def contract(
    home: HomeOpt, who: AsOpt, contract_id: Annotated[str, typer.Argument(help="Its id.")]
) -> None:
    """One contract with its amendments (if ORG is party to it)."""
    reader, viewer = open_as(home, who)
    found(queries.contract(reader, viewer, contract_id), f"contract {contract_id}")
