"""API read latency under load: signed-in clients reading while blocks keep committing.

One run, on a fresh solo node in a temporary home with the demo cast, served by
uvicorn on 127.0.0.1:

* the chain is first filled with ``preload`` committed transactions;
* a writer keeps submitting ``write_rate`` signed transactions per second for the
  whole run, so reads compete with block execution and SQLite commits;
* ``readers`` concurrent clients, split over ``processes`` processes (so the
  clients do not share the node's interpreter lock), each signed in as a member,
  read in a closed loop for ``duration`` seconds: a transaction by hash, a key, a
  state entry, an organisation, the node's status, a page of events;
* per request: the time from sending it to holding the whole answer.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import random
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from portchain.api.server import serving
from portchain.bench.load import percentile
from portchain.bench.solo import machine
from portchain.engines.solo import SoloConfig
from portchain.kernel import codec
from portchain.kernel.crypto import SigningKey
from portchain.kernel.tx import Tx, sign
from portchain.node.home import Home
from portchain.node.node import Node
from portchain.node.presets import DEMO_CAST, create_network
from portchain.sdk.auth import KeyAuth

CHAIN_ID = "portchain-bench-api"
WRITERS = ("BRIGHTWAVE", "MERIDIAN", "HOLLANDHOME", "PEARLFWD")


def _registration(home: Home, org: str, seq: int) -> bytes:
    admin = home.load_key(org).key
    role = next(m.roles[0] for m in DEMO_CAST if m.id == org)
    body = {"public_key": SigningKey.generate().public_key.hex(), "roles": [role]}
    return sign(Tx(CHAIN_ID, admin.key_id, seq, "membership.register_key", body), admin)


async def _read_loop(
    base_url: str,
    token: str,
    targets: dict[str, list[str]],
    duration: float,
    seed: int,
    interval: float,
) -> list[tuple[str, float, int]]:
    """Reads until ``duration`` ends; one every ``interval`` seconds (0: back to back)."""
    rng = random.Random(seed)
    out: list[tuple[str, float, int]] = []
    routes: list[tuple[str, Callable[[], str]]] = [
        ("tx", lambda: f"/api/v1/txs/{rng.choice(targets['txs'])}"),
        ("key", lambda: f"/api/v1/membership/keys/{rng.choice(targets['keys'])}"),
        ("state", lambda: f"/api/v1/state/membership/key/{rng.choice(targets['keys'])}"),
        ("org", lambda: f"/api/v1/membership/organisations/{rng.choice(WRITERS)}"),
        ("status", lambda: "/api/v1/status"),
        ("events", lambda: f"/api/v1/events?after_height={rng.randint(0, 20)}&limit=50"),
    ]
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30) as client:
        end = time.monotonic() + duration
        next_at = time.monotonic() + rng.random() * interval
        while time.monotonic() < end:
            if interval:
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
                next_at += interval
            name, path = rng.choice(routes)
            started = time.perf_counter()
            response = await client.get(path())
            await response.aread()
            out.append((name, time.perf_counter() - started, response.status_code))
    return out


def _reader_process(
    base_url: str,
    token: str,
    targets: dict[str, list[str]],
    concurrency: int,
    duration: float,
    seed: int,
    results: Any,
    interval: float,
) -> None:
    async def main() -> list[tuple[str, float, int]]:
        runs = await asyncio.gather(
            *(
                _read_loop(base_url, token, targets, duration, seed * 1000 + i, interval)
                for i in range(concurrency)
            )
        )
        return [sample for run in runs for sample in run]

    results.put(asyncio.run(main()))


def measure_read_latency(
    readers: int = 32,
    processes: int = 2,
    duration: float = 20.0,
    preload: int = 2000,
    write_rate: float = 200.0,
    read_rate: float | None = 100.0,
) -> dict[str, Any]:
    """p50 and p99 of API reads while the node commits ``write_rate`` tx/s.

    With ``read_rate`` the readers together send that many reads per second, each on its
    own schedule (an open load: latency is the node's answer time under the write load);
    with None each reader sends its next read as soon as it has the last answer (a closed
    load: the node's read capacity, with queueing in the latency).
    """
    interval = readers / read_rate if read_rate else 0.0
    with tempfile.TemporaryDirectory(prefix="portchain-bench-api-") as tmp:
        home = Home(Path(tmp))
        create_network(home, chain_id=CHAIN_ID, cast=DEMO_CAST)
        node = Node(home, SoloConfig(block_interval=0.1))
        node.start()
        seqs = dict.fromkeys(WRITERS, 0)
        hashes: list[str] = []
        keys: list[str] = []
        for start in range(0, preload, 200):
            raws = []
            for i in range(start, min(preload, start + 200)):
                org = WRITERS[i % len(WRITERS)]
                raws.append(_registration(home, org, seqs[org]))
                seqs[org] += 1
            node.submit_many(raws)
            outcome = node.submit(raws[-1], wait=True)
            assert outcome["status"] == "committed", outcome
            for raw in raws:
                status = node.tx_status(codec.sha256(raw))
                hashes.append(status["hash"])
                keys += [e["attributes"]["key"] for e in status.get("events", [])]
        with serving(node) as base_url:
            sign_in = KeyAuth(home.load_key("MERIDIAN").key)
            with httpx.Client(base_url=base_url, auth=sign_in) as http:
                http.get("/api/v1/auth/session").raise_for_status()
            token = str(sign_in.token)

            stop = threading.Event()
            written = 0

            def write() -> None:
                nonlocal written
                tick = 0.05
                per_tick = max(1, round(write_rate * tick))
                next_at = time.monotonic()
                while not stop.is_set():
                    raws = []
                    for _ in range(per_tick):
                        org = WRITERS[written % len(WRITERS)]
                        raws.append(_registration(home, org, seqs[org]))
                        seqs[org] += 1
                        written += 1
                    node.submit_many(raws)
                    next_at += tick
                    time.sleep(max(0.0, next_at - time.monotonic()))

            writer = threading.Thread(target=write, daemon=True)
            height_before = node.status()["height"]
            writer.start()
            context = multiprocessing.get_context("spawn")
            results = context.Queue()
            targets = {"txs": hashes, "keys": keys}
            shares = [readers // processes + (i < readers % processes) for i in range(processes)]
            workers = [
                context.Process(
                    target=_reader_process,
                    args=(base_url, token, targets, share, duration, i, results, interval),
                    daemon=True,
                )
                for i, share in enumerate(shares)
                if share
            ]
            started = time.monotonic()
            for worker in workers:
                worker.start()
            samples: list[tuple[str, float, int]] = []
            for _ in workers:
                samples += results.get(timeout=duration + 120)
            elapsed = time.monotonic() - started
            for worker in workers:
                worker.join(10)
            stop.set()
            writer.join(10)
            height_after = node.status()["height"]
        node.stop()

    ok = [latency for _, latency, status in samples if status == 200]
    by_route: dict[str, dict[str, float]] = {}
    for route in sorted({name for name, _, _ in samples}):
        values = [lat for name, lat, status in samples if name == route and status == 200]
        by_route[route] = {
            "requests": len(values),
            "p50_ms": round(percentile(values, 0.50) * 1000, 2),
            "p99_ms": round(percentile(values, 0.99) * 1000, 2),
        }
    return {
        "benchmark": "api_read_latency",
        "machine": machine(),
        "config": {
            "readers": readers,
            "reader_processes": processes,
            "duration_s": duration,
            "preload_txs": preload,
            "write_rate_tx_s": write_rate,
            "read_rate_per_s": read_rate,
        },
        "requests": len(samples),
        "errors": len(samples) - len(ok),
        "reads_per_s": round(len(samples) / elapsed, 1),
        "blocks_during_run": height_after - height_before,
        "txs_written_during_run": written,
        "p50_ms": round(percentile(ok, 0.50) * 1000, 2),
        "p90_ms": round(percentile(ok, 0.90) * 1000, 2),
        "p99_ms": round(percentile(ok, 0.99) * 1000, 2),
        "max_ms": round(max(ok) * 1000, 2) if ok else 0.0,
        "by_route": by_route,
    }
