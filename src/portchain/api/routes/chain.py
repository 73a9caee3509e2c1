"""Transactions, blocks, state with proofs, events and node status."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool

from portchain.api.deps import get_node
from portchain.api.errors import NotFound
from portchain.app.proofs import ProofError, make_bundle
from portchain.kernel.env import format_time_ms
from portchain.kernel.errors import PortchainError, TooLargeError
from portchain.kernel.tx import MAX_TX_BYTES
from portchain.node.node import Node

router = APIRouter(prefix="/api/v1", tags=["chain"])
NodeDep = Annotated[Node, Depends(get_node)]


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
    "With wait=true the answer comes once the transaction is committed or failed.",
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
def get_tx(tx_hash: str, node: NodeDep) -> dict[str, Any]:
    """pending, committed (with height and events), failed (with code and message) or unknown."""
    return node.tx_status(_hash(tx_hash))


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
    before: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    reader = node.storage.reader()
    top = reader.height() if before is None else min(before - 1, reader.height())
    blocks = reader.blocks(max(1, top - limit + 1), top) if top >= 1 else []
    return {"blocks": [_block_summary(b) for b in reversed(blocks)], "height": reader.height()}


@router.get("/blocks/{height}", summary="One block with its transactions' results")
def get_block(height: int, node: NodeDep) -> dict[str, Any]:
    reader = node.storage.reader()
    block = reader.block(height)
    if block is None:
        raise NotFound(f"block {height}")
    txs = reader.block_txs(height)
    return {
        **_block_summary(block),
        "commit": block.commit,
        "block_events": block.block_events,
        "txs": [
            {
                "hash": t.hash.hex(),
                "index": t.index,
                "signer": t.signer,
                "action": t.action,
                "code": t.code,
                "codespace": t.codespace,
                "log": t.log,
                "events": t.events,
            }
            for t in txs
        ],
    }


@router.get("/status", summary="Node status: chain, height, app hash, mempool")
def status(node: NodeDep) -> dict[str, Any]:
    return node.status()


@router.get("/state/{key:path}", summary="A state value, optionally with its proof bundle")
def get_state(key: str, node: NodeDep, prove: bool = False) -> dict[str, Any]:
    reader = node.storage.reader()
    if prove:
        try:
            bundle = make_bundle(reader, node.chain_id, key)
        except ProofError as exc:
            raise NotFound(f"a proof ({exc})") from None
        value = bundle["value"]
        return {"key": key, "value": _decode(value), "proof_bundle": bundle}
    raw = reader.get(key)
    if raw is None:
        raise NotFound(f"state key {key!r}")
    return {"key": key, "value": _decode(raw.hex())}


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
    after_height: Annotated[int, Query(ge=0)] = 0,
    after_index: Annotated[int, Query(ge=-1)] = -1,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    rows = node.storage.reader().events_after(after_height, after_index, limit)
    cursor = {"height": rows[-1]["height"], "index": rows[-1]["index"]} if rows else None
    return {"events": rows, "next": cursor}


@router.get("/index/{name}/{value}", summary="Committed events naming an object, newest first")
def indexed_events(
    name: str,
    value: str,
    node: NodeDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Looks up the event index (e.g. ``org/BRIGHTWAVE``, ``key/<key id>``) without a scan."""
    return {"events": node.storage.reader().events_by(name, value, limit)}


@router.get("/accounts/{key_id}/sequence", summary="The next sequence number for a signer key")
def next_sequence(key_id: str, node: NodeDep) -> dict[str, Any]:
    """Counts transactions already pending in the mempool, so a client can sign the next one."""
    return {"key_id": key_id, "next_sequence": node.next_sequence(key_id)}
