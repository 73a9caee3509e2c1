"""The ABCI adapter over a real App and SQLite, driven call by call as CometBFT drives it."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from portchain.app.app import App
from portchain.app.genesis import GenesisDoc
from portchain.engines.cometbft import proto
from portchain.engines.cometbft.adapter import (
    GenesisMismatchError,
    PortchainApplication,
    init_chain_request,
    timestamp_ms,
)
from portchain.engines.cometbft.engine import rebuild_error
from portchain.kernel import codec
from portchain.kernel.errors import SequenceError, UnknownKeyError
from portchain.kernel.smt import Proof, verify_proof
from portchain.storage.sqlite import Storage
from support import STEWARDS, Chain, make_genesis, seeded_key

pytestmark = pytest.mark.cometbft

abci = proto.load("abci")


def init_request(genesis: GenesisDoc, **changes: Any) -> Any:
    request = init_chain_request(genesis)
    request.chain_id = changes.get("chain_id", genesis.chain_id)
    request.app_state_bytes = changes.get("app_state", genesis.encode())
    request.time.FromMilliseconds(changes.get("time_ms", genesis.genesis_time_ms))
    return request


def block_request(height: int, time_ms: int, txs: list[bytes]) -> Any:
    request = abci.RequestFinalizeBlock(
        txs=txs,
        height=height,
        hash=codec.sha256(b"block %d" % height),
        proposer_address=b"\x01" * 20,
    )
    request.time.FromMilliseconds(time_ms)
    return request


@contextmanager
def solo_chain(path: Path) -> Iterator[Chain]:
    """The same genesis driven by the test chain (solo-style blocks), closed afterwards."""
    chain = Chain(path)
    try:
        yield chain
    finally:
        chain.close()


@pytest.fixture
def signer(tmp_path: Path) -> Iterator[Chain]:
    """A test chain used only to sign transactions with the next sequence numbers."""
    with solo_chain(tmp_path / "signer") as chain:
        yield chain


@pytest.fixture
def adapter(tmp_path: Path) -> PortchainApplication:
    app = PortchainApplication(App(Storage(tmp_path / "node.db")), genesis=make_genesis())
    app.init_chain(init_request(make_genesis()))
    return app


def test_init_chain_takes_the_genesis_from_app_state_and_is_idempotent(tmp_path: Path) -> None:
    genesis = make_genesis()
    storage = Storage(tmp_path / "node.db")
    adapter = PortchainApplication(App(storage), genesis=genesis)
    info = adapter.info(abci.RequestInfo(abci_version="2.0.0"))
    assert info.last_block_height == 0 and info.last_block_app_hash == b""
    first = adapter.init_chain(init_request(genesis)).app_hash
    again = adapter.init_chain(init_request(genesis)).app_hash  # a handshake sent it again
    with solo_chain(tmp_path / "solo") as solo:
        assert first == again == solo.app_hash
    assert storage.writer.meta("engine") == b"cometbft"
    with pytest.raises(RuntimeError, match="ABCI 1"):
        adapter.info(abci.RequestInfo(abci_version="1.0.0"))


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"chain_id": "other-chain"}, "chain id"),
        ({"time_ms": 1}, "genesis_time_ms"),
        ({"app_state": b""}, "no app_state"),
    ],
)
def test_init_chain_refuses_a_genesis_that_disagrees_with_cometbft(
    tmp_path: Path, change: dict[str, Any], problem: str
) -> None:
    adapter = PortchainApplication(App(Storage(tmp_path / "node.db")))
    with pytest.raises(GenesisMismatchError, match=problem):
        adapter.init_chain(init_request(make_genesis(), **change))


def test_check_tx_admits_refuses_with_portchain_codes_and_rechecks(
    adapter: PortchainApplication, signer: Chain
) -> None:
    chain = signer
    good = chain.sign(
        "BRIGHTWAVE",
        "membership.register_key",
        {"public_key": seeded_key("clerk").public_key.hex(), "roles": ["shipper"]},
    )
    assert adapter.check_tx(abci.RequestCheckTx(tx=good)).code == 0
    stranger = chain.sign(
        seeded_key("nobody"),
        "membership.register_key",
        {"public_key": "ab" * 32, "roles": ["shipper"]},
    )
    refused = adapter.check_tx(abci.RequestCheckTx(tx=stranger))
    assert (refused.codespace, refused.code) == ("tx", UnknownKeyError.code)
    assert json.loads(refused.info)["field"] == "tx.signer"
    garbage = adapter.check_tx(abci.RequestCheckTx(tx=b"not a transaction"))
    assert (garbage.codespace, garbage.code) == ("tx", 1)
    replay = chain.sign(
        "BRIGHTWAVE",
        "membership.register_key",
        {"public_key": "cd" * 32, "roles": ["shipper"]},
        seq=0,
    )
    adapter.finalize_block(block_request(1, make_genesis().genesis_time_ms + 1000, [good]))
    adapter.commit(abci.RequestCommit())
    recheck = adapter.check_tx(abci.RequestCheckTx(tx=replay, type=abci.RECHECK))
    assert (recheck.codespace, recheck.code) == ("tx", SequenceError.code)
    error = rebuild_error(recheck.codespace, recheck.code, recheck.log, "tx.seq")
    assert isinstance(error, SequenceError) and error.field == "tx.seq"


def test_proposals_drop_and_refuse_bytes_that_are_not_transactions(
    adapter: PortchainApplication, signer: Chain
) -> None:
    chain = signer
    txs = [
        chain.sign(
            "BRIGHTWAVE",
            "membership.register_key",
            {"public_key": seeded_key(f"k{i}").public_key.hex(), "roles": ["shipper"]},
        )
        for i in range(3)
    ]
    prepared = adapter.prepare_proposal(
        abci.RequestPrepareProposal(
            txs=[txs[0], b"junk", txs[1], txs[2]], max_tx_bytes=len(txs[0]) + len(txs[1])
        )
    )
    assert list(prepared.txs) == txs[:2]
    verdict = abci.ResponseProcessProposal
    assert adapter.process_proposal(abci.RequestProcessProposal(txs=txs)).status == verdict.ACCEPT
    assert (
        adapter.process_proposal(abci.RequestProcessProposal(txs=[txs[0], b"{}"])).status
        == verdict.REJECT
    )


def test_finalize_block_matches_the_solo_chain_and_commit_makes_it_durable(
    tmp_path: Path, adapter: PortchainApplication
) -> None:
    with solo_chain(tmp_path / "solo") as solo:
        txs = [
            solo.sign(
                "BRIGHTWAVE",
                "membership.register_key",
                {"public_key": seeded_key("clerk").public_key.hex(), "roles": ["shipper"]},
            ),
            solo.sign(
                "BRIGHTWAVE",
                "membership.register_key",
                {"public_key": "ee" * 32, "roles": ["bank"]},
            ),  # fails: role not held
        ]
        expected = solo.block(*txs)
    request = block_request(1, solo.time_ms, txs)
    answer = adapter.finalize_block(request)
    assert answer.app_hash == expected.app_hash
    assert [(r.code, r.codespace) for r in answer.tx_results] == [(0, ""), (5, "membership")]
    assert answer.tx_results[0].events[0].type == "membership.key_registered"
    assert adapter.app.info().height == 0  # FinalizeBlock persists nothing
    # A node that crashed here restarts and is handed the same block again by the handshake.
    restarted = PortchainApplication(App(adapter.app.storage))
    assert restarted.finalize_block(request).app_hash == expected.app_hash
    restarted.commit(abci.RequestCommit())
    info = restarted.info(abci.RequestInfo(abci_version="2.0.0"))
    assert (info.last_block_height, info.last_block_app_hash) == (1, expected.app_hash)
    stored = restarted.app.storage.writer.block(1)
    assert stored is not None and stored.hash == request.hash and stored.commit is None
    assert stored.header["time_ms"] == timestamp_ms(request.time)


def test_query_returns_the_value_and_a_proof_against_the_app_hash(
    adapter: PortchainApplication,
) -> None:
    answer = adapter.query(abci.RequestQuery(path="/state/membership/org/MERIDIAN", prove=True))
    assert answer.code == 0 and json.loads(answer.value)["id"] == "MERIDIAN"
    op = answer.proof_ops.ops[0]
    carried = json.loads(op.data)
    assert verify_proof(
        bytes.fromhex(carried["app_hash"]), op.key, answer.value, Proof.from_dict(carried["proof"])
    )
    absent = adapter.query(abci.RequestQuery(path="/state", data=b"membership/org/NOBODY"))
    assert absent.code == 0 and absent.value == b"" and absent.log == "absent"
    assert adapter.query(abci.RequestQuery(path="/nothing")).code != 0


def test_a_passed_validator_proposal_becomes_a_cometbft_validator_update(tmp_path: Path) -> None:
    validator = seeded_key("new validator")
    with solo_chain(tmp_path / "chain") as chain:
        proposal = chain.run(
            "SHEKOU-PORT",
            "membership.propose",
            {
                "kind": "set_validator",
                "org_id": "MERIDIAN",
                "power": 7,
                "validator_key": base64.b64encode(validator.public_key).decode(),  # CometBFT's form
            },
        )
        assert proposal.ok, proposal.log
        proposal_id = dict(proposal.events[0].attributes)["proposal"]
        votes = [
            chain.sign(s, "membership.vote", {"proposal_id": proposal_id, "vote": "yes"})
            for s in STEWARDS[:4]
        ]
        result = chain.block(*votes)
        assert chain.state("membership/validators") == {
            validator.public_key.hex(): {"org": "MERIDIAN", "power": 7}
        }
        removal = chain.run(
            "SHEKOU-PORT",
            "membership.propose",
            {
                "kind": "set_validator",
                "org_id": "MERIDIAN",
                "power": 0,
                "validator_key": seeded_key("not a validator").public_key.hex(),
            },
        )
        assert (removal.codespace, removal.code) == ("membership", 16)
    from portchain.engines.cometbft.adapter import validator_updates

    updates = validator_updates(result)
    assert [(u.pub_key.ed25519, u.power) for u in updates] == [(validator.public_key, 7)]
