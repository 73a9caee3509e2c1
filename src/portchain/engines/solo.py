"""The embedded engine: one process, one validator, blocks every 200 ms or every N transactions.

It serves a single organisation's sandbox, a demo, tests and development with
nothing else to start. It drives the app through the same calls as the
CometBFT adapter (check, finalize, commit), so what it produces replays the
same anywhere.

The mempool is bounded: when it is full, :meth:`SoloEngine.submit` refuses
with ``mempool_full`` and the caller retries later. Nothing admitted is ever
dropped: every admitted transaction goes into a block, in admission order,
where it commits or is recorded as failed (DESIGN.md invariant 9).

Each block's commit is signed by the node's validator key, which genesis
names, so a proof bundle from a solo node can be checked offline.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from portchain.app.app import App
from portchain.app.execute import BlockResult
from portchain.engines import CommitListener
from portchain.engines.checker import Checker, Unverified
from portchain.kernel.block import Block, Commit
from portchain.kernel.crypto import SigningKey
from portchain.kernel.errors import MempoolFullError, PortchainError
from portchain.kernel.tx import SignedTx

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SoloConfig:
    block_interval: float = 0.2
    """Seconds between blocks while transactions are waiting."""
    max_block_txs: int = 5000
    """A block is cut as soon as this many transactions wait (under a burst: larger blocks
    spread each block's fixed costs, its commit and the top of the Merkle tree, thinner)."""
    mempool_size: int = 20_000
    """Transactions admitted but not yet in a block; beyond this, submissions are refused."""
    check_workers: int = 1
    """Processes that decode and verify signatures (the other core); 0 checks in-process."""


class SoloEngine:
    name = "solo"

    def __init__(
        self,
        app: App,
        validator: SigningKey,
        config: SoloConfig | None = None,
        checker: Checker | None = None,
    ) -> None:
        self.app = app
        self.checker = checker
        self.validator = validator
        self.config = config or SoloConfig()
        self._mempool: deque[SignedTx] = deque()
        self._reserved = 0
        self._pending_hashes: set[bytes] = set()
        self._cond = threading.Condition()
        self._listeners: list[CommitListener] = []
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._written: Future[None] | None = None
        self._last_time_ms: int | None = None
        self.failure: BaseException | None = None

    # -- the mempool -----------------------------------------------------------
    def submit_many(self, raws: list[bytes]) -> list[SignedTx | PortchainError]:
        """Check and admit ``raws`` in order; each is admitted or refused on its own.

        Signatures are verified by the checker process when there is one; what
        does not fit in the mempool is refused with ``mempool_full``.
        """
        out: list[SignedTx | PortchainError] = []
        while len(out) < len(raws):
            with self._cond:
                room = self.config.mempool_size - len(self._mempool) - self._reserved
                taken = max(0, min(room, len(raws) - len(out)))
                self._reserved += taken
            if taken == 0:
                full = MempoolFullError(
                    f"the mempool holds {self.config.mempool_size} transactions; retry shortly"
                )
                return out + [full] * (len(raws) - len(out))
            chunk = raws[len(out) : len(out) + taken]
            try:
                checked: list[Any] = (
                    self.checker.check(chunk) if self.checker is not None else chunk
                )
                for item in checked:
                    try:
                        out.append(self._check_one(item))
                    except PortchainError as exc:
                        out.append(exc)
            finally:
                with self._cond:
                    self._reserved -= taken
        return out

    def _check_one(self, item: Any) -> SignedTx:
        if isinstance(item, bytes):
            return self.app.check_tx(item, self._admit)
        if isinstance(item, Unverified):
            return self.app.check_decoded(item.stx, False, self._admit)
        if isinstance(item, PortchainError):
            raise item
        return self.app.check_decoded(item, True, self._admit)

    def _admit(self, stx: SignedTx) -> None:
        with self._cond:
            self._mempool.append(stx)
            self._pending_hashes.add(stx.hash)
            if len(self._mempool) >= self.config.max_block_txs:
                self._cond.notify()

    def is_pending(self, tx_hash: bytes) -> bool:
        with self._cond:
            return tx_hash in self._pending_hashes

    @property
    def mempool_size(self) -> int:
        return len(self._mempool)

    def on_commit(self, listener: CommitListener) -> None:
        self._listeners.append(listener)

    # -- blocks ------------------------------------------------------------------
    def produce_block(self, txs: list[SignedTx], wait: bool = True) -> BlockResult:
        """Execute and commit one block of ``txs`` (may be empty).

        The block's database write overlaps the next block's execution: ``wait=False``
        returns once the block is executed and handed to storage. Its transactions stay
        pending, and listeners hear of the block, only once it is durable. At most one
        block is being written at a time.
        """
        info = self.app.info()
        chain_id = info.chain_id
        if self._last_time_ms is None:
            prev = self.app.storage.header(info.height)
            self._last_time_ms = prev.time_ms if prev is not None else 0
        block = Block.build(
            chain_id=chain_id,
            height=info.height + 1,
            time_ms=max(time.time_ns() // 1_000_000, self._last_time_ms + 1),
            prev_hash=info.last_block_hash,
            app_hash=info.app_hash,
            proposer=self.validator.key_id,
            txs=[stx.raw for stx in txs],
        )
        gc.disable()  # see below: nothing a block allocates needs the cyclic collector
        try:
            result = self.app.finalize_block(block, list(txs))
            commit = Commit(
                chain_id, block.header.height, block.hash, result.app_hash, result.results_hash
            ).signed_by(self.validator)
            self._await_written()
            written = self.app.commit(commit, background=True)
        finally:
            # The state tree and caches are millions of long-lived objects without cycles;
            # keeping them out of the cyclic collector's scans avoids pauses of hundreds of ms.
            gc.freeze()
            gc.enable()
        self._last_time_ms = block.header.time_ms
        assert written is not None
        self._written = written
        written.add_done_callback(lambda done: self._durable(result, txs, done))
        if wait:
            self._await_written()
        return result

    def _await_written(self) -> None:
        """Wait for the block being written; a failed write stops the node."""
        if self._written is not None:
            self._written.result()
            self._written = None

    def _durable(self, result: BlockResult, txs: list[SignedTx], written: Future[None]) -> None:
        if written.exception() is not None:
            return  # raised to the block thread by _await_written
        with self._cond:
            for stx in txs:
                self._pending_hashes.discard(stx.hash)
        for listener in self._listeners:
            try:
                listener(result)
            except Exception:
                log.exception("commit listener failed")

    def _take(self) -> list[SignedTx]:
        with self._cond:
            count = min(len(self._mempool), self.config.max_block_txs)
            return [self._mempool.popleft() for _ in range(count)]

    def _run(self) -> None:
        interval = self.config.block_interval
        try:
            while True:
                with self._cond:
                    if not self._stopping and len(self._mempool) < self.config.max_block_txs:
                        self._cond.wait(interval)
                    if self._stopping and not self._mempool:
                        break
                txs = self._take()
                if txs:
                    self.produce_block(txs, wait=False)
                else:
                    self._await_written()
            self._await_written()
        except BaseException as exc:  # a failed commit must stop the node loudly
            self.failure = exc
            log.critical("block production stopped: %r", exc, exc_info=True)
            raise

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="solo-blocks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Commit what is admitted, then stop."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def close(self) -> None:
        """Stop, and stop the checker processes."""
        self.stop()
        if self.checker is not None:
            self.checker.close()
            self.checker = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()
