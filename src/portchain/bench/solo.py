"""``portchain bench --engine solo``: the embedded node under load, measured end to end.

What is measured, in one run on a fresh node in a temporary home:

* committed transactions per second: ``txs`` signed ``membership.register_key``
  transactions from ``signers`` organisation admin keys, submitted by
  ``clients`` threads through :meth:`Node.submit` (full check: decode, key,
  Ed25519 signature, sequence) and committed by the solo engine to SQLite;
  timed from the first submission to the last commit;
* latency from submission to commit, per transaction (p50, p99);
* peak resident memory of the process;
* the raw Ed25519 verification rate of one core, and the ratio of the two rates;
* state-root updates per second: batched writes to a Merkle tree already
  holding ``state_keys`` keys, 2,000 per block as the node does.

Signing happens before the clock starts: it is the clients' work, not the node's.
"""

from __future__ import annotations

import gc
import os
import platform
import random
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from portchain.bench.load import TimedLoad, interleave, percentile
from portchain.engines.solo import SoloConfig
from portchain.kernel import codec
from portchain.kernel.crypto import TX_DOMAIN, SigningKey, verify
from portchain.kernel.smt import MerkleTree
from portchain.kernel.tx import Tx, sign
from portchain.node.home import Home
from portchain.node.node import Node
from portchain.node.presets import Member, create_network


def machine() -> dict[str, Any]:
    model = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
    }


def ed25519_rate(samples: int = 3000) -> float:
    """Verifications per second on one core (one thread)."""
    key = SigningKey.generate()
    message = b"x" * 300
    signature = key.sign(TX_DOMAIN, message)
    public = key.public_key
    start = time.perf_counter()
    for _ in range(samples):
        verify(public, TX_DOMAIN, message, signature)
    return samples / (time.perf_counter() - start)


def state_root_rate(keys: int, batches: int = 50, batch_size: int = 2000) -> float:
    """Merkle updates per second on a tree holding ``keys`` keys, in block-sized batches."""
    sha = codec.sha256
    tree = MerkleTree()
    tree.update((sha(b"k%d" % i), sha(b"v%d" % i)) for i in range(keys))
    tree.take_unstored()
    gc.freeze()  # as the node does after each block
    rng = random.Random(7)
    work = [
        [
            (sha(b"k%d" % rng.randrange(keys * 2)), sha(b"w%d-%d" % (b, i)))
            for i in range(batch_size)
        ]
        for b in range(batches)
    ]
    start = time.perf_counter()
    for batch in work:
        tree.update(batch)
        tree.take_unstored()
        gc.freeze()
    return batches * batch_size / (time.perf_counter() - start)


PACED_TXS = 1500
"""Extra transactions for the paced phase (latency at half the measured rate)."""


def _prepare(home: Home, txs: int, signers: int) -> tuple[Node, list[list[bytes]]]:
    cast = tuple(
        Member(f"BENCH{i:04d}", f"Bench Organisation {i}", "NL", ("shipper",), i == 0)
        for i in range(signers)
    )
    genesis = create_network(home, chain_id="portchain-bench", cast=cast)
    keys = [home.load_key(member.id).key for member in cast]
    per_signer: list[list[bytes]] = [[] for _ in keys]
    for n in range(txs):
        s = n % signers
        new_key = SigningKey.generate().public_key.hex()
        body = {"label": f"user{n}", "public_key": new_key, "roles": ["shipper"]}
        tx = Tx(
            genesis.chain_id, keys[s].key_id, len(per_signer[s]), "membership.register_key", body
        )
        per_signer[s].append(sign(tx, keys[s]))
    node = Node(home, SoloConfig())  # the node's defaults, as `portchain up` runs it
    return node, per_signer


def run_bench(
    txs: int, signers: int, clients: int, state_keys: int, batch: int = 100
) -> dict[str, Any]:
    per = max(1, txs // signers)
    txs = per * signers
    with tempfile.TemporaryDirectory(prefix="portchain-bench-") as tmp:
        node, queues = _prepare(Home(Path(tmp)), txs + PACED_TXS, signers)
        per_signer = [q[:per] for q in queues]
        paced = [
            q[i] for i in range(per, max(len(q) for q in queues)) for q in queues if i < len(q)
        ]
        paced_sent: dict[bytes, float] = {}
        paced_latency: list[float] = []

        def on_paced_commit(result: Any) -> None:
            now = time.perf_counter()
            for r in result.tx_results:
                if r.hash in paced_sent:
                    paced_latency.append(now - paced_sent[r.hash])

        load = TimedLoad(node, [raw for q in per_signer for raw in q])
        node.engine.on_commit(on_paced_commit)
        node.start()
        load.run([interleave(per_signer[i::clients]) for i in range(clients)], batch, 600)
        saturated = load.result("committed_tx_per_s")
        tps = saturated["committed_tx_per_s"]
        # Latency at a steady half of that rate: what a user sees when the node is not flooded.
        rate = max(20.0, min(500.0, tps / 2))
        begin = time.perf_counter()
        for n, raw in enumerate(paced[: int(rate * 3)]):
            delay = begin + n / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            paced_sent[codec.sha256(raw)] = time.perf_counter()
            node.submit(raw)
        time.sleep(1.0)
        height = node.storage.writer.height()
        node.stop()
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    verify_rate = ed25519_rate()
    root_rate = state_root_rate(state_keys)
    return {
        "benchmark": "solo",
        "machine": machine(),
        "params": {
            "txs": txs,
            "signers": signers,
            "clients": clients,
            "batch": batch,
            "state_keys": state_keys,
        },
        **saturated,
        "paced_tx_per_s": round(rate, 1),
        "paced_latency_p50_ms": round(percentile(paced_latency, 0.50) * 1000, 1),
        "paced_latency_p99_ms": round(percentile(paced_latency, 0.99) * 1000, 1),
        "peak_rss_mb": round(peak_mb, 1),
        "ed25519_verify_per_s_one_core": round(verify_rate, 1),
        "tx_rate_over_verify_rate": round(tps / verify_rate, 3),
        "state_root_updates_per_s": round(root_rate, 1),
        "blocks": height,
    }
