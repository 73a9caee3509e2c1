"""``portchain ebl``: transport documents, read as an organisation, and their proofs.

The read commands read the home's database directly (the last committed block) as the
organisation whose key ``--as`` names, and show only what it may see: the same answers the
API gives it. Steps on a bill (``ebl.issue``, ``ebl.endorse_to_order``, ``ebl.surrender``...)
are sent with ``portchain tx``; src/portchain/modules/ebl/README.md lists them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from portchain.cli.output import emit
from portchain.cli.viewing import fail
from portchain.cli.viewing import found as _found
from portchain.cli.viewing import open_as as _open
from portchain.modules.ebl import queries, store

app = typer.Typer(
    help="Bills of lading and sea waybills: list, show, DCSA export, proof of title.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

HomeOpt = Annotated[Path, typer.Option("--home", help="The node's home directory.")]
AsOpt = Annotated[str, typer.Option("--as", help="ORG or ORG/USER whose view to show.")]
RefArg = Annotated[str, typer.Argument(help="The transport document reference.")]


@app.command("list")
def list_(
    home: HomeOpt,
    who: AsOpt,
    holding: Annotated[bool, typer.Option(help="Only the bills it holds now.")] = False,
    after: Annotated[str, typer.Option(help="Start after this reference.")] = "",
    limit: Annotated[int, typer.Option(min=1, max=queries.MAX_PAGE)] = 100,
) -> None:
    """Transport documents the organisation is a party to (or holds now, --holding)."""
    reader, viewer = _open(home, who)
    emit(queries.bills(reader, viewer, after, limit, holding))


@app.command()
def show(home: HomeOpt, who: AsOpt, reference: RefArg) -> None:
    """One transport document: status, holder, endorsee and its whole endorsement chain."""
    reader, viewer = _open(home, who)
    _found(queries.bill(reader, viewer, reference), f"transport document {reference}")


@app.command()
def dcsa(home: HomeOpt, who: AsOpt, reference: RefArg) -> None:
    """The document and its endorsement chain as DCSA eBL 3.0 JSON."""
    reader, viewer = _open(home, who)
    _found(queries.dcsa(reader, viewer, reference), f"transport document {reference}")


@app.command()
def proof(
    home: HomeOpt,
    who: AsOpt,
    reference: RefArg,
    out: Annotated[Path, typer.Option("--out", help="Write the bundle here.")],
) -> None:
    """Write a proof bundle of the document's holder and status, for a party of it to hand
    to anyone: ``portchain check-proof BUNDLE --genesis genesis.json`` checks it offline."""
    from portchain.app.proofs import ProofError
    from portchain.engines.cometbft.light import bundle_for
    from portchain.node.home import Home

    reader, viewer = _open(home, who)
    if queries.readable(reader, viewer, reference) is None:
        fail(f"transport document {reference} not found")
    target = Home(home)
    chain_id = target.genesis().chain_id
    key = store.DOC + reference
    try:
        bundle = bundle_for(target.path, reader, chain_id, key)
    except ProofError as exc:
        fail(str(exc))
        raise
    out.write_text(json.dumps(bundle, indent=2, sort_keys=True) + "\n")
    emit({"written": str(out), "height": bundle["height"], "key": key})
