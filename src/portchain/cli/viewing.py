"""Reading a home's ledger as one organisation: what the CLI's read commands share.

The commands read the home's database directly (the last committed block) as the
organisation whose key ``--as`` names, and show only what that organisation may see: the
same answers the API gives it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from portchain.cli.output import emit
from portchain.kernel.access import Viewer
from portchain.modules.membership import queries as membership
from portchain.node.home import Home, HomeError
from portchain.storage.sqlite import Reader, open_reader


def fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def open_as(home: Path, who: str) -> tuple[Reader, Viewer]:
    target = Home(home)
    if not target.db_path.exists():
        fail(f"{home} has no database yet; run portchain up or demo")
    try:
        key = target.load_key(who)
    except HomeError as exc:
        fail(str(exc))
        raise
    reader = open_reader(target.db_path)
    viewer = membership.viewer(reader, key.key.key_id)
    if viewer is None:
        fail(f"the key of {who} is not an active key of an active organisation")
        raise AssertionError
    return reader, viewer


def found(value: Any, what: str) -> None:
    if value is None:
        fail(f"{what} not found")
    emit(value)
