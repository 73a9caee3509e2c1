"""``portchain bench --ebl``: bill of lading transfers per second, and checking a proof offline.

On a fresh network in a temporary home (the demo cast):

1. **Set-up** (not timed): ``bills`` shipments straight on the real App over SQLite, each a
   booking, a container gated in and loaded at Shekou, and a blank-endorsed bill of lading
   drafted, approved and issued to the exporter (nine transactions a bill).
2. **Transfers per second** through the solo engine: the embedded node then commits
   ``transfers`` signed ``ebl.transfer`` transactions (full mempool check, signature verified
   in the checker process, executed and committed to SQLite), in rounds: each round moves
   every bill one step along a ring of five holders (exporter, its bank, the buyer's bank,
   the importer, the forwarder), so each transfer depends on the one before it. Submitted in
   order from one client thread, in batches; timed from the first submission to the last
   commit. Signing happens before the clock starts.
3. **Proof check offline**: a proof bundle of one bill's record (status, holder, chain) from
   the node's database, checked by :func:`portchain.app.proofs.check_bundle` against the
   genesis (``samples`` times: p50, p99), and by the ``portchain check-proof`` command in a
   fresh process (five times: wall time, Python's start-up included).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from portchain.bench.load import TimedLoad, percentile
from portchain.bench.port import _at, container_number, setup_steps
from portchain.bench.solo import machine
from portchain.kernel.crypto import SigningKey
from portchain.kernel.tx import Tx, sign
from portchain.node.home import Home
from portchain.node.presets import DEMO_CAST, create_network

CHAIN_ID = "portchain-ebl-bench"
SHEKOU = "CNSHK-SCT"
RING = ("BRIGHTWAVE", "SZTRADEBANK", "HOLLANDBANK", "HOLLANDHOME", "PEARLFWD")
"""The holders a bill goes round: it is issued to the first."""
SETUP_ORGS = ("SHEKOU-PORT", "RTM-PORT", "MERIDIAN", "SHEKOU-CT", "BRIGHTWAVE")

Progress = Callable[[str], None]


def _reference(n: int) -> str:
    return f"BENCH{n:07d}"


def _shipment(n: int, call_id: str) -> list[list[tuple[str, str, dict[str, Any]]]]:
    """Bill ``n``'s set-up, phase by phase (each phase's steps for many bills share blocks)."""
    booking, number = f"BB-{n:07d}", container_number(n, "EBLU")
    return [
        [
            (
                "BRIGHTWAVE",
                "logistics.request_booking",
                {
                    "reference": booking,
                    "carrier": "MERIDIAN",
                    "shipper": "BRIGHTWAVE",
                    "vessel_call": call_id,
                    "port_of_loading": "CNSHK",
                    "port_of_discharge": "NLRTM",
                    "equipment": [{"size_type": "22G1", "count": 1}],
                },
            )
        ],
        [
            ("MERIDIAN", "logistics.confirm", {"reference": booking}),
            ("MERIDIAN", "logistics.register_container", {"number": number, "size_type": "22G1"}),
        ],
        [("MERIDIAN", "logistics.assign_container", {"number": number, "reference": booking})],
        [("SHEKOU-CT", "port.gate_in", _at(number, SHEKOU, "LADEN"))],
        [("SHEKOU-CT", "port.load", _at(number, SHEKOU, "LADEN", call_id=call_id))],
        [
            (
                "MERIDIAN",
                "ebl.draft",
                {
                    "reference": _reference(n),
                    "booking": booking,
                    "form": "BLANK",
                    "containers": [number],
                    "cargo_description": "LED panels",
                    "packages": 100,
                    "gross_weight_kg": 2_000,
                },
            )
        ],
        [("BRIGHTWAVE", "ebl.approve", {"reference": _reference(n), "version": 1})],
        [("MERIDIAN", "ebl.issue", {"reference": _reference(n)})],
    ]


def _set_up(home: Home, bills: int, progress: Progress) -> dict[str, int]:
    """The bills, issued; returns each set-up signer's next sequence number."""
    from portchain.bench.direct import DirectChain

    genesis = create_network(
        home, chain_id=CHAIN_ID, cast=DEMO_CAST, genesis_time_ms=1_790_000_000_000
    )
    chain = DirectChain(home, genesis)
    keys = {org: home.load_key(org).key for org in SETUP_ORGS}
    seqs = dict.fromkeys(SETUP_ORGS, 0)

    def signed(org: str, action: str, body: dict[str, Any]) -> bytes:
        raw = sign(Tx(CHAIN_ID, keys[org].key_id, seqs[org], action, body), keys[org])
        seqs[org] += 1
        return raw

    def run(raws: list[bytes]) -> None:
        for start in range(0, len(raws), 1000):
            for result in chain.run_block(raws[start : start + 1000]).tx_results:
                if not result.ok:
                    raise RuntimeError(f"the bench's set-up failed: {result.log}")

    for org, action, body in setup_steps():
        run([signed(org, action, body)])
    call_id = "PB-" + SHEKOU
    progress(f"setting up {bills:,} issued bills of lading")
    plans = [_shipment(n, call_id) for n in range(bills)]
    for phase in range(len(plans[0])):
        run([signed(*step) for plan in plans for step in plan[phase]])
    chain.close()
    return seqs


def transfers_per_second(
    home: Home, bills: int, transfers: int, batch: int, progress: Progress
) -> dict[str, Any]:
    from portchain.engines.solo import SoloConfig
    from portchain.node.node import Node

    seqs = _set_up(home, bills, progress)
    keys: dict[str, SigningKey] = {org: home.load_key(org).key for org in RING}
    next_seq = {org: seqs.get(org, 0) for org in RING}
    rounds = max(1, transfers // bills)
    raws: list[bytes] = []
    for r in range(rounds):
        holder, to = RING[r % len(RING)], RING[(r + 1) % len(RING)]
        for n in range(bills):
            body = {"reference": _reference(n), "to": to}
            raws.append(
                sign(
                    Tx(CHAIN_ID, keys[holder].key_id, next_seq[holder], "ebl.transfer", body),
                    keys[holder],
                )
            )
            next_seq[holder] += 1
    node = Node(home, SoloConfig(block_interval=0.2, max_block_txs=2000, mempool_size=20_000))
    node.start()
    try:
        load = TimedLoad(node, raws)
        progress(f"committing {len(raws):,} transfers ({rounds} rounds over {bills:,} bills)")
        load.run([raws], batch)  # one client: a round's transfers follow the round before
    finally:
        node.stop()
    return {
        "bills": bills,
        "transfers": len(raws),
        "rounds": rounds,
        **load.result("committed_transfers_per_s"),
    }


def proof_check(home: Home, samples: int) -> dict[str, Any]:
    from portchain.app.genesis import load_genesis
    from portchain.app.proofs import check_bundle, make_bundle
    from portchain.modules.ebl import store
    from portchain.storage.sqlite import Reader, _connect

    reader = Reader(_connect(home.db_path))
    bundle = make_bundle(reader, CHAIN_ID, store.DOC + _reference(0))
    genesis_path = home.path / "genesis.json"
    genesis = load_genesis(genesis_path)
    times = []
    for _ in range(samples):
        t0 = time.perf_counter()
        result = check_bundle(bundle, genesis)
        times.append(time.perf_counter() - t0)
        assert result["valid"]
    path = home.path / "bill-proof.json"
    path.write_text(json.dumps(bundle))
    command = [
        sys.executable,
        "-m",
        "portchain.cli.main",
        "check-proof",
        str(path),
        "--genesis",
        str(genesis_path),
    ]
    walls = []
    for _ in range(5):
        t0 = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        walls.append(time.perf_counter() - t0)
        if done.returncode != 0:
            raise RuntimeError(f"check-proof refused the bundle: {done.stdout} {done.stderr}")
    title = json.loads(done.stdout.strip().splitlines()[-1])["title"]
    return {
        "bundle_bytes": len(json.dumps(bundle)),
        "chain_entries": title["chain_length"],
        "holder": title["holder"],
        "check_bundle_p50_ms": round(percentile(times, 0.5) * 1000, 2),
        "check_bundle_p99_ms": round(percentile(times, 0.99) * 1000, 2),
        "check_proof_command_median_s": round(sorted(walls)[2], 3),
        "samples": samples,
    }


def run_ebl_bench(
    bills: int = 1_000,
    transfers: int = 20_000,
    batch: int = 200,
    samples: int = 200,
    progress: Progress = print,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="portchain-ebl-bench-") as tmp:
        home = Home(Path(tmp) / "home")
        moves = transfers_per_second(home, bills, transfers, batch, progress)
        proofs = proof_check(home, samples)
    return {
        "machine": machine(),
        "command": f"portchain bench --ebl --bills {bills} --txs {transfers}",
        "transfers": moves,
        "proof": proofs,
    }
