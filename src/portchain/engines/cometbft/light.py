"""Light-client proofs from a CometBFT network: a state fact an outsider checks offline.

A bundle proves one state key's value (or absence) after block ``H`` with three things:

1. portchain's Merkle proof of the key against the app hash after ``H``;
2. CometBFT's header of block ``H+1``, which carries that app hash (a header always carries the
   app hash of the block before it). The checker recomputes the header's hash from its fields,
   exactly as CometBFT does (a Merkle tree over the protobuf encoding of each field), so no
   field can be altered without changing the hash;
3. the commit of block ``H+1``: the validators' Ed25519 signatures over that hash. Each is
   checked over the bytes a CometBFT validator signs (a length-delimited protobuf
   ``CanonicalVote``, from the generated bindings), and the signers must hold more than two
   thirds of the voting power of the trusted validator set: the one in the genesis, or one
   the checker passes in.

The bundle needs nothing from the node that served it; ``check_cometbft_bundle`` needs only the
bundle and the genesis (or a trusted validator set).
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from pathlib import Path
from typing import Any

import httpx
from google.protobuf import timestamp_pb2, wrappers_pb2
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from portchain.app.genesis import GenesisDoc
from portchain.app.proofs import ProofError
from portchain.engines.cometbft import proto
from portchain.engines.cometbft._wire import encode_uvarint
from portchain.engines.cometbft.rpc import CometRpc, RpcError
from portchain.kernel import codec
from portchain.kernel.smt import Proof, verify_proof
from portchain.storage.sqlite import Reader

BUNDLE_VERSION = 1
ENGINE = "cometbft"
ENGINE_FILE = Path("data") / "cometbft.json"
"""Where a CometBFT node's app records its node's RPC address in its home (node_process)."""

BLOCK_ID_FLAG_COMMIT = 2
"""A commit signature for the block (CometBFT's ``BlockIDFlagCommit``); others do not count."""

Validators = dict[bytes, tuple[bytes, int]]
"""Validator address (first 20 bytes of SHA-256 of the key) -> (Ed25519 public key, power)."""


class LightProofError(ProofError):
    """The bundle does not prove what it claims; the message says which check failed."""


# -- the bytes CometBFT hashes and signs ------------------------------------------------------
def _merkle_root(items: list[bytes]) -> bytes:
    """CometBFT's ``merkle.HashFromByteSlices``: RFC 6962 leaves and nodes, split at a power
    of two."""
    if not items:
        return hashlib.sha256(b"").digest()
    if len(items) == 1:
        return hashlib.sha256(b"\x00" + items[0]).digest()
    split = 1
    while split * 2 < len(items):
        split *= 2
    left, right = _merkle_root(items[:split]), _merkle_root(items[split:])
    return hashlib.sha256(b"\x01" + left + right).digest()


def _timestamp(text: str) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromJsonString(text)
    return stamp


def _hex(text: str) -> bytes:
    return bytes.fromhex(text)


def _block_id(data: dict[str, Any]) -> bytes:
    """A ``BlockID`` as CometBFT encodes it (its part-set header is always present)."""
    message = proto.types_types.BlockID(hash=_hex(data["hash"]))
    message.part_set_header.SetInParent()
    message.part_set_header.total = int(data["parts"]["total"])
    message.part_set_header.hash = _hex(data["parts"]["hash"])
    return bytes(message.SerializeToString())


def header_hash(header: dict[str, Any]) -> bytes:
    """The hash of a header in CometBFT's JSON form (RPC ``/commit``), computed from its fields."""
    version = proto.version.Consensus(
        block=int(header["version"]["block"]), app=int(header["version"].get("app", 0))
    )

    def hashed(name: str) -> bytes:
        return bytes(wrappers_pb2.BytesValue(value=_hex(header[name])).SerializeToString())

    return _merkle_root(
        [
            version.SerializeToString(),
            wrappers_pb2.StringValue(value=header["chain_id"]).SerializeToString(),
            wrappers_pb2.Int64Value(value=int(header["height"])).SerializeToString(),
            _timestamp(header["time"]).SerializeToString(),
            _block_id(header["last_block_id"]),
            hashed("last_commit_hash"),
            hashed("data_hash"),
            hashed("validators_hash"),
            hashed("next_validators_hash"),
            hashed("consensus_hash"),
            hashed("app_hash"),
            hashed("last_results_hash"),
            hashed("evidence_hash"),
            hashed("proposer_address"),
        ]
    )


def vote_sign_bytes(chain_id: str, commit: dict[str, Any], signature: dict[str, Any]) -> bytes:
    """What the validator of ``signature`` signed: its precommit as a delimited CanonicalVote."""
    vote = proto.types_canonical.CanonicalVote(
        type=proto.types_types.SIGNED_MSG_TYPE_PRECOMMIT,
        height=int(commit["height"]),
        round=int(commit["round"]),
        chain_id=chain_id,
    )
    if int(signature["block_id_flag"]) == BLOCK_ID_FLAG_COMMIT:
        block_id = commit["block_id"]
        vote.block_id.hash = _hex(block_id["hash"])
        vote.block_id.part_set_header.SetInParent()
        vote.block_id.part_set_header.total = int(block_id["parts"]["total"])
        vote.block_id.part_set_header.hash = _hex(block_id["parts"]["hash"])
    vote.timestamp.SetInParent()
    vote.timestamp.CopyFrom(_timestamp(signature["timestamp"]))
    body = vote.SerializeToString()
    return encode_uvarint(len(body)) + bytes(body)


def validator_set(genesis: GenesisDoc) -> Validators:
    """The genesis validators by CometBFT address."""
    out: Validators = {}
    for v in genesis.validators:
        key = bytes.fromhex(v.public_key)
        out[hashlib.sha256(key).digest()[:20]] = (key, v.power)
    return out


def signed_power(chain_id: str, commit: dict[str, Any], validators: Validators) -> int:
    """Power of the distinct known validators whose commit signature for the block verifies."""
    seen: set[bytes] = set()
    power = 0
    for signature in commit["signatures"]:
        if int(signature["block_id_flag"]) != BLOCK_ID_FLAG_COMMIT:
            continue
        address = _hex(signature["validator_address"])
        entry = validators.get(address)
        if entry is None or address in seen:
            continue
        public_key, weight = entry
        try:
            VerifyKey(public_key).verify(
                vote_sign_bytes(chain_id, commit, signature),
                base64.b64decode(signature["signature"], validate=True),
            )
        except (BadSignatureError, ValueError):
            continue
        seen.add(address)
        power += weight
    return power


# -- making a bundle --------------------------------------------------------------------------
def node_rpc_url(home_path: Path) -> str | None:
    """The RPC address of the CometBFT node whose app runs on ``home_path``; None for solo."""
    try:
        return str(json.loads((home_path / ENGINE_FILE).read_text())["rpc_url"])
    except (OSError, ValueError, KeyError):
        return None


def bundle_for(home_path: Path, reader: Reader, chain_id: str, key: str) -> dict[str, Any]:
    """A proof bundle of ``key`` from the node whose app home is ``home_path``: with CometBFT's
    signed header when the app runs under a CometBFT node, else with the solo engine's commit.
    What ``portchain prove``, ``portchain ebl proof`` and the API's proofs all serve."""
    from portchain.app.proofs import make_bundle as solo_bundle

    rpc_url = node_rpc_url(home_path)
    if rpc_url is None:
        return solo_bundle(reader, chain_id, key)
    return make_bundle(reader, chain_id, key, rpc_url)


def make_bundle(
    reader: Reader, chain_id: str, key: str, rpc_url: str, *, wait: float = 10.0
) -> dict[str, Any]:
    """Prove ``key`` at the app's last committed height ``H`` with block ``H+1``'s signed header.

    Waits up to ``wait`` seconds for block ``H+1`` (the next block, a few hundred ms away).

    Raises:
        LightProofError: nothing is committed yet, or the node did not produce ``H+1`` in time.
    """
    with reader.snapshot():
        height = reader.height()
        root = reader.app_hash()
        value = reader.get(key)
        proof = reader.tree().prove(codec.sha256(key.encode()))
    if height == 0:
        raise LightProofError("no block is committed yet; submit a transaction first")
    signed = _signed_header(rpc_url, height + 1, wait)
    if _hex(signed["header"]["app_hash"]) != root:
        raise LightProofError(f"the node's header {height + 1} does not carry this app's state")
    return {
        "version": BUNDLE_VERSION,
        "engine": ENGINE,
        "chain_id": chain_id,
        "height": height,
        "key": key,
        "value": None if value is None else value.hex(),
        "proof": proof.as_dict(),
        "header": signed["header"],
        "commit": signed["commit"],
    }


def _signed_header(rpc_url: str, height: int, wait: float) -> dict[str, Any]:
    deadline = time.monotonic() + wait
    with CometRpc(rpc_url) as rpc:
        while True:
            try:
                result: dict[str, Any] = rpc.call("commit", height=str(height))
                return dict(result["signed_header"])
            except (RpcError, httpx.HTTPError) as exc:
                if time.monotonic() > deadline:
                    raise LightProofError(f"block {height} is not available: {exc}") from None
            time.sleep(0.1)


# -- checking a bundle ------------------------------------------------------------------------
def check_cometbft_bundle(
    bundle: dict[str, Any], genesis: GenesisDoc, validators: Validators | None = None
) -> dict[str, Any]:
    """Check ``bundle`` offline; return what it proves or raise ``LightProofError``.

    ``validators`` is the trusted set (by address); the genesis validators by default.
    """
    trusted = validators if validators is not None else validator_set(genesis)
    try:
        if bundle.get("version") != BUNDLE_VERSION or bundle.get("engine") != ENGINE:
            raise LightProofError("not a CometBFT proof bundle of a known version")
        key = str(bundle["key"])
        value = None if bundle["value"] is None else bytes.fromhex(bundle["value"])
        proof = Proof.from_dict(bundle["proof"])
        header, commit = bundle["header"], bundle["commit"]
        computed = header_hash(header)
        signed_hash = _hex(commit["block_id"]["hash"])
        app_hash = _hex(header["app_hash"])
        header_height, commit_height = int(header["height"]), int(commit["height"])
        power = signed_power(genesis.chain_id, commit, trusted)
    except LightProofError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise LightProofError(f"the bundle is malformed: {exc!r}") from None
    chain_id = genesis.chain_id
    if bundle.get("chain_id") != chain_id or header["chain_id"] != chain_id:
        raise LightProofError(f"the bundle is not for chain {chain_id}")
    if not (header_height == commit_height == bundle.get("height", -2) + 1):
        raise LightProofError("the header and commit are not of the block after the state")
    if computed != signed_hash:
        raise LightProofError("the header's fields do not hash to the block the validators signed")
    total = sum(power for _, power in trusted.values())
    if power * 3 <= total * 2:
        raise LightProofError(
            f"validators with {power} of {total} voting power signed; more than 2/3 is needed"
        )
    if not verify_proof(app_hash, key.encode(), value, proof):
        raise LightProofError("the Merkle proof does not match the signed app hash")
    return {
        "valid": True,
        "engine": ENGINE,
        "chain_id": chain_id,
        "height": header_height - 1,
        "key": key,
        "present": value is not None,
        "value": None if value is None else value.decode("utf-8", "replace"),
        "app_hash": app_hash.hex(),
        "signed_block": signed_hash.hex(),
        "signed_power": power,
        "total_power": total,
    }
