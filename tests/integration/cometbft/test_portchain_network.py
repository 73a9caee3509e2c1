"""portchain on four real CometBFT validators: agreement, proofs, replay, crashes and halts.

One network serves the whole module (starting one takes seconds on two cores); the tests run in
file order, the disruptive ones last, and each leaves all four nodes running.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from portchain_net_helpers import (
    Load,
    Submitter,
    api,
    app_height,
    assert_agree,
    height,
    wait_until,
)
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from portchain.app.app import App
from portchain.app.genesis import load_genesis
from portchain.app.verify import verify_chain
from portchain.cli.main import app as cli
from portchain.cli.net import PortchainNet
from portchain.engines.cometbft import _process
from portchain.engines.cometbft.node_process import CRASH_ENV
from portchain.kernel.block import Block, Commit
from portchain.kernel.crypto import SigningKey
from portchain.kernel.tx import Tx, sign
from portchain.node.home import Home
from portchain.sdk.client import NodeError
from portchain.storage.sqlite import Reader, Storage, _connect

pytestmark = pytest.mark.cometbft

runner = CliRunner()


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory, cometbft_binary: Path) -> Iterator[PortchainNet]:
    home = tmp_path_factory.mktemp("net")
    network = PortchainNet.create(home, 4, chain_id="portchain-net-test")
    try:
        network.start_all()
        for index in range(4):
            network.localnet.wait_for_height(index, 2, timeout=60)
        yield network
    finally:
        network.down()


def committed_at(net: PortchainNet, index: int, tx_hash: str) -> dict[str, object]:
    with api(net, index) as client:
        return client.tx(tx_hash)


def test_four_validators_commit_and_a_transaction_sent_to_node_1_is_read_at_node_4(
    net: PortchainNet,
) -> None:
    first, fourth = Submitter(net, 0, "BRIGHTWAVE"), Submitter(net, 3, "MERIDIAN")
    outcome = first.send(wait=True)
    assert outcome["status"] == "committed", outcome
    seen = wait_until(
        "the transaction at node 4",
        lambda: (s := committed_at(net, 3, outcome["hash"]))["status"] == "committed" and s,
    )
    assert seen["height"] == outcome["height"]
    key_id = next(e for e in outcome["events"] if e["type"] == "membership.key_registered")
    with api(net, 3) as client:
        record = client.state(f"membership/key/{key_id['attributes']['key']}")["value"]
    assert record["org"] == "BRIGHTWAVE"
    for submitter in (first, fourth):
        for _ in range(3):
            submitter.send()
    for submitter in (first, fourth):
        last = submitter.hashes[-1]
        wait_until(
            "the last submission", lambda h=last: committed_at(net, 1, h)["status"] == "committed"
        )
        submitter.close()
    assert assert_agree(net, [0, 1, 2, 3]) >= outcome["height"]


def test_each_node_reports_its_apps_abci_calls_and_their_cpu_time(net: PortchainNet) -> None:
    def abci_metrics(index: int) -> dict[tuple[str, str], float]:
        text = httpx.get(f"{net.nodes[index].api_url}/metrics", timeout=10).text
        return {
            (sample.name, sample.labels["method"]): sample.value
            for family in text_string_to_metric_families(text)
            if family.name in ("portchain_abci_calls", "portchain_abci_cpu_seconds")
            for sample in family.samples
        }

    before = abci_metrics(2)
    outcome = Submitter(net, 0, "BRIGHTWAVE").send(wait=True)  # enters at node 1
    wait_until(
        "the transaction at node 3",
        lambda: committed_at(net, 2, outcome["hash"])["status"] == "committed",
    )
    after = abci_metrics(2)
    # Node 3 checked the gossiped transaction once, and executed and committed blocks.
    checks = ("portchain_abci_calls_total", "check_tx")
    assert after[checks] - before.get(checks, 0) >= 1
    for method in ("finalize_block", "commit"):
        assert (
            after[("portchain_abci_calls_total", method)]
            > before[("portchain_abci_calls_total", method)]
        )
    cpu = ("portchain_abci_cpu_seconds_total", "check_tx")
    assert after[cpu] > before.get(cpu, 0.0)


def test_a_refusal_at_check_tx_comes_back_with_portchain_code(net: PortchainNet) -> None:
    stranger = SigningKey.generate()
    with api(net, 2) as client:
        raw = sign(
            Tx(
                client.chain_id(),
                stranger.key_id,
                0,
                "membership.register_key",
                {"public_key": "ab" * 32, "roles": ["shipper"]},
            ),
            stranger,
        )
        with pytest.raises(NodeError) as refused:
            client.submit(raw, wait=False)
    assert (refused.value.problem["codespace"], refused.value.problem["code"]) == ("tx", 5)
    assert refused.value.status == 422


def test_a_node_api_serves_proofs_that_the_sdk_checks_against_genesis(
    net: PortchainNet,
) -> None:
    genesis = load_genesis(net.home / "genesis.json")
    with api(net, 1) as client:
        record = client.verified_state("membership/org/MERIDIAN", genesis=genesis)
        assert record["id"] == "MERIDIAN"
        assert client.verified_state("membership/org/NOBODY", genesis=genesis) is None


def test_a_proof_from_a_node_checks_offline_and_fails_when_altered(
    net: PortchainNet, tmp_path: Path
) -> None:
    bundle_path = tmp_path / "proof.json"
    genesis = str(net.home / "genesis.json")
    made = runner.invoke(
        cli,
        [
            "prove",
            "--home",
            str(net.app_home(2)),
            "--key",
            "membership/org/MERIDIAN",
            "--out",
            str(bundle_path),
        ],
    )
    assert made.exit_code == 0, made.output
    checked = runner.invoke(cli, ["check-proof", str(bundle_path), "--genesis", genesis])
    assert checked.exit_code == 0, checked.output
    result = json.loads(checked.stdout.strip().splitlines()[-1])
    assert result["valid"] and result["engine"] == "cometbft" and result["present"]
    assert result["signed_power"] * 3 > result["total_power"] * 2
    bundle = json.loads(bundle_path.read_text())

    def tampered(change: object) -> dict[str, object]:
        copy = json.loads(json.dumps(bundle))
        change(copy)  # type: ignore[operator]
        bundle_path.write_text(json.dumps(copy))
        answer = runner.invoke(cli, ["check-proof", str(bundle_path), "--genesis", genesis])
        assert answer.exit_code == 1, answer.output
        return json.loads(answer.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]

    carrier = "636172726965"  # "carrie" in hex, from "carrier"
    assert carrier in bundle["value"]
    value = tampered(lambda b: b.update(value=b["value"].replace(carrier, "62616e6b2020")))
    assert "Merkle proof" in value["problem"]
    header = tampered(lambda b: b["header"].update(app_hash="00" * 32))
    assert "do not hash" in header["problem"]

    def forge(b: dict) -> None:  # type: ignore[type-arg]
        for sig in b["commit"]["signatures"]:
            raw = bytearray(base64.b64decode(sig["signature"] or "AA=="))
            raw[0] ^= 1
            sig["signature"] = base64.b64encode(bytes(raw)).decode()

    assert "voting power" in tampered(forge)["problem"]


def test_two_transfers_of_one_bill_sent_to_two_nodes_exactly_one_succeeds(
    net: PortchainNet,
) -> None:
    """Two staff keys of the holder hand the same blank-endorsed bill to two different banks
    through two different nodes at once: every node agrees that one transfer happened."""
    from portchain.kernel.identifiers import iso6346_check_digit

    senders = {
        org: Submitter(net, 0, org)
        for org in ("SHEKOU-PORT", "SHEKOU-CT", "MERIDIAN", "BRIGHTWAVE")
    }

    def step(org: str, action: str, body: dict[str, object]) -> None:
        outcome = senders[org].send(wait=True, action=action, body=body)
        assert outcome["status"] == "committed" and not outcome.get("error"), (action, outcome)

    number = "NETU000001"
    number += str(iso6346_check_digit(number))
    step(
        "SHEKOU-PORT",
        "port.register_terminal",
        {"terminal_id": "CNSHK-SCT", "name": "Shekou SCT", "org": "SHEKOU-CT"},
    )
    step("MERIDIAN", "logistics.register_vessel", {"imo": "9321483", "name": "Star", "flag": "SG"})
    step(
        "MERIDIAN",
        "logistics.schedule_call",
        {
            "call_id": "NET-CALL-1",
            "imo": "9321483",
            "terminal": "CNSHK-SCT",
            "voyage": "001W",
            "planned_arrival_ms": 1_900_000_000_000,
            "planned_departure_ms": 1_900_086_400_000,
        },
    )
    step(
        "BRIGHTWAVE",
        "logistics.request_booking",
        {
            "reference": "NET-BK-1",
            "carrier": "MERIDIAN",
            "shipper": "BRIGHTWAVE",
            "vessel_call": "NET-CALL-1",
            "port_of_loading": "CNSHK",
            "port_of_discharge": "NLRTM",
            "equipment": [{"size_type": "22G1", "count": 1}],
        },
    )
    step("MERIDIAN", "logistics.confirm", {"reference": "NET-BK-1"})
    step("MERIDIAN", "logistics.register_container", {"number": number, "size_type": "22G1"})
    step("MERIDIAN", "logistics.assign_container", {"number": number, "reference": "NET-BK-1"})
    move = {"container": number, "terminal": "CNSHK-SCT", "empty_indicator": "LADEN"}
    step("SHEKOU-CT", "port.gate_in", move)
    step("SHEKOU-CT", "port.load", {**move, "call_id": "NET-CALL-1"})
    step(
        "MERIDIAN",
        "ebl.draft",
        {
            "reference": "NETBL1",
            "booking": "NET-BK-1",
            "form": "BLANK",
            "containers": [number],
            "cargo_description": "LED panels",
            "packages": 10,
            "gross_weight_kg": 900,
        },
    )
    step("BRIGHTWAVE", "ebl.approve", {"reference": "NETBL1", "version": 1})
    step("MERIDIAN", "ebl.issue", {"reference": "NETBL1"})
    clerk = SigningKey.generate()
    step(
        "BRIGHTWAVE",
        "membership.register_key",
        {"public_key": clerk.public_key.hex(), "roles": ["shipper"]},
    )
    for sender in senders.values():
        sender.close()

    admin = Home(net.home).load_key("BRIGHTWAVE").key
    with api(net, 1) as first, api(net, 3) as second:
        chain_id = first.chain_id()
        raws = [
            (
                first,
                sign(
                    Tx(
                        chain_id,
                        admin.key_id,
                        first.next_sequence(admin.key_id),
                        "ebl.transfer",
                        {"reference": "NETBL1", "to": "HOLLANDBANK"},
                    ),
                    admin,
                ),
            ),
            (
                second,
                sign(
                    Tx(
                        chain_id,
                        clerk.key_id,
                        0,
                        "ebl.transfer",
                        {"reference": "NETBL1", "to": "SZTRADEBANK"},
                    ),
                    clerk,
                ),
            ),
        ]
        outcomes: list[dict[str, object]] = [{}, {}]

        def submit(i: int) -> None:
            client, raw = raws[i]
            outcomes[i] = client.submit(raw, wait=True)

        threads = [threading.Thread(target=submit, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    succeeded = [o for o in outcomes if o.get("status") == "committed"]
    failed = [o for o in outcomes if o.get("status") == "failed"]
    assert len(succeeded) == 1 and len(failed) == 1, outcomes
    assert failed[0]["error"]["codespace"] == "ebl"  # type: ignore[index]
    assert failed[0]["error"]["code"] == 6  # type: ignore[index]  # not_the_holder
    winner = "HOLLANDBANK" if outcomes[0] is succeeded[0] else "SZTRADEBANK"
    top = max(int(o["height"]) for o in outcomes)  # type: ignore[call-overload]
    for index in range(4):
        wait_until(f"node {index} at height {top}", lambda i=index: app_height(net, i) >= top)
        with api(net, index, "BRIGHTWAVE") as client:
            bill = client.state("ebl/doc/NETBL1")["value"]
        assert bill["holder"] == winner, index
        assert [e["action"] for e in bill["chain"]] == ["ISSUE", "TRANSFER"]


def test_verify_replays_a_cometbft_nodes_database(net: PortchainNet) -> None:
    summary = verify_chain(net.app_home(1) / "data" / "portchain.db")
    assert summary.height >= 1 and summary.transactions >= 7


def test_solo_replays_the_same_blocks_to_the_same_app_hash_at_every_height(
    net: PortchainNet, tmp_path: Path
) -> None:
    top = app_height(net, 0)
    node_db = Reader(_connect(net.app_home(0) / "data" / "portchain.db"))
    solo = App(Storage(tmp_path / "solo.db"))
    solo.init_chain(load_genesis(net.home / "genesis.json"))
    validator = SigningKey.generate()
    with net.localnet.rpc(0) as rpc:
        for h in range(1, top + 1):
            stored = node_db.block(h)
            assert stored is not None
            raws = [base64.b64decode(tx) for tx in rpc.block(h)["block"]["data"]["txs"] or []]
            info = solo.info()
            block = Block.build(
                chain_id=info.chain_id,
                height=h,
                time_ms=stored.header["time_ms"],
                prev_hash=info.last_block_hash,
                app_hash=info.app_hash,
                proposer=validator.key_id,
                txs=raws,
            )
            result = solo.finalize_block(block)
            solo.commit(
                Commit(
                    info.chain_id, h, block.hash, result.app_hash, result.results_hash
                ).signed_by(validator)
            )
            assert result.app_hash == stored.app_hash, f"height {h}"
            assert result.results_hash == stored.results_hash, f"height {h}"
    assert top >= 2


def test_kill_9_one_of_four_under_load_then_it_catches_up(net: PortchainNet) -> None:
    submitters = [
        Submitter(net, i, org) for i, org in enumerate(("BRIGHTWAVE", "HOLLANDHOME", "PEARLFWD"))
    ]
    load = Load(submitters, rate=30)
    time.sleep(1.5)
    net.kill(3)
    before = height(net, 0)
    wait_until("blocks without node 4", lambda: height(net, 0) >= before + 4, timeout=20)
    time.sleep(1.5)
    submitted = load.finish()
    assert not load.errors, load.errors[:3]
    for tx_hash in submitted:
        wait_until(
            f"{tx_hash} committed",
            lambda h=tx_hash: committed_at(net, 0, h)["status"] == "committed",
        )
    net.start(3)
    target = app_height(net, 0)
    wait_until("node 4 caught up", lambda: app_height(net, 3) >= target, timeout=60)
    assert_agree(net, [0, 1, 2, 3], upto=target)
    for tx_hash in submitted:  # nothing that was reported committed is missing anywhere
        assert committed_at(net, 3, tx_hash)["status"] == "committed"
    for submitter in submitters:
        submitter.close()


def test_an_app_crash_between_finalize_block_and_commit_recovers(net: PortchainNet) -> None:
    crash_at = height(net, 2) + 4
    net.stop(2)
    net.start(2, env={CRASH_ENV: str(crash_at)})
    app_process = net.localnet.nodes[2].app
    wait_until("the app to crash", lambda: not _process.is_alive(app_process), timeout=30)
    reader = Reader(_connect(net.app_home(2) / "data" / "portchain.db"))
    assert reader.height() == crash_at - 1  # nothing of the crashed block was persisted
    net.kill(2)  # CometBFT stops by itself when its app goes; make sure
    net.start(2)  # CometBFT's handshake replays block crash_at into the restarted app
    target = app_height(net, 0)
    wait_until("node 3 caught up", lambda: app_height(net, 2) >= target, timeout=60)
    assert_agree(net, [0, 1, 2, 3], upto=target)


def test_two_of_four_stopped_stops_the_chain_and_it_resumes_when_they_return(
    net: PortchainNet,
) -> None:
    net.stop(2)
    net.stop(3)
    time.sleep(1.0)  # a block that was already decided may still land
    halted = height(net, 0)
    submitter = Submitter(net, 0, "HOLLANDBANK")
    outcome = submitter.send()
    time.sleep(2.5)
    assert height(net, 0) == halted and height(net, 1) == halted
    assert committed_at(net, 0, outcome["hash"])["status"] == "pending"
    net.start(2)
    net.start(3)
    wait_until("the chain to resume", lambda: height(net, 0) >= halted + 3, timeout=30)
    wait_until(
        "the waiting transaction",
        lambda: committed_at(net, 0, outcome["hash"])["status"] == "committed",
    )
    submitter.close()
    assert_agree(net, [0, 1, 2, 3])
