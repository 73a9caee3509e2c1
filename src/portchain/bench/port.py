"""``portchain bench --port``: container events on the embedded node, and a port-scale load.

Two measurements, each on a fresh network in a temporary home (the demo cast):

1. **Committed container events per second** through the solo engine, exactly as
   ``portchain bench --engine solo`` measures the spine: ``events`` signed equipment
   events (per container GTIN, STUF, INSP and LOAD onto a vessel call at the terminal)
   from ``signers`` user keys of the terminal organisation, submitted in batches by two
   client threads through :meth:`Node.submit_many` (full check, signature verified in the
   checker process), executed and committed to SQLite; timed from the first submission
   to the last commit. Signing happens before the clock starts.

2. **Port scale**: ``containers`` containers and ten events each (1,000,000 events over
   100,000 containers by default), executed block by block on the real :class:`App` over
   real SQLite (blocks of ``block_txs`` transactions, signed by a worker process while the
   previous block executes; every signature is verified at execution). 80% of the
   containers make a whole voyage (gate-in at Shekou, stuffing, inspection, load, discharge
   at Rotterdam, inspection, stripping, gate-out empty, pick-up and drop-off inland), 10%
   stay in the yard at Shekou and 10% wait at Rotterdam as laden import cargo. Then, on
   the node's own API served by uvicorn, and on the query functions directly:
   "containers at my terminal" (a page of 100 from a random point) and a container's
   history, each sampled ``samples`` times: p50 and p99 in milliseconds.
"""

from __future__ import annotations

import multiprocessing
import random
import resource
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from portchain.bench.load import TimedLoad, interleave, percentile
from portchain.bench.solo import machine
from portchain.kernel.access import Viewer
from portchain.kernel.crypto import SigningKey
from portchain.kernel.identifiers import iso6346_check_digit
from portchain.kernel.tx import Tx, sign
from portchain.node.home import Home
from portchain.node.presets import DEMO_CAST, create_network

CHAIN_ID = "portchain-port-bench"
SHEKOU, ROTTERDAM = "CNSHK-SCT", "NLRTM-DDT"
IMO = "9321483"
"""A valid IMO number (check digit 3) for the bench's vessel."""

Progress = Callable[[str], None]


def container_number(n: int, owner: str = "PBNU") -> str:
    first = f"{owner}{n:06d}"
    return first + str(iso6346_check_digit(first))


# -- the journeys ----------------------------------------------------------------------
def _at(number: str, terminal: str, fill: str | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"container": number, "terminal": terminal, **extra}
    if fill is not None:
        body["empty_indicator"] = fill
    return body


def journey(n: int, calls: tuple[str, str]) -> list[tuple[str, str, dict[str, Any]]]:
    """The ten (signer org, action, body) events of container ``n``."""
    number = container_number(n)
    load_call, discharge_call = calls
    sct, ddt = "SHEKOU-CT", "RTM-DELTA"
    trip = [
        (sct, "port.gate_in", _at(number, SHEKOU, "EMPTY", truck="YUE B1234")),
        (sct, "port.stuff", _at(number, SHEKOU)),
        (sct, "port.inspect", _at(number, SHEKOU, "LADEN")),
    ]
    if n % 10 == 1:  # stays in the yard at Shekou
        trip += [
            (sct, "port.reseal", _at(number, SHEKOU, "LADEN", seal=f"S{n:08d}")),
            (sct, "port.inspect", _at(number, SHEKOU, "LADEN")),
            (sct, "port.strip", _at(number, SHEKOU)),
            (sct, "port.stuff", _at(number, SHEKOU)),
            (sct, "port.remove_seal", _at(number, SHEKOU, "LADEN")),
            (sct, "port.inspect", _at(number, SHEKOU, "LADEN")),
            (sct, "port.inspect", _at(number, SHEKOU, "LADEN")),
        ]
        return trip
    trip += [
        (sct, "port.load", _at(number, SHEKOU, "LADEN", call_id=load_call)),
        (ddt, "port.discharge", _at(number, ROTTERDAM, "LADEN", call_id=discharge_call)),
        (ddt, "port.inspect", _at(number, ROTTERDAM, "LADEN")),
    ]
    if n % 10 == 2:  # laden import cargo waiting for its releases at Rotterdam
        trip += [
            (ddt, "port.reseal", _at(number, ROTTERDAM, "LADEN", seal=f"R{n:08d}")),
            (ddt, "port.inspect", _at(number, ROTTERDAM, "LADEN")),
            (ddt, "port.inspect", _at(number, ROTTERDAM, "LADEN")),
            (ddt, "port.remove_seal", _at(number, ROTTERDAM, "LADEN")),
        ]
        return trip
    inland = {"container": number, "place": "NLRTM", "empty_indicator": "EMPTY"}
    trip += [
        (ddt, "port.strip", _at(number, ROTTERDAM)),
        (ddt, "port.gate_out", _at(number, ROTTERDAM, "EMPTY", haulier="MAASHAUL")),
        ("MAASHAUL", "port.pick_up", inland),
        ("MAASHAUL", "port.drop_off", {**inland, "place": "NLTLB"}),
    ]
    return trip


# -- set-up: terminals, a vessel and its calls -------------------------------------------------
TERMINALS = (
    ("SHEKOU-PORT", SHEKOU, "Shekou Container Terminal", "SHEKOU-CT"),
    ("RTM-PORT", ROTTERDAM, "Delta Deep-Sea Terminal", "RTM-DELTA"),
)


def setup_steps() -> list[tuple[str, str, dict[str, Any]]]:
    """The terminals, the vessel and its two calls, as (signer org, action, body)."""
    steps = [
        (
            "SHEKOU-PORT" if port == "SHEKOU-PORT" else port,
            "port.register_terminal",
            {"terminal_id": terminal, "name": name, "org": org},
        )
        for port, terminal, name, org in TERMINALS
    ]
    steps.append(("MERIDIAN", *logistics_vessel(IMO, "Meridian Star")))
    for terminal in (SHEKOU, ROTTERDAM):
        steps.append(("MERIDIAN", *logistics_call(IMO, terminal)))
    return steps


def logistics_vessel(imo: str, name: str) -> tuple[str, dict[str, Any]]:
    return "logistics.register_vessel", {"imo": imo, "name": name, "flag": "SG"}


def _call_id(terminal: str) -> str:
    return f"PB-{terminal}"


def logistics_call(imo: str, terminal: str) -> tuple[str, dict[str, Any]]:
    start = 1_800_000_000_000 + (0 if terminal == SHEKOU else 30 * 86_400_000)
    return "logistics.schedule_call", {
        "call_id": _call_id(terminal),
        "imo": imo,
        "terminal": terminal,
        "voyage": "001W",
        "planned_arrival_ms": start,
        "planned_departure_ms": start + 86_400_000,
    }


def call_ids(results: list[Any]) -> tuple[str, str]:
    """The ids of the two calls (load at Shekou, discharge at Rotterdam); the set-up's
    results must all have committed."""
    for result in results:
        ok = result.get("status") == "committed" if isinstance(result, dict) else result.ok
        if not ok:
            raise RuntimeError(f"the bench's set-up failed: {result}")
    return _call_id(SHEKOU), _call_id(ROTTERDAM)


# -- signing in a worker process ---------------------------------------------------------------
_KEYS: dict[str, SigningKey] = {}


def _init_signer(seeds: dict[str, bytes]) -> None:
    _KEYS.update({org: SigningKey.from_seed(seed) for org, seed in seeds.items()})


def _sign_chunk(chunk: list[tuple[str, int, str, dict[str, Any]]]) -> list[bytes]:
    return [
        sign(Tx(CHAIN_ID, _KEYS[org].key_id, seq, action, body), _KEYS[org])
        for org, seq, action, body in chunk
    ]


# -- 1. committed events per second through the solo engine ----------------------------------------
def events_per_second(
    home: Home,
    events: int,
    signers: int,
    clients: int = 2,
    batch: int = 100,
    progress: Progress = print,
) -> dict[str, Any]:
    """Committed container events per second through :meth:`Node.submit_many`."""
    from portchain.engines.solo import SoloConfig
    from portchain.node.gateway import LocalGateway, send
    from portchain.node.node import Node

    create_network(home, chain_id=CHAIN_ID, cast=DEMO_CAST)
    node = Node(home, SoloConfig(block_interval=0.2, max_block_txs=2000, mempool_size=20_000))
    node.start()
    try:
        gateway = LocalGateway(node)
        results = []
        for org, action, body in setup_steps():
            outcome = send(gateway, home.load_key(org).key, action, body)
            if outcome.get("status") != "committed":
                raise RuntimeError(f"set-up {action} failed: {outcome}")
            results.append(outcome)
        load_call, _ = call_ids(results)
        # The terminal's clerks: one key each, so that each signs its own sequence.
        admin = home.load_key("SHEKOU-CT").key
        clerks = [SigningKey.generate() for _ in range(signers)]
        raws = [
            sign(
                Tx(
                    CHAIN_ID,
                    admin.key_id,
                    n,
                    "membership.register_key",
                    {"public_key": k.public_key.hex(), "roles": ["terminal"], "label": f"clerk{n}"},
                ),
                admin,
            )
            for n, k in enumerate(clerks)
        ]
        for first in range(0, len(raws) - 1, 100):
            node.submit_many(raws[first : min(first + 100, len(raws) - 1)])
        last = gateway.submit(raws[-1], wait=True)  # same signer: the others commit first
        if last.get("status") != "committed":
            raise RuntimeError(f"set-up failed: {last}")
        per_container = 4
        containers = max(1, events // per_container)
        queues: list[list[bytes]] = [[] for _ in clerks]
        for n in range(containers):
            s = n % signers
            number = container_number(500_000 + n, "PTPU")
            for action, body in (
                ("port.gate_in", _at(number, SHEKOU, "EMPTY")),
                ("port.stuff", _at(number, SHEKOU)),
                ("port.inspect", _at(number, SHEKOU, "LADEN")),
                ("port.load", _at(number, SHEKOU, "LADEN", call_id=load_call)),
            ):
                queues[s].append(
                    sign(Tx(CHAIN_ID, clerks[s].key_id, len(queues[s]), action, body), clerks[s])
                )
        total = containers * per_container
        progress(f"submitting {total} container events from {signers} terminal keys")
        load = TimedLoad(node, [raw for q in queues for raw in q])

        load.run([interleave(queues[i::clients]) for i in range(clients)], batch)
    finally:
        node.stop()
    return {
        "events": total,
        "containers": containers,
        "signers": signers,
        "clients": clients,
        **load.result("committed_events_per_s"),
    }


# -- 2. port scale -------------------------------------------------------------------------------
def _journeys(
    containers: int, calls: tuple[str, str], batch: int
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every container's ten events, a batch of containers at a time, phase by phase, so that
    each container's events come in order while consecutive events concern many containers."""
    for first in range(0, containers, batch):
        trips = [journey(n, calls) for n in range(first, min(first + batch, containers))]
        for phase in range(10):
            for trip in trips:
                yield trip[phase]


def _chunks(
    steps: Iterator[tuple[str, str, dict[str, Any]]], seqs: dict[str, int], size: int
) -> Iterator[list[tuple[str, int, str, dict[str, Any]]]]:
    chunk: list[tuple[str, int, str, dict[str, Any]]] = []
    for org, action, body in steps:
        seq = seqs[org]
        seqs[org] = seq + 1
        chunk.append((org, seq, action, body))
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def port_scale(
    home: Home,
    containers: int,
    block_txs: int,
    samples: int,
    progress: Progress = print,
) -> dict[str, Any]:
    """Load ``containers`` x 10 events on the real App over SQLite, then time the reads."""
    from portchain.bench.direct import DirectChain

    genesis = create_network(
        home, chain_id=CHAIN_ID, cast=DEMO_CAST, genesis_time_ms=1_790_000_000_000
    )
    chain = DirectChain(home, genesis)
    run_block = chain.run_block
    orgs = ("SHEKOU-PORT", "RTM-PORT", "MERIDIAN", "SHEKOU-CT", "RTM-DELTA", "MAASHAUL")
    keys = {org: home.load_key(org).key for org in orgs}

    seqs = {org: 0 for org in orgs}
    setup_results = []
    for org, action, body in setup_steps():
        raw = sign(Tx(CHAIN_ID, keys[org].key_id, seqs[org], action, body), keys[org])
        seqs[org] += 1
        result = run_block([raw]).tx_results[0]
        if not result.ok:
            raise RuntimeError(f"set-up {action} failed: {result.log}")
        setup_results.append(result)
    calls = call_ids(setup_results)
    events = containers * 10
    progress(f"port scale: {events:,} events over {containers:,} containers, blocks of {block_txs}")
    ctx = multiprocessing.get_context("spawn")
    failures = 0
    first_failure = ""
    done = 0
    start = time.perf_counter()
    with ctx.Pool(
        1, initializer=_init_signer, initargs=({o: k.seed for o, k in keys.items()},)
    ) as pool:
        chunks = _chunks(_journeys(containers, calls, 1000), seqs, block_txs)
        for raws in pool.imap(_sign_chunk, chunks, chunksize=1):
            result = run_block(raws)
            for r in result.tx_results:
                if not r.ok:
                    failures += 1
                    first_failure = first_failure or r.log
            done += len(raws)
            if done % (block_txs * 20) == 0:
                elapsed = time.perf_counter() - start
                progress(f"  {done:,} events in {elapsed:.0f} s ({done / elapsed:,.0f}/s)")
    load_seconds = time.perf_counter() - start
    height = chain.app.info().height
    chain.close()
    db_mb = home.db_path.stat().st_size / 1e6
    progress(f"loaded in {load_seconds:.0f} s; timing the reads")
    reads = _time_queries(home, containers, samples)
    api = _time_api(home, containers, samples)
    return {
        "containers": containers,
        "events": events,
        "block_txs": block_txs,
        "blocks": height,
        "failed": failures,
        "first_failure": first_failure or None,
        "load_seconds": round(load_seconds, 1),
        "load_events_per_s": round(events / load_seconds, 1),
        "database_mb": round(db_mb, 1),
        "queries": reads,
        "api": api,
    }


def _stats(times: list[float]) -> dict[str, float]:
    return {
        "samples": len(times),
        "p50_ms": round(percentile(times, 0.5) * 1000, 2),
        "p99_ms": round(percentile(times, 0.99) * 1000, 2),
        "max_ms": round(max(times) * 1000, 2),
    }


SHEKOU_TERMINAL = Viewer("SHEKOU-CT", "CN", frozenset({"terminal"}))
ROTTERDAM_TERMINAL = Viewer("RTM-DELTA", "NL", frozenset({"terminal"}))


def _time_queries(home: Home, containers: int, samples: int) -> dict[str, Any]:
    from portchain.modules.port import queries
    from portchain.storage.sqlite import Reader, _connect

    reader = Reader(_connect(home.db_path))
    rng = random.Random(11)
    page: list[float] = []
    rows = 0
    for _ in range(samples):
        after = container_number(rng.randrange(containers))
        viewer, terminal = rng.choice(((SHEKOU_TERMINAL, SHEKOU), (ROTTERDAM_TERMINAL, ROTTERDAM)))
        t0 = time.perf_counter()
        found = queries.containers_at(reader, viewer, terminal, after, 100)
        page.append(time.perf_counter() - t0)
        rows += len(found or [])
    history: list[float] = []
    moves = 0
    for _ in range(samples):
        number = container_number(rng.randrange(containers))
        viewer = rng.choice((SHEKOU_TERMINAL, ROTTERDAM_TERMINAL))
        t0 = time.perf_counter()
        found_history = queries.history(reader, viewer, number)
        history.append(time.perf_counter() - t0)
        moves += len(found_history["moves"]) if found_history else 0
    at_shekou = len(queries.containers_at(reader, SHEKOU_TERMINAL, SHEKOU, "", 500) or [])
    return {
        "containers_at_terminal_page": {**_stats(page), "mean_rows": round(rows / samples, 1)},
        "container_history": {**_stats(history), "mean_moves_shown": round(moves / samples, 2)},
        "first_page_rows_at_shekou": at_shekou,
    }


def _time_api(home: Home, containers: int, samples: int) -> dict[str, Any]:
    """The same reads through the node's HTTP API (uvicorn, one client, keep-alive)."""
    import httpx

    from portchain.api.server import serving
    from portchain.node.node import Node
    from portchain.sdk.auth import KeyAuth

    node = Node(home)
    node.start()
    rng = random.Random(13)
    try:
        with (
            serving(node) as base_url,
            httpx.Client(
                base_url=base_url, timeout=30, auth=KeyAuth(home.load_key("RTM-DELTA").key)
            ) as client,
        ):
            client.get("/api/v1/auth/session").raise_for_status()  # signs in, untimed
            page: list[float] = []
            for _ in range(samples):
                after = container_number(rng.randrange(containers))
                t0 = time.perf_counter()
                response = client.get(
                    f"/api/v1/port/terminals/{ROTTERDAM}/containers",
                    params={"after": after, "limit": 100},
                )
                page.append(time.perf_counter() - t0)
                response.raise_for_status()
            history: list[float] = []
            misses = 0
            for _ in range(samples):
                number = container_number(rng.randrange(containers))
                t0 = time.perf_counter()
                response = client.get(f"/api/v1/port/containers/{number}")
                history.append(time.perf_counter() - t0)
                misses += response.status_code == 404
    finally:
        node.stop()
    return {
        "containers_at_terminal_page": _stats(page),
        "container_history": {**_stats(history), "not_visible_404": misses},
        "viewer": "RTM-DELTA",
    }


def run_port_bench(
    events: int = 20_000,
    signers: int = 100,
    containers: int = 100_000,
    block_txs: int = 5_000,
    samples: int = 2_000,
    progress: Progress = print,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="portchain-port-bench-") as tmp:
        progress(f"committed container events per second ({events:,} events)")
        rate = events_per_second(Home(Path(tmp) / "rate"), events, signers, progress=progress)
        progress(f"{rate['committed_events_per_s']:,} events/s")
        scale = port_scale(Home(Path(tmp) / "scale"), containers, block_txs, samples, progress)
    return {
        "benchmark": "port",
        "machine": machine(),
        "params": {
            "events": events,
            "signers": signers,
            "containers": containers,
            "block_txs": block_txs,
            "samples": samples,
        },
        "throughput": rate,
        "port_scale": scale,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
