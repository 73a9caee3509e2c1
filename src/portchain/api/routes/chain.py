"""Transactions, blocks, state with proofs, events and node status."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from portchain.api.access import ReadRules, public_event, public_events
from portchain.api.auth import ViewerDep
from portchain.api.deps import MAX_INT, NodeDep
from portchain.api.errors import NotFound
from portchain.app.proofs import ProofError
from portchain.kernel.env import format_time_ms
from portchain.kernel.errors import PortchainError, TooLargeError
from portchain.kernel.tx import MAX_TX_BYTES
from portchain.node.node import Node
from portchain.storage.sqlite import Reader

router = APIRouter(prefix="/api/v1", tags=["chain"])

SIGNED_TX_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "A signed transaction: the envelope and its Ed25519 signature (hex).",
    "required": ["sig", "tx"],
    "additionalProperties": False,
    "properties": {
        "sig": {"type": "string", "pattern": "^[0-9a-f]{128}$"},
        "tx": {
            "type": "object",
            "required": ["action", "body", "chain_id", "seq", "signer"],
            "additionalProperties": False,
            "properties": {
                "action": {"type": "string", "examples": ["membership.register_key"]},
                "body": {"type": "object"},
                "chain_id": {"type": "string"},
                "seq": {"type": "integer", "minimum": 0},
                "signer": {"type": "string", "pattern": "^[0-9a-f]{40}$"},
            },
        },
    },
}


async def get_rules(connection: HTTPConnection) -> ReadRules:
    rules: ReadRules = connection.app.state.rules
    return rules


RulesDep = Annotated[ReadRules, Depends(get_rules)]


def _hash(value: str) -> bytes:
    if len(value) != 64:
        raise NotFound(f"transaction {value[:80]}")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise NotFound(f"transaction {value[:80]}") from None


@router.post(
    "/txs",
    summary="Submit a signed transaction",
    description="The body is the transaction's canonical JSON (RFC 8785), exactly as signed. "
    "With wait=true the answer comes once the transaction is committed or failed. "
    "No session is needed: the transaction's own signature authenticates it (an applicant "
    "that is not a member yet submits its application this way).",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": SIGNED_TX_SCHEMA}},
        }
    },
)
async def submit_tx(
    request: Request,
    node: NodeDep,
    wait: bool = False,
    timeout: Annotated[float, Query(gt=0, le=60)] = 30.0,
) -> dict[str, Any]:
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_TX_BYTES:
            raise TooLargeError(f"a transaction is at most {MAX_TX_BYTES} bytes")
    return await run_in_threadpool(node.submit, bytes(raw), wait, timeout)


MAX_BATCH = 1000
"""Most transactions in one batch submission."""


@router.post(
    "/txs/batch",
    summary="Submit several signed transactions",
    description="The body holds one transaction per line (application/x-ndjson), each exactly "
    "as signed. They are checked and admitted in order; the answer lists, per line, its status "
    "or its refusal (problem details with the stable code).",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
        }
    },
)
async def submit_batch(request: Request, node: NodeDep) -> dict[str, Any]:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BATCH * (MAX_TX_BYTES + 1):
            raise TooLargeError(f"a batch is at most {MAX_BATCH} transactions")
    lines = [line for line in bytes(body).split(b"\n") if line]
    if len(lines) > MAX_BATCH:
        raise TooLargeError(f"a batch is at most {MAX_BATCH} transactions; got {len(lines)}")
    outcomes = await run_in_threadpool(node.submit_many, lines)
    return {
        "results": [
            {"status": "refused", "error": outcome.as_dict()}
            if isinstance(outcome, PortchainError)
            else outcome
            for outcome in outcomes
        ]
    }


@router.get("/txs/{tx_hash}", summary="What became of a transaction")
def get_tx(tx_hash: str, node: NodeDep, viewer: ViewerDep, rules: RulesDep) -> dict[str, Any]:
    """pending, committed (with height and events), failed (with code and message) or unknown.

    A committed transaction is shown to its signer's organisation and to whoever may see
    one of its events; to anyone else it is unknown.
    """
    tx_hash_bytes = _hash(tx_hash)
    reader = node.storage.reader()
    stored = reader.tx(tx_hash_bytes)
    if stored is not None and not rules.tx(viewer, reader, stored):
        return {"hash": tx_hash, "status": "unknown"}
    status = node.tx_status(tx_hash_bytes)
    if "events" in status:
        status["events"] = [public_event(e) for e in status["events"] if rules.event_row(viewer, e)]
    return status


def _block_summary(block: Any) -> dict[str, Any]:
    return {
        "height": block.height,
        "hash": block.hash.hex(),
        "time": format_time_ms(block.header["time_ms"]),
        "num_txs": block.num_txs,
        "header": block.header,
        "app_hash_after": block.app_hash.hex(),
        "results_hash": block.results_hash.hex(),
    }


@router.get("/blocks", summary="Recent blocks, newest first")
def list_blocks(
    node: NodeDep,
    viewer: ViewerDep,
    before: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    reader = node.storage.reader()
    top = reader.height() if before is None else min(before - 1, reader.height())
    blocks = reader.blocks(max(1, top - limit + 1), top) if top >= 1 else []
    return {"blocks": [_block_summary(b) for b in reversed(blocks)], "height": reader.height()}


@router.get("/blocks/{height}", summary="One block with its transactions' results")
def get_block(
    height: Annotated[int, Path(ge=0, le=MAX_INT)],
    node: NodeDep,
    viewer: ViewerDep,
    rules: RulesDep,
) -> dict[str, Any]:
    """The header and commit are public to members; the transactions listed are those the
    caller may see (``num_txs`` in the header counts them all)."""
    reader = node.storage.reader()
    block = reader.block(height)
    if block is None:
        raise NotFound(f"block {height}")
    txs = [t for t in reader.block_txs(height) if rules.tx(viewer, reader, t)]
    return {
        **_block_summary(block),
        "commit": block.commit,
        "block_events": public_events(
            [e for e in block.block_events if rules.event_row(viewer, e)]
        ),
        "txs": [
            {
                "hash": t.hash.hex(),
                "index": t.index,
                "signer": t.signer,
                "action": t.action,
                "code": t.code,
                "codespace": t.codespace,
                "log": t.log,
                "events": public_events([e for e in t.events if rules.event_row(viewer, e)]),
            }
            for t in txs
        ],
    }


@router.get("/status", summary="Node status: chain, height, app hash, mempool")
def status(node: NodeDep, viewer: ViewerDep) -> dict[str, Any]:
    return node.status()


@router.get("/state/{key:path}", summary="A state value, optionally with its proof bundle")
def get_state(
    key: Annotated[str, Path(pattern=r"^[!-~]{1,512}$", description="A state key.")],
    node: NodeDep,
    viewer: ViewerDep,
    rules: RulesDep,
    prove: bool = False,
) -> dict[str, Any]:
    """The module that owns ``key`` decides who may read it; a proof of absence is given
    only for keys the caller could read if they existed."""
    reader = node.storage.reader()
    if not rules.state(viewer, reader, key):
        raise NotFound(f"state key {key!r}")
    if prove:
        bundle = proof_bundle(node, reader, key)
        value = bundle["value"]
        return {"key": key, "value": _decode(value), "proof_bundle": bundle}
    raw = reader.get(key)
    if raw is None:
        raise NotFound(f"state key {key!r}")
    return {"key": key, "value": _decode(raw.hex())}


def proof_bundle(node: Node, reader: Reader, key: str) -> dict[str, Any]:
    """A proof bundle of ``key`` at the last committed height, for ``portchain check-proof``;
    an impossible proof is answered 404 with the reason."""
    from portchain.engines.cometbft.light import bundle_for

    try:
        return bundle_for(node.home.path, reader, node.chain_id, key)
    except ProofError as exc:
        raise NotFound(f"a proof ({exc})") from None


def _decode(value_hex: str | None) -> Any:
    if value_hex is None:
        return None
    raw = bytes.fromhex(value_hex)
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


@router.get("/events", summary="Committed events after a cursor (height, index)")
def events(
    node: NodeDep,
    viewer: ViewerDep,
    rules: RulesDep,
    after_height: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
    after_index: Annotated[int, Query(ge=-1, le=MAX_INT)] = -1,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """``next`` is the cursor of the last event read, shown or not: pass it back to go on."""
    rows = node.storage.reader().events_after(after_height, after_index, limit)
    cursor = {"height": rows[-1]["height"], "index": rows[-1]["index"]} if rows else None
    shown = [public_event(row) for row in rows if rules.event_row(viewer, row)]
    return {"events": shown, "next": cursor}


@router.get("/index/{name}/{value}", summary="Committed events naming an object, newest first")
def indexed_events(
    name: Annotated[str, Path(max_length=64)],
    value: Annotated[str, Path(max_length=128)],
    node: NodeDep,
    viewer: ViewerDep,
    rules: RulesDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Looks up the event index (e.g. ``org/BRIGHTWAVE``, ``key/<key id>``) without a scan;
    only events the caller may see are listed."""
    rows = node.storage.reader().events_by(name, value, limit)
    return {"events": [public_event(row) for row in rows if rules.event_row(viewer, row)]}


@router.get("/accounts/{key_id}/sequence", summary="The next sequence number for a signer key")
def next_sequence(
    key_id: Annotated[str, Path(pattern="^[0-9a-f]{40}$")], node: NodeDep
) -> dict[str, Any]:
    """Counts transactions already pending in the mempool, so a client can sign the next one.

    Open without a session, like submission: an applicant needs it before it is a member."""
    return {"key_id": key_id, "next_sequence": node.next_sequence(key_id)}
