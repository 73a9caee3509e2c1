"""A timed load on an embedded node: signed transactions submitted in batches, each timed
from its submission to the commit of its block (what ``--port`` and ``--ebl`` share)."""

from __future__ import annotations

import threading
import time
from typing import Any

from portchain.kernel import codec
from portchain.kernel.errors import MempoolFullError


def percentile(values: list[float], fraction: float) -> float:
    """The value below which ``fraction`` of ``values`` lie (nearest rank); 0.0 if none."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def interleave(queues: list[list[bytes]]) -> list[bytes]:
    """Round-robin over the signers' queues, each kept in sequence order, as an integrator
    sending several signers' transactions would."""
    depth = max((len(q) for q in queues), default=0)
    return [q[i] for i in range(depth) for q in queues if i < len(q)]


class TimedLoad:
    """Listens to ``node``'s commits for the transactions ``raws`` (give it before starting)."""

    def __init__(self, node: Any, raws: list[bytes]) -> None:
        self.node = node
        self.total = len(raws)
        self.ours = {codec.sha256(raw) for raw in raws}
        self.submitted: dict[bytes, float] = {}
        self.committed: dict[bytes, float] = {}
        self.failed: list[str] = []
        self._done = threading.Event()
        self._lock = threading.Lock()
        self.start = 0.0
        node.engine.on_commit(self._on_commit)

    def _on_commit(self, result: Any) -> None:
        now = time.perf_counter()
        with self._lock:
            for r in result.tx_results:
                if r.hash in self.ours:
                    self.committed[r.hash] = now
                    if not r.ok:
                        self.failed.append(r.log)
            if len(self.committed) >= self.total:
                self._done.set()

    def submit(self, ordered: list[bytes], batch: int) -> None:
        """Submit ``ordered`` in batches, in order, waiting while the mempool is full."""
        for first in range(0, len(ordered), batch):
            pending = ordered[first : first + batch]
            while pending:
                now = time.perf_counter()
                for raw in pending:
                    self.submitted[codec.sha256(raw)] = now
                outcomes = self.node.submit_many(pending)
                refused = [i for i, o in enumerate(outcomes) if isinstance(o, MempoolFullError)]
                pending = pending[refused[0] :] if refused else []
                if pending:
                    time.sleep(0.005)

    def run(self, groups: list[list[bytes]], batch: int, timeout: float = 900) -> None:
        """One client thread per group (each submits its own in order); wait for the commits."""
        threads = [threading.Thread(target=self.submit, args=(g, batch)) for g in groups]
        self.start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self._done.wait(timeout=timeout)

    def result(self, per_s: str) -> dict[str, Any]:
        elapsed = max(self.committed.values(), default=self.start) - self.start
        latencies = [self.committed[h] - self.submitted[h] for h in self.committed]
        return {
            "committed": len(self.committed),
            "failed": len(self.failed),
            "first_failure": self.failed[0] if self.failed else None,
            "seconds": round(elapsed, 3),
            per_s: round(len(self.committed) / elapsed, 1) if elapsed > 0 else 0.0,
            "latency_p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
            "latency_p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        }
