"""``portchain documents``: share a trade document sealed to the organisations granted it.

``put`` encrypts a file on this machine under a fresh key, seals that key to the issuer and to
each organisation named (their encryption keys as the ledger holds them) and anchors it;
``get`` fetches a document the organisation may read and opens it with its private
encryption key; ``grant`` seals the document's key to one more organisation (it reads the
document however old); ``revoke`` stops a grant; ``supersede`` marks a document replaced by
a newer one; ``anchored`` says, from a file's hash alone, whether it is anchored, by whom,
when, and whether superseded (any member may ask, so it needs no ``--as``). Commands read the
home's database (the last committed block) as the organisation ``--as`` names, and send
through the running node's API when there is one, else straight to the home.
"""

from __future__ import annotations

import hashlib
import mimetypes
from pathlib import Path
from typing import Annotated, Any, get_args

import nacl.exceptions
import typer

from portchain.cli.output import emit
from portchain.cli.viewing import fail
from portchain.cli.viewing import found as _found
from portchain.cli.viewing import open_as as _open
from portchain.kernel.crypto import EncryptionKey
from portchain.modules.documents import queries
from portchain.modules.documents.messages import MAX_DOCUMENT_BYTES, DocType, MediaType
from portchain.modules.documents.sealing import anchor_body, open_document, open_key, seal_key
from portchain.node.home import Home, HomeError

app = typer.Typer(
    help="Trade documents: put (encrypt and anchor), show, get, grant, revoke, supersede, "
    "anchored.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

HomeOpt = Annotated[Path, typer.Option("--home", help="The node's home directory.")]
AsOpt = Annotated[str, typer.Option("--as", help="ORG or ORG/USER acting or reading.")]
IdArg = Annotated[str, typer.Argument(help="The document's id.")]
DOC_TYPES: tuple[str, ...] = get_args(DocType)
MEDIA_TYPES: tuple[str, ...] = get_args(MediaType)


def _send(home: Path, who: str, action: str, body: dict[str, Any]) -> dict[str, Any]:
    from portchain.node.gateway import connect, send

    target = Home(home)
    try:
        key = target.load_key(who)
        with connect(target) as gateway:
            outcome = send(gateway, key.key, action, body)
    except HomeError as exc:
        fail(str(exc))
        raise
    if outcome.get("status") != "committed":
        emit(outcome)
        raise typer.Exit(1)
    return outcome


def _encryption_key(reader: Any, org: str) -> bytes:
    from portchain.modules.membership import store

    record = store.get_org(reader, org)
    if record is None or record.status != "active":
        fail(f"{org} is not an active member")
        raise AssertionError
    return bytes.fromhex(record.encryption_key)


def _private(home: Path, org: str) -> EncryptionKey:
    """``org``'s private encryption key from the home (a clear error if it holds none)."""
    try:
        return Home(home).load_encryption_key(org)
    except HomeError as exc:
        fail(str(exc))
        raise


@app.command()
def put(
    home: HomeOpt,
    who: AsOpt,
    file: Annotated[Path, typer.Argument(help="The document's file.", exists=True, dir_okay=False)],
    doc_type: Annotated[str, typer.Option("--type", help=f"One of: {', '.join(DOC_TYPES)}.")],
    to: Annotated[list[str], typer.Option("--to", help="An organisation to grant it to.")],
    doc_id: Annotated[str | None, typer.Option("--id", help="Default: the file's name.")] = None,
    media_type: Annotated[
        str | None, typer.Option(help=f"One of: {', '.join(MEDIA_TYPES)} (default: by name).")
    ] = None,
) -> None:
    """Encrypt FILE, seal its key to ORG itself and to each --to organisation, and anchor it."""
    if doc_type not in DOC_TYPES:
        fail(f"--type must be one of {', '.join(DOC_TYPES)}")
    media = media_type or mimetypes.guess_type(file.name)[0] or ""
    if media not in MEDIA_TYPES:
        fail(
            f"media type {media or 'unknown'!r}: use --media-type, one of {', '.join(MEDIA_TYPES)}"
        )
    plaintext = file.read_bytes()
    if not 0 < len(plaintext) <= MAX_DOCUMENT_BYTES:
        fail(
            f"{file} is {len(plaintext)} bytes; a document is 1 byte to "
            f"{MAX_DOCUMENT_BYTES // 1024} KiB"
        )
    reader, viewer = _open(home, who)
    issuer = viewer.org
    recipients = {org: _encryption_key(reader, org) for org in dict.fromkeys([issuer, *to])}
    body = anchor_body(doc_id or file.name, doc_type, media, plaintext, recipients)
    outcome = _send(home, who, "documents.anchor", body)
    emit(
        {
            "document": body["doc_id"],
            "sha256": body["plaintext_sha256"],
            "granted": sorted(recipients),
            "height": outcome.get("height"),
        }
    )


@app.command()
def show(home: HomeOpt, who: AsOpt, doc_id: IdArg) -> None:
    """A document's record: type, issuer, hashes, grants (for its issuer and grantees)."""
    reader, viewer = _open(home, who)
    _found(queries.document(reader, viewer, doc_id), f"document {doc_id}")


@app.command()
def get(
    home: HomeOpt,
    who: AsOpt,
    doc_id: IdArg,
    out: Annotated[Path, typer.Option("--out", help="Write the opened document here.")],
) -> None:
    """Fetch a document ORG may read and open it with ORG's private encryption key."""
    from portchain.node.blobs import BlobStore

    reader, viewer = _open(home, who)
    record = queries.document(reader, viewer, doc_id)
    if record is None or record["sealed_key"] is None:
        fail(f"document {doc_id} not found, or not granted to {viewer.org}")
        raise AssertionError
    target = Home(home)
    ciphertext = BlobStore(target.blobs_dir).ciphertext(reader, viewer, record)
    if ciphertext is None:
        fail(f"the ciphertext of {doc_id} is not on this node")
        raise AssertionError
    try:
        plaintext = open_document(ciphertext, record["sealed_key"], _private(home, viewer.org))
    except nacl.exceptions.CryptoError:
        fail(f"the encryption key of {viewer.org} in {home} does not open {doc_id}")
        raise
    if hashlib.sha256(plaintext).hexdigest() != record["plaintext_sha256"]:
        fail(f"document {doc_id} does not match the hash anchored on the ledger")
    out.write_bytes(plaintext)
    emit({"document": doc_id, "written": str(out), "bytes": len(plaintext)})


@app.command()
def grant(
    home: HomeOpt,
    who: AsOpt,
    doc_id: IdArg,
    org: Annotated[str, typer.Argument(help="The organisation to grant it to.")],
) -> None:
    """As the issuer, seal the document's key to ORG too (it reads it, however old)."""
    reader, viewer = _open(home, who)
    record = queries.document(reader, viewer, doc_id)
    if record is None or record["sealed_key"] is None:
        fail(f"document {doc_id} not found, or {viewer.org} holds no key to it")
        raise AssertionError
    try:
        content_key = open_key(record["sealed_key"], _private(home, viewer.org))
    except nacl.exceptions.CryptoError:
        fail(f"the encryption key of {viewer.org} in {home} does not open {doc_id}")
        raise
    body = {
        "doc_id": doc_id,
        "org": org,
        "sealed_key": seal_key(content_key, _encryption_key(reader, org)),
    }
    outcome = _send(home, who, "documents.grant", body)
    emit({"document": doc_id, "granted": org, "height": outcome.get("height")})


@app.command()
def revoke(
    home: HomeOpt,
    who: AsOpt,
    doc_id: IdArg,
    org: Annotated[str, typer.Argument(help="The organisation whose grant stops.")],
) -> None:
    """As the issuer, stop ORG's grant from now on."""
    outcome = _send(home, who, "documents.revoke_grant", {"doc_id": doc_id, "org": org})
    emit({"document": doc_id, "revoked": org, "height": outcome.get("height")})


@app.command()
def supersede(
    home: HomeOpt,
    who: AsOpt,
    doc_id: IdArg,
    by: Annotated[str, typer.Argument(help="The newer document (also ORG's) replacing it.")],
) -> None:
    """As the issuer of both, mark the document superseded by the newer document BY."""
    outcome = _send(home, who, "documents.supersede", {"doc_id": doc_id, "by": by})
    emit({"document": doc_id, "superseded_by": by, "height": outcome.get("height")})


@app.command()
def anchored(
    home: HomeOpt,
    file: Annotated[
        Path, typer.Argument(help="The file to ask about.", exists=True, dir_okay=False)
    ],
    who: Annotated[
        str | None,
        typer.Option("--as", help="Optional (any member may ask): checked to be an active key."),
    ] = None,
) -> None:
    """Whether FILE is anchored (by its SHA-256 alone): by whom, when, and if superseded."""
    from portchain.storage.sqlite import open_reader

    target = Home(home)
    if who is not None:
        reader, _ = _open(home, who)
    elif not target.db_path.exists():
        fail(f"{home} has no database yet; run portchain up or demo")
    else:
        reader = open_reader(target.db_path)
    sha256 = hashlib.sha256(file.read_bytes()).hexdigest()
    found = queries.anchored(reader, sha256)
    emit(found if found is not None else {"sha256": sha256, "anchored": False})
