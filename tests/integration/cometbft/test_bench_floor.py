"""The network bench's floor apps: minimal Python apps behind CometBFT, under portchain's load."""

from __future__ import annotations

from pathlib import Path

import pytest

from portchain.bench.cometbft import bench_cast, portchain_loader, run_floor
from portchain.bench.floor import NoopApplication, SignatureOnlyApplication
from portchain.engines.cometbft import proto
from portchain.kernel.crypto import SigningKey
from portchain.kernel.tx import Tx, sign
from portchain.node.home import Home
from portchain.node.presets import create_network

pytestmark = pytest.mark.cometbft


def _signed(key: SigningKey, seq: int = 0) -> bytes:
    body = {"label": "clerk", "public_key": SigningKey.generate().public_key.hex(), "roles": []}
    return sign(Tx("portchain-bench", key.key_id, seq, "membership.register_key", body), key)


def _check(app: SignatureOnlyApplication, raw: bytes) -> tuple[int, str]:
    answer = app.check_tx(proto.abci.RequestCheckTx(tx=raw, type=proto.abci.NEW))
    return answer.code, answer.log


def test_the_signature_app_admits_a_signed_transaction_and_refuses_any_other() -> None:
    key, stranger = SigningKey.generate(), SigningKey.generate()
    app = SignatureOnlyApplication({key.key_id: key.public_key})
    good = _signed(key)
    assert _check(app, good) == (0, "")

    # One signature byte changed: the canonical form still decodes, the check fails.
    at = good.index(b'"sig":"') + len(b'"sig":"')
    flipped = good[:at] + (b"1" if good[at : at + 1] == b"0" else b"0") + good[at + 1 :]
    code, log = _check(app, flipped)
    assert code != 0 and log.startswith("sig")
    code, log = _check(app, _signed(stranger))  # a key the app was not given
    assert code != 0 and log.startswith("sig")
    code, log = _check(app, b"not a transaction")
    assert code != 0 and log


def test_the_floor_apps_report_a_result_per_transaction_and_a_hash_for_every_block() -> None:
    # An empty block's answer must still encode to some bytes, or CometBFT reports its
    # results as missing and the bench's watcher never gets past it.
    app = NoopApplication()
    empty = app.finalize_block(proto.abci.RequestFinalizeBlock(height=7))
    assert empty.SerializeToString() != b""
    assert empty.app_hash == (7).to_bytes(8, "big")
    full = app.finalize_block(proto.abci.RequestFinalizeBlock(height=8, txs=[b"a", b"b"]))
    assert [result.code for result in full.tx_results] == [0, 0]


def test_a_floor_network_commits_all_of_portchains_load_and_costs_its_processes(
    tmp_path: Path, cometbft_binary: Path
) -> None:
    result = run_floor(
        tmp_path,
        2,
        "signature",
        signers=10,
        txs=400,
        batch=50,
        pace=100.0,
        paced_seconds=1.0,
        timeout=60.0,
    )
    burst = result["throughput"]
    assert burst["submitted"] == burst["committed"] == 400
    assert burst["rpc_errors"] == 0 and burst["failed_in_block"] == 0
    assert burst["committed_tx_per_s"] > 0
    # Every app checked the signatures: it spent CPU on them, beside CometBFT and the load.
    assert set(burst["cpu_us_per_tx"]) == {"cometbft", "app", "load"}
    assert burst["cpu_us_per_tx"]["app"] > 0
    assert result["latency"]["committed"] == result["latency"]["submitted"] > 0


def test_the_signature_app_refuses_the_load_of_a_signer_it_does_not_know(tmp_path: Path) -> None:
    # The same keys the floor network is given: the bench's cast, from a real portchain home.
    home = Home(tmp_path / "keys")
    create_network(home, chain_id="portchain-bench", cast=bench_cast(3))
    make, _ = portchain_loader(home, 3, 1)
    known = {}
    for i in range(2):  # the third signer is left out
        key = home.load_key(f"BENCH{i:04d}").key
        known[key.key_id] = key.public_key
    app = SignatureOnlyApplication(known)
    codes = [_check(app, raw)[0] for raw in make(6)[0]]
    assert codes == [0, 0, 1, 0, 0, 1]  # signers take turns: 0, 1, 2, 0, 1, 2
