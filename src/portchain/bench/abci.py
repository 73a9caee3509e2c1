"""``portchain bench --engine cometbft --abci``: what one validator's app spends per transaction.

On a CometBFT network every validator's app checks, executes and commits every transaction, so
the app's cost per transaction, times the number of validators sharing a machine, bounds the
network's rate there. This measures that cost without a network: one node's ABCI adapter over
its real App and SQLite, fed the protobuf requests CometBFT would send (decoded from bytes,
answered and encoded again, as the socket server does):

1. ``CheckTx`` for every transaction (a new one: decode, key, signature, sequence);
2. then, block by block, ``ProcessProposal``, ``FinalizeBlock`` and ``Commit``.

The load is the network bench's: ``membership.register_key`` transactions from ``signers``
organisation admin keys, signed before the clock starts. Each phase reports CPU time per
transaction (this process, one thread) and the wall time beside it.
"""

from __future__ import annotations

import gc
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
    """CheckTx for ``txs`` transactions, then blocks of ``block_txs``; µs per transaction."""
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
        phases = ("check_tx", "process_proposal", "finalize_block", "commit")
        clocks = {name: _Clock() for name in phases}
        gc.collect()
        with clocks["check_tx"]:
            answers = [_answer("check_tx", payload, adapter.check_tx) for payload in checks]
        # Read back outside the clock: decoding the answers is CometBFT's work, not the app's.
        refused = sum(1 for a in answers if abci.Response.FromString(a).check_tx.code != 0)
        failed = 0
        for height, start in enumerate(range(0, len(raws), block_txs), start=1):
            block = raws[start : start + block_txs]
            proposal = abci.Request(
                process_proposal=abci.RequestProcessProposal(txs=block, height=height)
            ).SerializeToString()
            finalize = abci.RequestFinalizeBlock(
                txs=block,
                height=height,
                hash=codec.sha256(b"block %d" % height),
                proposer_address=bytes(20),
            )
            finalize.time.FromMilliseconds(genesis.genesis_time_ms + height * 1000)
            finalize_bytes = abci.Request(finalize_block=finalize).SerializeToString()
            commit = abci.Request(commit=abci.RequestCommit()).SerializeToString()
            with clocks["process_proposal"]:
                _answer("process_proposal", proposal, adapter.process_proposal)
            with clocks["finalize_block"]:
                finalized = _answer("finalize_block", finalize_bytes, adapter.finalize_block)
            results = abci.Response.FromString(finalized).finalize_block.tx_results
            failed += sum(1 for result in results if result.code)
            with clocks["commit"]:
                _answer("commit", commit, adapter.commit)
        height = adapter.app.info().height
        storage.close()
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
        "refused_at_check": refused,
        "failed_in_block": failed,
        "height": height,
    }
