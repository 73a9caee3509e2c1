"""Governance drives CometBFT's validator set: a voted-in validator signs, a voted-out one stops."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from portchain_net_helpers import Submitter, assert_agree, height, wait_until

from portchain.cli.net import PortchainNet
from portchain.node.presets import DEMO_CAST

pytestmark = pytest.mark.cometbft

STEWARDS = tuple(m.id for m in DEMO_CAST if m.steward)


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory, cometbft_binary: Path) -> Iterator[PortchainNet]:
    """Four validators and a fifth node that follows the chain without a vote."""
    network = PortchainNet.create(
        tmp_path_factory.mktemp("net"), 4, full_nodes=1, chain_id="portchain-validators"
    )
    try:
        network.start_all()
        for index in range(5):
            network.localnet.wait_for_height(index, 2, timeout=60)
        yield network
    finally:
        network.down()


def validator_addresses(net: PortchainNet, at: int | None = None) -> set[str]:
    with net.localnet.rpc(0) as rpc:
        params = {} if at is None else {"height": str(at)}
        return {v["address"] for v in rpc.call("validators", **params)["validators"]}


def signers_of(net: PortchainNet, at: int) -> set[str]:
    """Validators whose signature for block ``at`` is in its commit."""
    with net.localnet.rpc(0) as rpc:
        commit = rpc.call("commit", height=str(at))["signed_header"]["commit"]
    return {s["validator_address"] for s in commit["signatures"] if s["block_id_flag"] == 2}


def decide(net: PortchainNet, org: str, public_key: bytes, power: int) -> int:
    """Propose ``public_key`` at ``power`` for ``org`` and have four stewards pass it."""
    proposer = Submitter(net, 0, STEWARDS[0])
    proposed = proposer.send(
        wait=True,
        action="membership.propose",
        body={
            "kind": "set_validator",
            "org_id": org,
            "power": power,
            "validator_key": base64.b64encode(public_key).decode(),
        },
    )
    assert proposed["status"] == "committed", proposed
    proposal = next(e for e in proposed["events"] if e["type"] == "membership.proposal_created")
    outcome: dict[str, object] = {}
    for index, steward in enumerate(STEWARDS[:4]):
        voter = proposer if index == 0 else Submitter(net, index % 4, steward)
        body = {"proposal_id": proposal["attributes"]["proposal"], "vote": "yes"}
        outcome = voter.send(wait=True, action="membership.vote", body=body)
        assert outcome["status"] == "committed", outcome
        if voter is not proposer:
            voter.close()
    proposer.close()
    events = outcome["events"]
    assert isinstance(events, list)
    updated = [e for e in events if e["type"] == "membership.validator_updated"]
    assert updated and updated[0]["attributes"]["power"] == power
    return int(str(outcome["height"]))


def test_a_validator_voted_in_signs_blocks_and_one_voted_out_stops(net: PortchainNet) -> None:
    newcomer = net.validator_key(4)
    address = hashlib.sha256(newcomer).hexdigest()[:40].upper()
    assert address not in validator_addresses(net)

    added_at = decide(net, net.nodes[4].org, newcomer, 10)
    # CometBFT applies an update from block H at H+2; the newcomer then votes on every block.
    wait_until("the newcomer in the validator set", lambda: address in validator_addresses(net))
    wait_until(
        "a block the newcomer signed",
        lambda: address in signers_of(net, height(net, 0) - 1),
        timeout=30,
    )
    assert address not in validator_addresses(net, added_at + 1)

    removed_at = decide(net, net.nodes[4].org, newcomer, 0)
    wait_until("the newcomer out of the set", lambda: address not in validator_addresses(net))
    later = height(net, 0)
    wait_until("more blocks", lambda: height(net, 0) >= later + 3)
    for at in range(removed_at + 3, height(net, 0)):
        assert address not in signers_of(net, at)
    assert_agree(net, [0, 1, 2, 3, 4])
