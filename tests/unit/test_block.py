"""Transaction roots, header hashes and validator commits (``kernel.block``)."""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portchain.kernel import codec
from portchain.kernel.block import EMPTY_ROOT, Block, Commit, Header, Signature, merkle_root
from portchain.kernel.crypto import COMMIT_DOMAIN, TX_DOMAIN, SigningKey


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def rfc6962_root(leaves: list[bytes]) -> bytes:
    """RFC 6962 section 2.1 Merkle Tree Hash, written from the RFC (split at a power of two)."""
    if len(leaves) == 1:
        return sha(b"\x00" + leaves[0])
    split = 1
    while split * 2 < len(leaves):
        split *= 2
    return sha(b"\x01" + rfc6962_root(leaves[:split]) + rfc6962_root(leaves[split:]))


LEAVES = [b"tx-%d" % i for i in range(9)]


# -- merkle_root ---------------------------------------------------------------


def test_empty_root_is_zeros() -> None:
    assert merkle_root([]) == EMPTY_ROOT == bytes(32)


def test_single_leaf_root_is_its_leaf_hash() -> None:
    assert merkle_root([b"a"]) == sha(b"\x00a")


def test_two_leaves() -> None:
    assert merkle_root([b"a", b"b"]) == sha(b"\x01" + sha(b"\x00a") + sha(b"\x00b"))


@pytest.mark.parametrize("n", range(1, 18))
def test_root_matches_rfc6962(n: int) -> None:
    leaves = [b"leaf %d" % i for i in range(n)]
    assert merkle_root(leaves) == rfc6962_root(leaves)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.binary(max_size=40), min_size=1, max_size=40))
def test_root_matches_rfc6962_on_any_leaves(leaves: list[bytes]) -> None:
    assert merkle_root(leaves) == rfc6962_root(leaves)


@pytest.mark.parametrize("n", [2, 3, 4, 5, 8, 9])
def test_root_depends_on_order(n: int) -> None:
    leaves = LEAVES[:n]
    root = merkle_root(leaves)
    assert merkle_root(leaves[::-1]) != root
    assert merkle_root([leaves[1], leaves[0], *leaves[2:]]) != root
    assert merkle_root([*leaves[:-2], leaves[-1], leaves[-2]]) != root


@pytest.mark.parametrize("n", range(1, 9))
def test_root_depends_on_every_leaf_and_the_count(n: int) -> None:
    leaves = LEAVES[:n]
    root = merkle_root(leaves)
    for i in range(n):
        changed = list(leaves)
        changed[i] += b"!"
        assert merkle_root(changed) != root
    assert merkle_root([*leaves, leaves[-1]]) != root  # no duplicate-last-leaf ambiguity
    assert merkle_root(leaves[:-1]) != root


def test_an_inner_node_cannot_pass_for_a_leaf() -> None:
    inner_preimage = sha(b"\x00a") + sha(b"\x00b")
    assert merkle_root([inner_preimage]) != merkle_root([b"a", b"b"])


# -- headers and blocks ----------------------------------------------------------

HEADER = Header(
    chain_id="port-of-rotterdam",
    height=12,
    time_ms=1_700_000_000_000,
    prev_hash=sha(b"block 11"),
    tx_root=merkle_root([b"tx"]),
    app_hash=sha(b"state after 11"),
    proposer="ab" * 20,
)


def test_header_hash_is_sha256_of_its_canonical_json() -> None:
    assert HEADER.encode() == codec.canonical(HEADER.as_dict())
    assert HEADER.hash == sha(HEADER.encode())
    assert HEADER.encode().startswith(b'{"app_hash":"' + HEADER.app_hash.hex().encode())


def test_header_dict_round_trip() -> None:
    again = Header.from_dict(codec.decode(HEADER.encode(), max_bytes=10_000))
    assert again == HEADER
    assert again.hash == HEADER.hash


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("chain_id", "port-of-antwerp"),
        ("height", 13),
        ("time_ms", 1_700_000_000_001),
        ("prev_hash", sha(b"block 11'")),
        ("tx_root", merkle_root([b"tx", b"tx2"])),
        ("app_hash", sha(b"another state")),
        ("proposer", "cd" * 20),
    ],
)
def test_header_hash_changes_with_every_field(field: str, value: Any) -> None:
    assert dataclasses.replace(HEADER, **{field: value}).hash != HEADER.hash


def test_every_header_field_is_hashed() -> None:
    assert {f.name for f in dataclasses.fields(Header)} == set(HEADER.as_dict())


def test_block_build_commits_to_its_transactions() -> None:
    txs = [b'{"sig":"1"}', b'{"sig":"2"}']
    common: dict[str, Any] = {
        "chain_id": "port",
        "height": 1,
        "time_ms": 5,
        "prev_hash": bytes(32),
        "app_hash": bytes(32),
        "proposer": "ab" * 20,
    }
    block = Block.build(**common, txs=txs)
    assert block.header.tx_root == merkle_root([sha(tx) for tx in txs])
    assert block.hash == block.header.hash
    assert block.txs == tuple(txs)
    assert Block.build(**common, txs=txs[::-1]).hash != block.hash
    assert Block.build(**common, txs=txs[:1]).hash != block.hash
    assert Block.build(**common, txs=[]).header.tx_root == EMPTY_ROOT


# -- commits ------------------------------------------------------------------

VALIDATORS = [SigningKey.from_seed(bytes([i]) * 32) for i in range(1, 5)]
POWERS = [10, 20, 30, 40]
VALIDATOR_SET = {
    key.key_id: (key.public_key, power) for key, power in zip(VALIDATORS, POWERS, strict=True)
}
UNSIGNED = Commit(
    chain_id="port",
    height=12,
    block_hash=HEADER.hash,
    app_hash=sha(b"state after 12"),
    results_hash=sha(b"results of 12"),
)


def signed(commit: Commit, keys: list[SigningKey]) -> Commit:
    for key in keys:
        commit = commit.signed_by(key)
    return commit


def test_voting_power_sums_the_signers() -> None:
    assert UNSIGNED.voting_power(VALIDATOR_SET) == 0
    assert signed(UNSIGNED, VALIDATORS[:1]).voting_power(VALIDATOR_SET) == 10
    assert signed(UNSIGNED, VALIDATORS[1:]).voting_power(VALIDATOR_SET) == 90
    assert signed(UNSIGNED, VALIDATORS).voting_power(VALIDATOR_SET) == 100


def test_signatures_cover_the_commit_under_the_commit_domain() -> None:
    commit = signed(UNSIGNED, VALIDATORS[:1])
    (sig,) = commit.signatures
    assert sig.validator == VALIDATORS[0].key_id
    assert sig.signature == VALIDATORS[0].sign(COMMIT_DOMAIN, UNSIGNED.sign_bytes())


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("app_hash", sha(b"a forged state")),
        ("block_hash", sha(b"another block")),
        ("results_hash", sha(b"other results")),
        ("height", 13),
        ("chain_id", "other-port"),
    ],
)
def test_tampered_commit_has_no_power(field: str, value: Any) -> None:
    commit = signed(UNSIGNED, VALIDATORS)
    forged = dataclasses.replace(commit, **{field: value})
    assert forged.signatures == commit.signatures
    assert forged.voting_power(VALIDATOR_SET) == 0


def test_duplicate_signatures_count_once() -> None:
    commit = signed(UNSIGNED, [VALIDATORS[3], VALIDATORS[3], VALIDATORS[3], VALIDATORS[0]])
    assert len(commit.signatures) == 4
    assert commit.voting_power(VALIDATOR_SET) == 50


def test_a_bad_signature_does_not_block_a_good_one_from_the_same_validator() -> None:
    good = signed(UNSIGNED, VALIDATORS[:1]).signatures[0]
    bad = Signature(good.validator, bytes(64))
    commit = dataclasses.replace(UNSIGNED, signatures=(bad, good, good))
    assert commit.voting_power(VALIDATOR_SET) == 10


def test_signatures_from_outside_the_validator_set_do_not_count() -> None:
    outsider = SigningKey.from_seed(b"\x09" * 32)
    assert signed(UNSIGNED, [outsider]).voting_power(VALIDATOR_SET) == 0


def test_a_signature_claimed_for_another_validator_does_not_count() -> None:
    real = signed(UNSIGNED, VALIDATORS[:1]).signatures[0]
    claimed = Signature(VALIDATORS[3].key_id, real.signature)  # 40 power, signed by the 10
    assert dataclasses.replace(UNSIGNED, signatures=(claimed,)).voting_power(VALIDATOR_SET) == 0


def test_validator_entry_must_match_its_key_id() -> None:
    # A set that maps validator 0's id to validator 1's public key is inconsistent.
    crossed = {VALIDATORS[0].key_id: (VALIDATORS[1].public_key, 10)}
    commit = signed(UNSIGNED, VALIDATORS[:2])
    assert commit.voting_power(crossed) == 0


def test_a_transaction_domain_signature_is_not_a_commit_vote() -> None:
    key = VALIDATORS[0]
    vote = Signature(key.key_id, key.sign(TX_DOMAIN, UNSIGNED.sign_bytes()))
    assert dataclasses.replace(UNSIGNED, signatures=(vote,)).voting_power(VALIDATOR_SET) == 0


def test_commit_dict_round_trip_keeps_its_power() -> None:
    commit = signed(UNSIGNED, VALIDATORS[:3])
    doc = codec.decode(codec.canonical(commit.as_dict()), max_bytes=10_000)
    again = Commit.from_dict(doc)
    assert again == commit
    assert again.voting_power(VALIDATOR_SET) == 60
