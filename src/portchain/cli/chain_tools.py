"""verify, prove, check-proof and keys: checking the ledger and handling keys."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from portchain.cli.output import emit, emit_line, progress
from portchain.node.home import Home, HomeError

keys_app = typer.Typer(
    help="Create and list the signing keys kept in a home.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
HomeOpt = Annotated[Path, typer.Option("--home", help="The node's home directory.")]


def register(app: typer.Typer) -> None:
    app.command()(verify)
    app.command()(prove)
    app.command("check-proof")(check_proof)


def verify(home: HomeOpt) -> None:
    """Replay the whole chain from genesis and check every signature, hash link and app hash.

    Prints a JSON summary as its last line and exits 0, or names the first bad height and
    exits 1.
    """
    from portchain.app.verify import VerifyError, verify_chain

    try:
        with progress("verifying") as update:
            summary = verify_chain(Home(home).db_path, update)
    except VerifyError as exc:
        emit_line({"ok": False, "height": exc.height, "problem": exc.problem})
        raise typer.Exit(1) from None
    emit_line(summary.as_dict())


def prove(
    home: HomeOpt,
    key: Annotated[str, typer.Option("--key", help="The state key to prove.")],
    out: Annotated[Path | None, typer.Option("--out", help="Write the bundle here.")] = None,
) -> None:
    """Write a proof bundle for KEY: its value or absence, Merkle proof, header and commit.

    On a CometBFT node's home (a node's app home, see portchain net up) the bundle carries
    CometBFT's signed header of the next block, fetched from the node's RPC.
    """
    from portchain.app.proofs import ProofError
    from portchain.engines.cometbft.light import bundle_for
    from portchain.storage.sqlite import open_reader

    target = Home(home)
    try:
        chain_id = target.genesis().chain_id
    except HomeError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    try:
        bundle = bundle_for(target.path, open_reader(target.db_path), chain_id, key)
    except ProofError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    text = json.dumps(bundle, indent=2, sort_keys=True) + "\n"
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text)
        emit(
            {
                "written": str(out),
                "height": bundle["height"],
                "present": bundle["value"] is not None,
            }
        )


def check_proof(
    bundle: Annotated[Path, typer.Argument(help="The proof bundle (JSON).")],
    genesis: Annotated[Path, typer.Option("--genesis", help="The network's genesis.json.")],
    validators: Annotated[
        Path | None,
        typer.Option(
            "--validators",
            help="A validator set to trust instead of the genesis one (JSON: a list of "
            "{name, public_key, power}), e.g. after governance changed the validators.",
        ),
    ] = None,
) -> None:
    """Check a proof bundle offline against the genesis; exit 1 on any tampering.

    More than 2/3 of the voting power of the genesis validators (or of the --validators set)
    must have signed the app hash the Merkle proof leads to.
    """
    from pydantic import TypeAdapter, ValidationError

    from portchain.app.genesis import Validator, load_genesis
    from portchain.app.proofs import ProofError, check_bundle

    try:
        data = json.loads(bundle.read_text())
        trusted = load_genesis(genesis)
        if validators is not None:
            listed = json.loads(validators.read_text())
            if isinstance(listed, dict):
                listed = listed.get("validators")
            chosen = TypeAdapter(list[Validator]).validate_python(listed)
            if not chosen:
                raise ValueError("the trusted validator set is empty")
            trusted = trusted.model_copy(update={"validators": chosen})
        result = check_bundle(data, trusted)
    except (ProofError, ValueError, OSError, ValidationError) as exc:
        emit_line({"valid": False, "problem": str(exc)})
        raise typer.Exit(1) from None
    title = proven_title(result.get("key", ""), result.get("value"))
    emit_line(result if title is None else {**result, "title": title})


def proven_title(key: str, value: str | None) -> dict[str, object] | None:
    """What a proven transport document says about its title: status, holder, endorsee."""
    from portchain.modules.ebl import store

    if not key.startswith(store.DOC) or value is None:
        return None
    bill = json.loads(value)
    return {
        "reference": bill["reference"],
        "document_type": bill["document_type"],
        "status": bill["status"],
        "holder": bill["holder"],
        "endorsee": bill["endorsee"],
        "blank_endorsed": bill["blank"],
        "carrier": bill["carrier"],
        "chain_length": len(bill["chain"]),
    }


@keys_app.command("new")
def keys_new(
    home: HomeOpt,
    name: Annotated[str, typer.Argument(help="ORG/USER to name the key file.")],
) -> None:
    """Create a signing key file and print its public key and key id (never the private key)."""
    org, _, user = name.partition("/")
    try:
        key = Home(home).new_key(org, user or "admin")
    except HomeError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    emit(
        {
            "name": f"{org}/{user or 'admin'}",
            "key_id": key.key_id,
            "public_key": key.key.public_key.hex(),
        }
    )


@keys_app.command("list")
def keys_list(home: HomeOpt) -> None:
    """The signing key files kept in HOME (names and key ids only)."""
    emit([{"org": o, "user": u, "key_id": k} for o, u, k in Home(home).list_keys()])
