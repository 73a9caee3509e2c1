"""The node: storage, app and engine wired together, with transaction tracking and metrics.

Every edge (API, CLI, SDK through the API) talks to a :class:`Node`. It answers
the one question a client must always be able to ask: what became of my
transaction? (pending, committed, failed, or unknown), by its hash
(DESIGN.md invariant 9). Resubmitting a transaction the node already has is
answered with its status, never executed twice.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from portchain.app.app import App
from portchain.app.execute import BlockResult
from portchain.engines import Engine
from portchain.engines.checker import Checker
from portchain.engines.solo import SoloConfig, SoloEngine
from portchain.kernel import codec
from portchain.kernel.env import format_time_ms
from portchain.kernel.errors import DuplicateError, PortchainError, SequenceError
from portchain.node.blobs import BlobStore
from portchain.node.events import EventBus, audience_rule
from portchain.node.home import Home
from portchain.storage.sqlite import Storage, StoredTx

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0, 10.0)


class Metrics:
    """Prometheus metrics of one node (its own registry, so several nodes can share a process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.height = Gauge("portchain_height", "Last committed block height", registry=r)
        self.mempool = Gauge(
            "portchain_mempool_size", "Transactions waiting for a block", registry=r
        )
        self.committed = Counter(
            "portchain_txs_committed", "Transactions committed successfully", registry=r
        )
        self.failed = Counter(
            "portchain_txs_failed", "Transactions included in a block but failed", registry=r
        )
        self.refused = Counter(
            "portchain_txs_refused",
            "Submissions refused before the mempool",
            ["codespace", "error"],
            registry=r,
        )
        self.block_seconds = Histogram(
            "portchain_block_seconds",
            "Time to execute and commit a block",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.block_txs = Histogram(
            "portchain_block_txs",
            "Transactions per block",
            buckets=(1, 10, 50, 100, 250, 500, 1000, 2000, 5000),
            registry=r,
        )
        self.commit_latency = Histogram(
            "portchain_commit_latency_seconds",
            "From submission to commit, per transaction",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )

    def watch_abci(self, stats: Callable[[], dict[str, tuple[int, float]]]) -> None:
        """Export an ABCI server's calls and CPU seconds per method, read at each scrape."""
        self.registry.register(_AbciCollector(stats))


class _AbciCollector(Collector):
    def __init__(self, stats: Callable[[], dict[str, tuple[int, float]]]) -> None:
        self.stats = stats

    def collect(self) -> Iterator[Metric]:
        calls = CounterMetricFamily(
            "portchain_abci_calls", "ABCI requests answered by the app", labels=["method"]
        )
        cpu = CounterMetricFamily(
            "portchain_abci_cpu_seconds",
            "CPU time the app spent answering ABCI requests",
            labels=["method"],
        )
        for method, (count, seconds) in sorted(self.stats().items()):
            calls.add_metric([method], count)
            cpu.add_metric([method], seconds)
        yield calls
        yield cpu


@dataclass
class _Waiter:
    """A submitted transaction: when, and (once a caller waits for it) the event to set."""

    submitted: float
    event: threading.Event | None = None


def tx_status(stored: StoredTx | None, pending: bool, tx_hash: bytes) -> dict[str, Any]:
    """The public answer to "what became of transaction ``tx_hash``"."""
    if stored is None:
        return {"hash": tx_hash.hex(), "status": "pending" if pending else "unknown"}
    out: dict[str, Any] = {
        "hash": stored.hash.hex(),
        "status": "committed" if stored.code == 0 else "failed",
        "height": stored.height,
        "index": stored.index,
        "signer": stored.signer,
        "action": stored.action,
        "events": stored.events,
    }
    if stored.code:
        out["error"] = {"codespace": stored.codespace, "code": stored.code, "message": stored.log}
    return out


class Node:
    """A node on ``home``: by default the solo engine; ``engine`` builds another from the app."""

    def __init__(
        self,
        home: Home,
        config: SoloConfig | None = None,
        engine: Callable[[App], Engine] | None = None,
    ) -> None:
        self.home = home
        self._lock_file = home.lock()
        self.storage = Storage(home.db_path)
        self.app = App(self.storage)
        if engine is None:
            if self.app.genesis is None:
                self.app.init_chain(home.genesis())
            config = config or SoloConfig()
            checker = Checker(home.db_path, config.check_workers) if config.check_workers else None
            self.engine: Engine = SoloEngine(self.app, home.validator_key(), config, checker)
        else:
            self.engine = engine(self.app)
        self.metrics = Metrics()
        abci_stats = getattr(self.engine, "abci_call_stats", None)
        if abci_stats is not None:  # an ABCI application (the CometBFT engine)
            self.metrics.watch_abci(abci_stats)
        self._waiters: dict[bytes, _Waiter] = {}
        self._lock = threading.Lock()
        # Blobs first: a client told its document committed finds the blob written.
        self.blobs = BlobStore(home.blobs_dir)
        self.engine.on_commit(self.blobs.store_committed)
        self.engine.on_commit(self._on_commit)
        self.events = EventBus(
            self.storage,
            self.engine,
            self.metrics.registry,
            audience_rule(m.name for m in self.app.registry.modules.values() if m.public),
        )
        self.metrics.height.set(self.storage.writer.height())
        self.started_at = time.time()

    @property
    def chain_id(self) -> str:
        if self.app.genesis is not None:
            return self.app.genesis.chain_id
        return self.home.genesis().chain_id

    def start(self) -> None:
        self.engine.start()

    def stop(self) -> None:
        self.events.close()  # open streams end with bus_closed rather than hang
        self.engine.close()
        self.storage.close()
        self._lock_file.close()

    # -- transactions ----------------------------------------------------------
    def submit(self, raw: bytes, wait: bool = False, timeout: float = 30.0) -> dict[str, Any]:
        """Admit ``raw``; with ``wait``, return once it is committed or failed (or on timeout).

        Raises the refusal (:class:`PortchainError`) when the transaction is not admitted.
        A transaction already known is answered with its status and not admitted again.
        """
        outcome = self.submit_many([raw])[0]
        if isinstance(outcome, PortchainError):
            raise outcome
        if wait and outcome["status"] == "pending":
            return self._wait(codec.sha256(raw), timeout)
        return outcome

    def submit_many(self, raws: list[bytes]) -> list[dict[str, Any] | PortchainError]:
        """Admit each of ``raws`` in order: its status (pending, or known) or its refusal.

        A transaction seen before is answered with its status. It is looked up only when the
        mempool refuses it as a replay or a duplicate, so fresh ones cost no extra read.
        """
        out: list[dict[str, Any] | PortchainError | None] = []
        fresh: list[tuple[int, bytes, bytes]] = []
        for raw in raws:
            tx_hash = codec.sha256(raw)
            if self.engine.is_pending(tx_hash):
                out.append({"hash": tx_hash.hex(), "status": "pending"})
            else:
                self._waiter(tx_hash)
                fresh.append((len(out), raw, tx_hash))
                out.append(None)
        outcomes = self.engine.submit_many([raw for _, raw, _ in fresh]) if fresh else []
        reader = self.storage.reader()
        for (position, _, tx_hash), outcome in zip(fresh, outcomes, strict=True):
            if not isinstance(outcome, PortchainError):
                out[position] = {"hash": tx_hash.hex(), "status": "pending"}
                continue
            if isinstance(outcome, SequenceError | DuplicateError):
                known = reader.tx(tx_hash)
                if known is not None or self.engine.is_pending(tx_hash):
                    if known is not None:
                        with self._lock:
                            self._waiters.pop(tx_hash, None)
                    out[position] = tx_status(known, known is None, tx_hash)
                    continue
            with self._lock:
                self._waiters.pop(tx_hash, None)
            self.metrics.refused.labels(outcome.codespace, outcome.name).inc()
            out[position] = outcome
        return [item for item in out if item is not None]

    def _waiter(self, tx_hash: bytes) -> _Waiter:
        with self._lock:
            waiter = self._waiters.get(tx_hash)
            if waiter is None:
                waiter = self._waiters[tx_hash] = _Waiter(time.perf_counter())
            return waiter

    def _wait(self, tx_hash: bytes, timeout: float) -> dict[str, Any]:
        # The event is made only for a caller that waits (most submissions are not waited
        # for); made and set under the same lock, so a commit never slips between.
        with self._lock:
            waiter = self._waiters.get(tx_hash)
            if waiter is not None and waiter.event is None:
                waiter.event = threading.Event()
        if waiter is not None and waiter.event is not None:
            waiter.event.wait(timeout)
        return self.tx_status(tx_hash)

    def tx_status(self, tx_hash: bytes) -> dict[str, Any]:
        return tx_status(
            self.storage.reader().tx(tx_hash), self.engine.is_pending(tx_hash), tx_hash
        )

    def _on_commit(self, result: BlockResult) -> None:
        now = time.perf_counter()
        m = self.metrics
        m.height.set(result.block.header.height)
        m.block_txs.observe(len(result.tx_results))
        m.mempool.set(self.engine.mempool_size)
        ok = sum(1 for r in result.tx_results if r.ok)
        m.committed.inc(ok)
        m.failed.inc(len(result.tx_results) - ok)
        with self._lock:
            for r in result.tx_results:
                waiter = self._waiters.pop(r.hash, None)
                if waiter is not None:
                    m.commit_latency.observe(now - waiter.submitted)
                    if waiter.event is not None:
                        waiter.event.set()

    def next_sequence(self, key_id: str) -> int:
        """The sequence number the signer's next transaction must carry, counting pending ones."""
        return self.app.next_sequence(key_id)

    # -- reads -------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        reader = self.storage.reader()
        with reader.snapshot():
            height = reader.height()
            app_hash = reader.app_hash()
            block = reader.block(height) if height else None
        return {
            "chain_id": self.chain_id,
            "engine": self.engine.name,
            "height": height,
            "app_hash": app_hash.hex(),
            "last_block_hash": block.hash.hex() if block else None,
            "last_block_time": format_time_ms(block.header["time_ms"]) if block else None,
            "mempool_size": self.engine.mempool_size,
            "running": self.engine.running,
        }
