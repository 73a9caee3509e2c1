"""``portchain bench --engine cometbft --abci``: what one validator's app spends per transaction.

On a CometBFT network every validator's app checks, executes and commits every transaction, so
the app's cost per transaction, times the number of validators sharing a machine, bounds the
network's rate there. This measures that cost without a network: one node's ABCI adapter over
its real App and SQLite, fed the protobuf requests CometBFT would send (decoded from bytes,
answered and encoded again, as the socket server does):

block by block, as a validator sees them: ``CheckTx`` for each of the block's transactions (a
new one: decode, key, signature, sequence), then ``ProcessProposal``, ``FinalizeBlock`` and
``Commit``.

The load is the network bench's: ``membership.register_key`` transactions from ``signers``
organisation admin keys, signed before the clock starts; each registers a new key, so the state
and the database grow with the chain. Each phase reports CPU time per transaction (this process,
one thread) and the wall time beside it, over the whole run and for each tenth of it
(``by_segment``), which shows how the cost changes as the chain grows; and the database's size
per transaction at the end.
"""

from __future__ import annotations

import gc
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from portchain.app.app import App
from portchain.bench.cometbft import bench_cast, portchain_loader
from portchain.bench.solo import machine
from portchain.engines.cometbft import proto
from portchain.engines.cometbft.adapter import PortchainApplication, init_chain_request
from portchain.kernel import codec
from portchain.node.home import Home
from portchain.node.presets import create_network
from portchain.storage.sqlite import Storage


class _Clock:
    """CPU and wall seconds spent in the ``with`` blocks of one phase."""

    def __init__(self) -> None:
        self.cpu = 0.0
        self.wall = 0.0

    def __enter__(self) -> None:
        self._cpu, self._wall = time.process_time(), time.perf_counter()

    def __exit__(self, *_: object) -> None:
        self.cpu += time.process_time() - self._cpu
        self.wall += time.perf_counter() - self._wall


def _answer(kind: str, payload: bytes, call: Callable[[Any], Any]) -> bytes:
    """Decode a ``Request``, call the app with its ``kind`` part, encode the ``Response``."""
    request = proto.abci.Request()
    request.ParseFromString(payload)
    response = proto.abci.Response()
    getattr(response, kind).CopyFrom(call(getattr(request, kind)))
    return bytes(response.SerializeToString())


def run_abci_bench(
    *, txs: int = 10_000, signers: int = 200, block_txs: int = 2_000
) -> dict[str, Any]:
    """Blocks of ``block_txs`` of ``txs`` transactions in all, each checked first; µs per
    transaction."""
    abci = proto.load("abci")
    with tempfile.TemporaryDirectory(prefix="portchain-bench-abci-") as tmp:
        home = Home(Path(tmp) / "home")
        genesis = create_network(home, chain_id="portchain-bench", cast=bench_cast(signers))
        make, sizes = portchain_loader(home, signers, 1)
        raws = make(txs)[0]
        storage = Storage(home.db_path)
        adapter = PortchainApplication(App(storage), genesis=genesis, max_block_txs=block_txs)
        adapter.init_chain(init_chain_request(genesis))
        checks = [
            abci.Request(check_tx=abci.RequestCheckTx(tx=raw, type=abci.NEW)).SerializeToString()
            for raw in raws
        ]
        clocks = {name: _Clock() for name in PHASES}
        starts = list(range(0, len(raws), block_txs))
        segments: list[dict[str, Any]] = []
        mark = _Marks(clocks, 0)
        refused = failed = 0
        gc.collect()
        for height, start in enumerate(starts, start=1):
            block = raws[start : start + block_txs]
            requests = _block_requests(abci, block, height, genesis.genesis_time_ms)
            with clocks["check_tx"]:
                answers = [
                    _answer("check_tx", payload, adapter.check_tx)
                    for payload in checks[start : start + block_txs]
                ]
            with clocks["process_proposal"]:
                _answer("process_proposal", requests[0], adapter.process_proposal)
            with clocks["finalize_block"]:
                finalized = _answer("finalize_block", requests[1], adapter.finalize_block)
            with clocks["commit"]:
                _answer("commit", requests[2], adapter.commit)
            # Read back outside the clocks: decoding the answers is CometBFT's work.
            refused += sum(1 for a in answers if abci.Response.FromString(a).check_tx.code)
            results = abci.Response.FromString(finalized).finalize_block.tx_results
            failed += sum(1 for result in results if result.code)
            if height * SEGMENTS // len(starts) > len(segments):  # a tenth of the run is done
                segments.append(mark.since(start + len(block)))
                mark = _Marks(clocks, start + len(block))
        height = adapter.app.info().height
        storage.close()
        conn = sqlite3.connect(home.db_path)  # its pages in use, the write-ahead log's too
        try:
            (pages,) = conn.execute("PRAGMA page_count").fetchone()
            (page_size,) = conn.execute("PRAGMA page_size").fetchone()
        finally:
            conn.close()
        db_bytes = pages * page_size
    per_tx = {name: round(clock.cpu * 1e6 / len(raws), 1) for name, clock in clocks.items()}
    return {
        "benchmark": "abci",
        "machine": machine(),
        "params": {
            "txs": len(raws),
            "signers": signers,
            "block_txs": block_txs,
            "tx_bytes": sum(sizes) // max(1, len(sizes)),
        },
        "cpu_us_per_tx": {**per_tx, "total": round(sum(per_tx.values()), 1)},
        "wall_us_per_tx": {
            name: round(clock.wall * 1e6 / len(raws), 1) for name, clock in clocks.items()
        },
        "by_segment": segments,
        "db_bytes_per_tx": round(db_bytes / len(raws)),
        "refused_at_check": refused,
        "failed_in_block": failed,
        "height": height,
    }


PHASES = ("check_tx", "process_proposal", "finalize_block", "commit")

SEGMENTS = 10
"""Parts of the run reported on their own, to show the cost as the chain grows."""


class _Marks:
    """The phases' clocks at one point of the run, to cost the part after it."""

    def __init__(self, clocks: dict[str, _Clock], txs: int) -> None:
        self.clocks = clocks
        self.txs = txs
        self.cpu = {name: clock.cpu for name, clock in clocks.items()}

    def since(self, txs: int) -> dict[str, Any]:
        """CPU µs per transaction of each phase since the mark, up to ``txs`` transactions."""
        count = max(1, txs - self.txs)
        per_tx = {
            name: round((clock.cpu - self.cpu[name]) * 1e6 / count, 1)
            for name, clock in self.clocks.items()
        }
        return {"up_to_txs": txs, "cpu_us_per_tx": per_tx}


def _block_requests(abci: Any, block: list[bytes], height: int, genesis_ms: int) -> list[bytes]:
    """ProcessProposal, FinalizeBlock and Commit for ``block`` as CometBFT encodes them."""
    proposal = abci.Request(process_proposal=abci.RequestProcessProposal(txs=block, height=height))
    finalize = abci.RequestFinalizeBlock(
        txs=block,
        height=height,
        hash=codec.sha256(b"block %d" % height),
        proposer_address=bytes(20),
    )
    finalize.time.FromMilliseconds(genesis_ms + height * 1000)
    commit = abci.Request(commit=abci.RequestCommit())
    return [
        proposal.SerializeToString(),
        abci.Request(finalize_block=finalize).SerializeToString(),
        commit.SerializeToString(),
    ]
