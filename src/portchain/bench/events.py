"""Event delivery latency: from a block's commit to its events at SSE subscribers.

One run, on a fresh solo node in a temporary home, served by uvicorn on 127.0.0.1:

* ``subscribers`` SSE streams, split over ``processes`` subscriber processes so
  that the clients do not compete with the node for one interpreter lock; each
  a lean reader of the raw stream (``client="raw"``) or the SDK's AsyncClient;
* a steady load: ``blocks`` batches of ``txs_per_block`` signed
  ``membership.register_key`` transactions (one event each), one batch every
  ``interval`` seconds, so each batch becomes one block;
* per subscriber and event: the time from the node's commit listener seeing the
  block (it runs right after the block is durable and the bus has queued it) to
  the subscriber holding the parsed event.

Both ends read ``time.monotonic_ns``, one clock for every process on the machine
(Linux CLOCK_MONOTONIC), so the latencies are comparable across processes.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import re
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from portchain.api.server import serving
from portchain.app.execute import BlockResult
from portchain.bench.load import percentile
from portchain.bench.solo import machine
from portchain.engines.solo import SoloConfig
from portchain.kernel.crypto import SigningKey
from portchain.kernel.tx import Tx, sign
from portchain.node.home import Home
from portchain.node.node import Node
from portchain.node.presets import Member, create_network
from portchain.sdk.auth import KeyAuth

CHAIN_ID = "portchain-bench-events"


_EVENT_ID = re.compile(rb"\nid: (\d+):(\d+)\n")


async def _raw_stream(
    host: str, port: int, after: tuple[int, int], expected: int, token: str
) -> list[tuple[int, int]]:
    """A lean SSE reader: finds each ``id:`` line in the bytes, parses nothing else.

    What it measures is the node's delivery, not a client library's parsing (each
    ``yield`` of the node's stream is one HTTP chunk of whole frames, so a frame is
    never cut by chunk framing, only by TCP reads: the unmatched tail is kept).
    """
    reader, writer = await asyncio.open_connection(host, port)
    query = f"after_height={after[0]}&after_index={after[1]}&heartbeat=5"
    writer.write(
        f"GET /api/v1/events/stream?{query} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n".encode()
    )
    seen: list[tuple[int, int]] = []
    pending = b""
    try:
        while len(seen) < expected:
            data = await reader.read(65536)
            if not data:
                break
            now = time.monotonic_ns()
            pending += data
            end = 0
            for match in _EVENT_ID.finditer(pending):
                seen.append((int(match.group(1)), now))
                end = match.end() - 1
            pending = pending[max(end, len(pending) - 64) :]
    finally:
        writer.close()
    return seen


async def _sdk_stream(
    base_url: str, after: tuple[int, int], expected: int, token: str
) -> list[tuple[int, int]]:
    """The SDK's AsyncClient: what an integrator's Python service would see."""
    from portchain.sdk.aio import AsyncClient

    seen: list[tuple[int, int]] = []
    async with AsyncClient(base_url, token=token) as client:
        stream = client.events(after=after, heartbeat=5.0)
        try:
            async for event in stream:
                seen.append((event.height, time.monotonic_ns()))
                if len(seen) >= expected:
                    break
        finally:
            await stream.aclose()
    return seen


def _subscribe_many(
    port: int,
    client: str,
    count: int,
    after: tuple[int, int],
    expected: int,
    timeout: float,
    token: str,
) -> list[list[tuple[int, int]]]:
    """In a subscriber process: ``count`` streams; per stream, (height, received ns) per event."""

    def one() -> Any:
        if client == "sdk":
            return _sdk_stream(f"http://127.0.0.1:{port}", after, expected, token)
        return _raw_stream("127.0.0.1", port, after, expected, token)

    async def main() -> list[list[tuple[int, int]]]:
        tasks = [asyncio.create_task(one()) for _ in range(count)]
        done, pending = await asyncio.wait(tasks, timeout=timeout)
        for task in pending:
            task.cancel()
        return [task.result() if task in done and not task.exception() else [] for task in tasks]

    return asyncio.run(main())


def _subscriber_process(
    port: int,
    client: str,
    count: int,
    after: tuple[int, int],
    expected: int,
    timeout: float,
    results: Any,
    token: str,
) -> None:
    results.put(_subscribe_many(port, client, count, after, expected, timeout, token))


def _signed_load(home: Home, blocks: int, per_block: int) -> list[list[bytes]]:
    member = Member("BENCH0000", "Bench Organisation", "NL", ("shipper",), True)
    create_network(home, chain_id=CHAIN_ID, cast=(member,))
    admin = home.load_key(member.id).key
    batches: list[list[bytes]] = []
    for b in range(blocks):
        batch = []
        for i in range(per_block):
            body = {"public_key": SigningKey.generate().public_key.hex(), "roles": ["shipper"]}
            batch.append(
                sign(
                    Tx(CHAIN_ID, admin.key_id, b * per_block + i, "membership.register_key", body),
                    admin,
                )
            )
        batches.append(batch)
    return batches


def measure_event_latency(
    subscribers: int = 100,
    blocks: int = 50,
    txs_per_block: int = 20,
    interval: float = 0.2,
    processes: int = 2,
    client: str = "raw",
) -> dict[str, Any]:
    """Commit-to-subscriber latency (p50, p99, max in ms) of SSE events on loopback.

    ``client`` is ``raw`` (a lean reader: the node's delivery alone) or ``sdk`` (the
    SDK's AsyncClient, whose parsing then shares the machine with the node). Also
    reports how many subscribers received every event.
    """
    if client not in ("raw", "sdk"):
        raise ValueError("client is raw or sdk")
    with tempfile.TemporaryDirectory(prefix="portchain-bench-events-") as tmp:
        home = Home(Path(tmp))
        batches = _signed_load(home, blocks, txs_per_block)
        node = Node(home, SoloConfig(block_interval=0.02))
        committed: dict[int, int] = {}

        def committed_at(result: BlockResult) -> None:
            committed.setdefault(result.block.header.height, time.monotonic_ns())

        node.engine.on_commit(committed_at)
        node.start()
        with serving(node) as base_url:
            port = int(httpx.URL(base_url).port or 0)
            expected = blocks * txs_per_block
            after = node.events.head()
            # The subscribers read as the bench's organisation, signed in with its key.
            sign_in = KeyAuth(home.load_key("BENCH0000").key)
            with httpx.Client(base_url=base_url, auth=sign_in) as http:
                http.get("/api/v1/auth/session").raise_for_status()
            token = str(sign_in.token)
            timeout = blocks * interval + 60
            context = multiprocessing.get_context("spawn")
            results = context.Queue()
            shares = [
                subscribers // processes + (i < subscribers % processes) for i in range(processes)
            ]
            workers = [
                context.Process(
                    target=_subscriber_process,
                    args=(port, client, share, after, expected, timeout, results, token),
                    daemon=True,
                )
                for share in shares
                if share
            ]
            for worker in workers:
                worker.start()
            deadline = time.monotonic() + 60
            while node.events.subscriber_count < subscribers:
                if time.monotonic() > deadline:
                    raise RuntimeError("the subscribers did not all connect within 60 s")
                time.sleep(0.05)
            began = time.monotonic()
            for n, batch in enumerate(batches):
                pause = began + n * interval - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                node.submit_many(batch)
            streams: list[list[tuple[int, int]]] = []
            for _ in workers:
                streams += results.get(timeout=timeout + 30)
            for worker in workers:
                worker.join(timeout=10)
        node.stop()
    latencies = [
        (received - committed[height]) / 1e6
        for stream in streams
        for height, received in stream
        if height in committed
    ]
    complete = sum(1 for stream in streams if len(stream) == expected)
    return {
        "benchmark": "event_delivery",
        "machine": machine(),
        "params": {
            "subscribers": subscribers,
            "blocks": blocks,
            "txs_per_block": txs_per_block,
            "interval_s": interval,
            "subscriber_processes": len(workers),
            "client": client,
        },
        "events_per_subscriber": expected,
        "subscribers_complete": complete,
        "deliveries": len(latencies),
        "latency_p50_ms": round(percentile(latencies, 0.50), 2),
        "latency_p99_ms": round(percentile(latencies, 0.99), 2),
        "latency_max_ms": round(max(latencies, default=0.0), 2),
    }
