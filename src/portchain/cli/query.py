"""``portchain query``: read state and membership straight from a home's database.

Reads see the last committed block and are safe while the node runs (SQLite WAL).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from portchain.cli.output import emit
from portchain.modules.membership import queries
from portchain.node.home import Home
from portchain.storage.sqlite import Reader, open_reader

app = typer.Typer(
    help="Read state, transactions and membership from a home's database.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

HomeOpt = Annotated[Path, typer.Option("--home", help="The node's home directory.")]


def _reader(home: Path) -> Reader:
    db = Home(home).db_path
    if not db.exists():
        typer.echo(f"error: {home} has no database yet; run portchain up or demo", err=True)
        raise typer.Exit(1)
    return open_reader(db)


def _found(value: Any, what: str) -> None:
    if value is None:
        typer.echo(f"error: {what} not found", err=True)
        raise typer.Exit(1)
    emit(value)


@app.command()
def state(home: HomeOpt, key: Annotated[str, typer.Argument(help="State key.")]) -> None:
    """The value at a state key (JSON if it is JSON)."""
    raw = _reader(home).get(key)
    if raw is None:
        _found(None, f"key {key!r}")
        return
    try:
        emit({"key": key, "value": json.loads(raw)})
    except ValueError:
        emit({"key": key, "value": raw.decode("utf-8", "replace")})


@app.command()
def status(home: HomeOpt) -> None:
    """Height, app hash and counts of the home's chain."""
    reader = _reader(home)
    committed, failed = reader.count_txs()
    emit(
        {
            "height": reader.height(),
            "app_hash": reader.app_hash().hex(),
            "transactions": committed,
            "failed_transactions": failed,
        }
    )


@app.command()
def tx(
    home: HomeOpt, tx_hash: Annotated[str, typer.Argument(help="Transaction id (hex).")]
) -> None:
    """What became of a transaction."""
    from portchain.node.node import tx_status

    try:
        digest = bytes.fromhex(tx_hash)
    except ValueError:
        digest = b""
    _found(tx_status(_reader(home).tx(digest), False, digest) if digest else None, "transaction")


@app.command()
def block(home: HomeOpt, height: Annotated[int, typer.Argument(help="Block height.")]) -> None:
    """A block's header, commit and transactions' results."""
    reader = _reader(home)
    stored = reader.block(height)
    if stored is None:
        _found(None, f"block {height}")
        return
    emit(
        {
            "height": stored.height,
            "hash": stored.hash.hex(),
            "header": stored.header,
            "app_hash_after": stored.app_hash.hex(),
            "commit": stored.commit,
            "txs": [
                {"hash": t.hash.hex(), "action": t.action, "code": t.code, "log": t.log}
                for t in reader.block_txs(height)
            ],
        }
    )


@app.command()
def orgs(home: HomeOpt) -> None:
    """Every organisation on the network."""
    emit(queries.organisations(_reader(home), limit=10_000))


@app.command()
def org(home: HomeOpt, org_id: Annotated[str, typer.Argument(help="Organisation id.")]) -> None:
    """One organisation and its keys."""
    reader = _reader(home)
    found = queries.organisation(reader, org_id)
    _found(None if found is None else {**found, "keys": queries.keys_of(reader, org_id)}, org_id)


@app.command()
def key(home: HomeOpt, key_id: Annotated[str, typer.Argument(help="Key id.")]) -> None:
    """One signing key."""
    _found(queries.key(_reader(home), key_id), f"key {key_id}")


@app.command()
def proposals(
    home: HomeOpt,
    status: Annotated[str | None, typer.Option(help="open, passed, rejected or expired.")] = None,
) -> None:
    """Governance proposals and their votes."""
    emit(queries.proposals(_reader(home), status, limit=10_000))


@app.command()
def policy(home: HomeOpt) -> None:
    """The governance policy and the current stewards."""
    emit(queries.policy(_reader(home)))
