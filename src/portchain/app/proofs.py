"""Proof bundles: a fact from the ledger that an outsider can check offline.

A bundle holds one state key, its value (or the claim that it is absent), the
Merkle proof of that against the app hash, the block header, and the block's
commit: the validators' signatures over the block hash and the app hash it led
to. :func:`check_bundle` needs only the bundle and the genesis document (for
the chain id and the validator set), never the node that served it.
"""

from __future__ import annotations

from typing import Any

from portchain.app.genesis import GenesisDoc
from portchain.kernel import codec
from portchain.kernel.block import Commit, Header
from portchain.kernel.smt import Proof, verify_proof
from portchain.storage.sqlite import Reader

BUNDLE_VERSION = 1


class ProofError(Exception):
    """The bundle does not prove what it claims; the message says which check failed."""


def make_bundle(reader: Reader, chain_id: str, key: str) -> dict[str, Any]:
    """A bundle proving ``key``'s value (or absence) at the last committed block."""
    with reader.snapshot():
        height = reader.height()
        block = reader.block(height) if height else None
        if block is None or block.commit is None:
            raise ProofError("no signed block is committed yet; submit a transaction first")
        proof = reader.tree().prove(codec.sha256(key.encode()))
        value = reader.get(key)
    return {
        "version": BUNDLE_VERSION,
        "chain_id": chain_id,
        "height": height,
        "key": key,
        "value": None if value is None else value.hex(),
        "proof": proof.as_dict(),
        "header": block.header,
        "commit": block.commit,
    }


def check_bundle(bundle: dict[str, Any], genesis: GenesisDoc) -> dict[str, Any]:
    """Check ``bundle`` against ``genesis``; return what it proves or raise :class:`ProofError`.

    A bundle from a CometBFT network (``"engine": "cometbft"``) carries CometBFT's header and
    commit instead of a solo commit; the engine's light client checks it.
    """
    if isinstance(bundle, dict) and bundle.get("engine") == "cometbft":
        from portchain.engines.cometbft.light import check_cometbft_bundle

        return check_cometbft_bundle(bundle, genesis)
    try:
        if bundle.get("version") != BUNDLE_VERSION:
            raise ProofError(f"unknown bundle version {bundle.get('version')!r}")
        key = bundle["key"]
        value = None if bundle["value"] is None else bytes.fromhex(bundle["value"])
        proof = Proof.from_dict(bundle["proof"])
        header = Header.from_dict(bundle["header"])
        commit = Commit.from_dict(bundle["commit"])
    except ProofError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ProofError(f"the bundle is malformed: {exc!r}") from None
    chain_id = genesis.chain_id
    if (
        bundle.get("chain_id") != chain_id
        or header.chain_id != chain_id
        or commit.chain_id != chain_id
    ):
        raise ProofError(f"the bundle is not for chain {chain_id}")
    if not (header.height == commit.height == bundle.get("height")):
        raise ProofError("header, commit and bundle disagree on the height")
    if header.hash != commit.block_hash:
        raise ProofError("the header's hash is not the block hash the validators signed")
    validators = genesis.validator_set()
    total = sum(power for _, power in validators.values())
    signed = commit.voting_power(validators)
    if signed * 3 <= total * 2:
        raise ProofError(
            f"validators with {signed} of {total} voting power signed; more than 2/3 is needed"
        )
    if not verify_proof(commit.app_hash, key.encode(), value, proof):
        raise ProofError("the Merkle proof does not match the signed app hash")
    return {
        "valid": True,
        "chain_id": chain_id,
        "height": header.height,
        "key": key,
        "present": value is not None,
        "value": None if value is None else value.decode("utf-8", "replace"),
        "app_hash": commit.app_hash.hex(),
        "signed_power": signed,
        "total_power": total,
    }
