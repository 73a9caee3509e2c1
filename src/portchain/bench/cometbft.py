"""``portchain bench --engine cometbft``: a local CometBFT network under load, and kvstore too.

Networks on the same layout (N validators on 127.0.0.1 with the LAN timeouts and config.toml
of ``portchain net``), one after the other, under the same load:

* **portchain**: each node's app is portchain (``node_process``); the load is signed
  ``membership.register_key`` transactions from ``signers`` organisation admin keys;
* **kvstore**: each node runs CometBFT's built-in key-value app (``--proxy_app=kvstore``); the
  load is ``key=value`` transactions of the same average size;
* **the floor apps** (``portchain.bench.floor``): portchain's load again, to a Python app behind
  each node's ABCI socket that does nothing (``noop``), or only decodes each transaction and
  checks its signature (``signature``). They show what any Python app on this layout is held
  to, and so how much of portchain's distance from kvstore is its own work.

The load enters at the validators' RPC, one submitting thread per validator, each with its own
share of the signers in sequence order, as JSON-RPC batches of ``broadcast_tx_async``: CometBFT
runs CheckTx on each at its entry node and again at every node the mempool gossips it to.
(``broadcast_tx_sync``, which the portchain API uses to report a refusal, waits for CometBFT's
20 ms flush of the ABCI socket per call, so a load generator built on it measures that timer.)
Signing happens before the clock starts.

Two phases per network:

1. **latency**, first, on the fresh network: a steady load of ``pace`` tx/s for
   ``paced_seconds`` (the same for both apps); latency from each transaction's submission to
   the moment the watched node has executed and committed its block (p50, p99);
2. **throughput**: then all ``txs`` submitted at once; committed transactions per second from
   the first submission until the last one is seen committed.

A watcher polls one validator every 20 ms for blocks whose results exist (the app committed).

The throughput phase also reports the CPU time per committed transaction of each group of
processes, from ``/proc`` (Linux): the CometBFT nodes, the portchain apps, and this process
(the load and the watcher). When all of them share a machine's cores, their sum bounds the
rate: ``cores / sum`` transactions per second at best. From the apps' ``/metrics``
(``portchain_abci_cpu_seconds_total``) it also reports what one app spent per transaction in
each ABCI call.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from portchain.bench.floor import MODES as FLOOR_MODES
from portchain.bench.load import percentile
from portchain.bench.solo import machine
from portchain.cli.net import LAN_CONFIG, PortchainNet
from portchain.kernel.crypto import SigningKey
from portchain.kernel.tx import Tx, sign
from portchain.node.home import Home
from portchain.node.presets import Member

if TYPE_CHECKING:
    from portchain.engines.cometbft.localnet import LocalNet

Load = list[list[bytes]]
"""Per validator, the transactions its submitting thread sends, in order."""

MakeLoad = Callable[[int], Load]
"""Makes the next ``n`` transactions (continuing each signer's sequence), split per validator."""

TICK = 0.05
"""Seconds between two batches of the paced phase (about: adjusted so the pace is exact)."""

BLOCK_LIMITS = {"block": {"max_bytes": str(1024 * 1024)}}
"""Consensus parameters of both networks: blocks of at most 1 MiB (about 2,500 transactions),
so neither app's throughput hinges on gossiping a single giant block."""

Groups = dict[str, list[int]]
"""Process ids by role ("cometbft", "app"), whose CPU time a phase accounts for."""

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of a running process so far (0 where /proc is absent)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def abci_cpu(metrics_urls: list[str]) -> dict[str, float]:
    """CPU seconds per ABCI method so far, summed over the apps (their /metrics)."""
    total: dict[str, float] = {}
    for url in metrics_urls:
        text = httpx.get(url, timeout=10).text
        for family in text_string_to_metric_families(text):
            if family.name == "portchain_abci_cpu_seconds":
                for sample in family.samples:
                    method = sample.labels["method"]
                    total[method] = total.get(method, 0.0) + sample.value
    return total


def cpu_snapshot(groups: Groups) -> dict[str, float]:
    """CPU seconds used so far by each group, and by this process (the load and the watcher)."""
    snapshot = {role: sum(_cpu_seconds(pid) for pid in pids) for role, pids in groups.items()}
    times = os.times()
    snapshot["load"] = times.user + times.system
    return snapshot


class Watcher:
    """Polls one node and records when each transaction is first seen in a committed block."""

    def __init__(self, rpc_url: str) -> None:
        self.client = httpx.Client(base_url=rpc_url, timeout=30)
        self.height = self._latest()
        self.seen: dict[bytes, float] = {}
        self.failed = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _latest(self) -> int:
        status = self.client.get("/status").json()["result"]
        return int(status["sync_info"]["latest_block_height"])

    def _run(self) -> None:
        while not self.stop.is_set():
            latest = self._latest()
            while self.height < latest:
                answer = self.client.get("/block_results", params={"height": self.height + 1})
                if "result" not in answer.json():
                    break  # stored, but its app has not committed it yet: look again shortly
                now = time.perf_counter()
                self.height += 1
                codes = [r.get("code", 0) for r in answer.json()["result"]["txs_results"] or []]
                self.failed += sum(1 for code in codes if code)
                block = self.client.get("/block", params={"height": self.height}).json()
                for tx in block["result"]["block"]["data"]["txs"] or []:
                    self.seen.setdefault(hashlib.sha256(base64.b64decode(tx)).digest(), now)
            time.sleep(0.02)
        self.client.close()


def _submit(
    rpc_url: str, txs: list[bytes], batch: int, interval: float, submitted: dict[bytes, float]
) -> int:
    """Send ``txs`` in batches (every ``interval`` s, or back to back); return RPC errors."""
    errors = 0
    started = time.perf_counter()
    with httpx.Client(base_url=rpc_url, timeout=60) as client:
        for n, start in enumerate(range(0, len(txs), batch)):
            if interval:
                time.sleep(max(0.0, started + n * interval - time.perf_counter()))
            chunk = txs[start : start + batch]
            body = [
                {
                    "jsonrpc": "2.0",
                    "id": i,
                    "method": "broadcast_tx_async",
                    "params": {"tx": base64.b64encode(tx).decode()},
                }
                for i, tx in enumerate(chunk)
            ]
            now = time.perf_counter()
            for tx in chunk:
                submitted[hashlib.sha256(tx).digest()] = now
            answers = client.post("/", json=body).json()
            errors += sum(
                1 for a in answers if a.get("error") or (a.get("result") or {}).get("code")
            )
    return errors


def drive(
    rpc_urls: list[str],
    load: Load,
    *,
    batch: int,
    interval: float,
    timeout: float,
    groups: Groups | None = None,
    metrics_urls: list[str] | None = None,
) -> dict[str, Any]:
    """Submit ``load`` (a list per validator) and wait until all of it is seen committed.

    With ``groups``, also the CPU time each group of processes spent per committed
    transaction over the phase (the machine's whole budget, when they share its cores); with
    ``metrics_urls`` (the apps' /metrics), what one app spent per transaction in each ABCI call.
    """
    total = sum(len(txs) for txs in load)
    cpu_before = cpu_snapshot(groups) if groups is not None else {}
    abci_before = abci_cpu(metrics_urls or [])
    watcher = Watcher(rpc_urls[0])
    submitted: dict[bytes, float] = {}
    errors: list[int] = []
    threads = [
        threading.Thread(
            target=lambda u=url, t=txs: errors.append(_submit(u, t, batch, interval, submitted))
        )
        for url, txs in zip(rpc_urls, load, strict=True)
    ]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    submit_seconds = time.perf_counter() - start
    deadline = time.monotonic() + timeout
    while len(watcher.seen) < total - sum(errors) and time.monotonic() < deadline:
        time.sleep(0.05)
    watcher.stop.set()
    watcher.thread.join()
    committed = {h: t for h, t in watcher.seen.items() if h in submitted}
    elapsed = max(committed.values(), default=start) - start
    latencies = [committed[h] - submitted[h] for h in committed]
    per_tx = max(1, len(committed))
    cpu_after = cpu_snapshot(groups) if groups is not None else {}
    cpu = {role: round((cpu_after[role] - cpu_before[role]) * 1e6 / per_tx) for role in cpu_after}
    abci_after = abci_cpu(metrics_urls or [])
    per_app = per_tx * max(1, len(metrics_urls or []))
    abci = {
        method: round((seconds - abci_before.get(method, 0.0)) * 1e6 / per_app, 1)
        for method, seconds in sorted(abci_after.items())
        if seconds > abci_before.get(method, 0.0)
    }
    return {
        "submitted": total,
        "rpc_errors": sum(errors),
        "committed": len(committed),
        "failed_in_block": watcher.failed,
        "submit_seconds": round(submit_seconds, 3),
        "seconds": round(elapsed, 3),
        "committed_tx_per_s": round(len(committed) / elapsed, 1) if elapsed > 0 else 0.0,
        "latency_p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
        "latency_p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        **({"cpu_us_per_tx": cpu} if groups is not None else {}),
        **({"app_abci_cpu_us_per_tx": abci} if metrics_urls else {}),
    }


def measure(
    rpc_urls: list[str],
    make_load: MakeLoad,
    *,
    txs: int,
    batch: int,
    pace: float,
    paced_seconds: float,
    timeout: float,
    groups: Groups | None = None,
    metrics_urls: list[str] | None = None,
) -> dict[str, Any]:
    """The latency phase at ``pace`` tx/s on the fresh network, then the throughput phase."""
    per_tick = max(1, math.ceil(pace * TICK / len(rpc_urls)))
    interval = per_tick * len(rpc_urls) / pace
    ticks = max(1, round(paced_seconds / interval))
    paced = drive(
        rpc_urls,
        make_load(per_tick * ticks * len(rpc_urls)),
        batch=per_tick,
        interval=interval,
        timeout=timeout,
    )
    paced["offered_tx_per_s"] = round(per_tick * len(rpc_urls) / interval, 1)
    burst = drive(
        rpc_urls,
        make_load(txs),
        batch=batch,
        interval=0.0,
        timeout=timeout,
        groups=groups,
        metrics_urls=metrics_urls,
    )
    return {"latency": paced, "throughput": burst}


def _process_groups(net: LocalNet) -> Groups:
    """The network's CometBFT processes and its app processes."""
    return {
        "cometbft": [n.cometbft.pid for n in net.nodes if n.cometbft is not None],
        "app": [n.app.pid for n in net.nodes if n.app is not None],
    }


def _measure_network(
    net: LocalNet,
    make_load: MakeLoad,
    groups: Groups,
    *,
    metrics_urls: list[str] | None = None,
    **phases: Any,
) -> dict[str, Any]:
    """Once every node has committed height 2, :func:`measure` (``phases``: its settings)
    at all the nodes, and the height reached."""
    for index in range(len(net.nodes)):
        net.wait_for_height(index, 2, timeout=60)
    result = measure(
        [node.rpc_url for node in net.nodes],
        make_load,
        groups=groups,
        metrics_urls=metrics_urls,
        **phases,
    )
    result["blocks"] = net.status(0).height
    return result


def bench_cast(signers: int) -> tuple[Member, ...]:
    """The organisations whose admin keys sign the load (the first is a steward)."""
    return tuple(
        Member(f"BENCH{i:04d}", f"Bench Organisation {i}", "NL", ("shipper",), i == 0)
        for i in range(signers)
    )


def portchain_loader(home: Home, signers: int, validators: int) -> tuple[MakeLoad, list[int]]:
    """register_key transactions; signer s always enters at validator s mod N, in order."""
    chain_id = home.genesis().chain_id
    keys = [home.load_key(f"BENCH{i:04d}").key for i in range(signers)]
    seqs = [0] * signers
    sizes: list[int] = []
    counter = [0]

    def make(count: int) -> Load:
        load: Load = [[] for _ in range(validators)]
        for _ in range(count):
            n = counter[0]
            counter[0] += 1
            s = n % signers
            body = {
                "label": f"user{n}",
                "public_key": SigningKey.generate().public_key.hex(),
                "roles": ["shipper"],
            }
            raw = sign(
                Tx(chain_id, keys[s].key_id, seqs[s], "membership.register_key", body), keys[s]
            )
            seqs[s] += 1
            sizes.append(len(raw))
            load[s % validators].append(raw)
        return load

    return make, sizes


def run_portchain(
    root: Path,
    validators: int,
    *,
    txs: int,
    signers: int,
    batch: int,
    pace: float,
    paced_seconds: float,
    timeout: float,
) -> tuple[dict[str, Any], int]:
    """The portchain network; also returns the average transaction size, for kvstore's load."""
    net = PortchainNet.create(
        root,
        validators,
        chain_id="portchain-bench",
        cast=bench_cast(signers),
        consensus_params=BLOCK_LIMITS,
        log_level="*:error",
    )
    make, sizes = portchain_loader(Home(root), signers, validators)
    try:
        net.start_all()
        result = _measure_network(
            net.localnet,
            make,
            _process_groups(net.localnet),
            metrics_urls=[f"{node.api_url}/metrics" for node in net.nodes],
            txs=txs,
            batch=batch,
            pace=pace,
            paced_seconds=paced_seconds,
            timeout=timeout,
        )
    finally:
        net.down()
    return result, sum(sizes) // max(1, len(sizes))


def _bench_localnet(
    root: Path, validators: int, chain_id: str, extra: dict[tuple[str, str], Any] | None = None
) -> LocalNet:
    """A bare local network with the bench's block limits and ``portchain net``'s config."""
    from portchain.engines.cometbft._toml_edit import set_values
    from portchain.engines.cometbft.localnet import LocalNet

    net = LocalNet.create(
        root, validators, chain_id=chain_id, consensus_params=BLOCK_LIMITS, log_level="*:error"
    )
    for index in range(validators):
        config = net.node_home(index) / "config" / "config.toml"
        config.write_text(set_values(config.read_text(), {**LAN_CONFIG, **(extra or {})}))
    return net


def run_kvstore(
    root: Path,
    validators: int,
    *,
    txs: int,
    tx_bytes: int,
    batch: int,
    pace: float,
    paced_seconds: float,
    timeout: float,
) -> dict[str, Any]:
    """The same layout and load with CometBFT's built-in kvstore as every node's app."""
    net = _bench_localnet(root, validators, "kvstore-bench", {("", "proxy_app"): "kvstore"})
    counter = [0]

    def make(count: int) -> Load:
        load: Load = [[] for _ in range(validators)]
        for _ in range(count):
            key = b"bench%09d=" % counter[0]
            load[counter[0] % validators].append(key + b"v" * max(1, tx_bytes - len(key)))
            counter[0] += 1
        return load

    processes = [
        subprocess.Popen(  # CometBFT with its app in-process: there is no app process to wait for
            [str(net.binary), "start", "--home", str(net.node_home(i))],
            stdout=net.cometbft_log(i).open("ab"),
            stderr=subprocess.STDOUT,
        )
        for i in range(validators)
    ]
    try:
        result = _measure_network(
            net,
            make,
            {"cometbft": [process.pid for process in processes]},
            txs=txs,
            batch=batch,
            pace=pace,
            paced_seconds=paced_seconds,
            timeout=timeout,
        )
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
    return result


def run_floor(
    root: Path,
    validators: int,
    mode: str,
    *,
    signers: int,
    txs: int,
    batch: int,
    pace: float,
    paced_seconds: float,
    timeout: float,
) -> dict[str, Any]:
    """The same layout and load with a minimal Python app (``floor``) behind each node."""
    from portchain.node.presets import create_network

    keys_home = Home(root / "keys")
    create_network(keys_home, chain_id="portchain-bench", cast=bench_cast(signers))
    make, _ = portchain_loader(keys_home, signers, validators)
    keys_path = root / "keys.json"
    public_keys = {}
    for i in range(signers):
        key = keys_home.load_key(f"BENCH{i:04d}").key
        public_keys[key.key_id] = key.public_key.hex()
    keys_path.write_text(json.dumps(public_keys))
    net = _bench_localnet(root / "net", validators, "floor-bench")
    try:
        net.start_all([sys.executable, "-m", "portchain.bench.floor", mode, str(keys_path)])
        result = _measure_network(
            net,
            make,
            _process_groups(net),
            txs=txs,
            batch=batch,
            pace=pace,
            paced_seconds=paced_seconds,
            timeout=timeout,
        )
    finally:
        for index in range(validators):
            net.kill_node(index)
    return result


def run_bench(
    validators: int = 4,
    *,
    txs: int = 20_000,
    signers: int = 200,
    batch: int = 200,
    pace: float = 200.0,
    paced_seconds: float = 10.0,
    timeout: float = 300.0,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """The networks one after the other (portchain, kvstore, the floor apps), and the ratios of
    their committed rates."""
    say = progress or (lambda _: None)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="portchain-bench-cometbft-") as tmp:
        say(f"portchain on {validators} CometBFT validators...")
        portchain, tx_bytes = run_portchain(
            Path(tmp) / "portchain",
            validators,
            txs=txs,
            signers=signers,
            batch=batch,
            pace=pace,
            paced_seconds=paced_seconds,
            timeout=timeout,
        )
        say(f"kvstore on {validators} CometBFT validators...")
        kvstore = run_kvstore(
            Path(tmp) / "kvstore",
            validators,
            txs=txs,
            tx_bytes=tx_bytes,
            batch=batch,
            pace=pace,
            paced_seconds=paced_seconds,
            timeout=timeout,
        )
        floor: dict[str, Any] = {}
        for mode in FLOOR_MODES:  # after kvstore, on the same layout
            say(f"the {mode} Python app on {validators} CometBFT validators...")
            floor[mode] = run_floor(
                Path(tmp) / f"floor-{mode}",
                validators,
                mode,
                signers=signers,
                txs=txs,
                batch=batch,
                pace=pace,
                paced_seconds=paced_seconds,
                timeout=timeout,
            )
    rate = portchain["throughput"]["committed_tx_per_s"]
    base = kvstore["throughput"]["committed_tx_per_s"]
    floor_rates = {mode: run["throughput"]["committed_tx_per_s"] for mode, run in floor.items()}
    return {
        "benchmark": "cometbft",
        "machine": machine(),
        "params": {
            "validators": validators,
            "txs": txs,
            "signers": signers,
            "batch": batch,
            "tx_bytes": tx_bytes,
            "pace_tx_per_s": pace,
            "paced_seconds": paced_seconds,
        },
        "portchain": portchain,
        "kvstore": kvstore,
        "floor": floor,
        "portchain_over_kvstore": _ratio(rate, base),
        "floor_over_kvstore": {mode: _ratio(r, base) for mode, r in floor_rates.items()},
        "portchain_over_floor": {mode: _ratio(rate, r) for mode, r in floor_rates.items()},
    }


def _ratio(rate: float, base: float) -> float | None:
    return round(rate / base, 3) if base else None
