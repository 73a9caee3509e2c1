"""Blocks, their header hash chain, transaction roots, results hashes and commits.

A block header links to its parent by hash and commits to its transactions
(``tx_root``) and to the state after the previous block (``app_hash``), so a
chain of headers fixes every transaction and every state in order. The app
hash after the block itself is fixed by the next header and, at once, by the
block's :class:`Commit`: the validators' signatures over height, block hash,
resulting app hash and results hash. That commit is what a proof bundle hands
to an outsider.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from portchain.kernel import codec
from portchain.kernel.crypto import COMMIT_DOMAIN, SigningKey, key_id, verify

EMPTY_ROOT = bytes(32)


def merkle_root(leaves: list[bytes]) -> bytes:
    """RFC 6962-style binary Merkle root (0x00 leaf prefix, 0x01 node prefix); empty -> zeros."""
    if not leaves:
        return EMPTY_ROOT
    level = [hashlib.sha256(b"\x00" + leaf).digest() for leaf in leaves]
    while len(level) > 1:
        nxt = [
            hashlib.sha256(b"\x01" + level[i] + level[i + 1]).digest()
            for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


@dataclass(frozen=True, slots=True)
class Header:
    """What a block commits to. Its hash is SHA-256 of its canonical JSON."""

    chain_id: str
    height: int
    time_ms: int
    prev_hash: bytes
    tx_root: bytes
    app_hash: bytes
    """State root after the previous block (after genesis for height 1)."""
    proposer: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "app_hash": self.app_hash.hex(),
            "chain_id": self.chain_id,
            "height": self.height,
            "prev_hash": self.prev_hash.hex(),
            "proposer": self.proposer,
            "time_ms": self.time_ms,
            "tx_root": self.tx_root.hex(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Header:
        return cls(
            chain_id=data["chain_id"],
            height=data["height"],
            time_ms=data["time_ms"],
            prev_hash=bytes.fromhex(data["prev_hash"]),
            tx_root=bytes.fromhex(data["tx_root"]),
            app_hash=bytes.fromhex(data["app_hash"]),
            proposer=data["proposer"],
        )

    def encode(self) -> bytes:
        return codec.canonical(self.as_dict())

    @property
    def hash(self) -> bytes:
        return codec.sha256(self.encode())


@dataclass(frozen=True, slots=True)
class Block:
    """A header and its transactions' wire bytes, as every engine hands it to the app."""

    header: Header
    txs: tuple[bytes, ...]
    hash: bytes

    @classmethod
    def build(
        cls,
        *,
        chain_id: str,
        height: int,
        time_ms: int,
        prev_hash: bytes,
        app_hash: bytes,
        proposer: str,
        txs: list[bytes],
    ) -> Block:
        header = Header(
            chain_id=chain_id,
            height=height,
            time_ms=time_ms,
            prev_hash=prev_hash,
            tx_root=merkle_root([codec.sha256(tx) for tx in txs]),
            app_hash=app_hash,
            proposer=proposer,
        )
        return cls(header=header, txs=tuple(txs), hash=header.hash)


@dataclass(frozen=True, slots=True)
class Signature:
    validator: str
    """Key id of the validator's Ed25519 key."""
    signature: bytes


@dataclass(frozen=True)
class Commit:
    """Validators' signatures that block ``height`` led to ``app_hash`` with ``results_hash``."""

    chain_id: str
    height: int
    block_hash: bytes
    app_hash: bytes
    results_hash: bytes
    signatures: tuple[Signature, ...] = field(default=())

    def sign_bytes(self) -> bytes:
        return codec.canonical(
            {
                "app_hash": self.app_hash.hex(),
                "block_hash": self.block_hash.hex(),
                "chain_id": self.chain_id,
                "height": self.height,
                "results_hash": self.results_hash.hex(),
            }
        )

    def signed_by(self, key: SigningKey) -> Commit:
        sig = Signature(key.key_id, key.sign(COMMIT_DOMAIN, self.sign_bytes()))
        return Commit(
            self.chain_id,
            self.height,
            self.block_hash,
            self.app_hash,
            self.results_hash,
            (*self.signatures, sig),
        )

    def voting_power(self, validators: dict[str, tuple[bytes, int]]) -> int:
        """Power of the distinct validators (key id -> (key, power)) whose signature verifies."""
        message = self.sign_bytes()
        seen: set[str] = set()
        power = 0
        for sig in self.signatures:
            entry = validators.get(sig.validator)
            if entry is None or sig.validator in seen:
                continue
            public_key, weight = entry
            if key_id(public_key) == sig.validator and verify(
                public_key, COMMIT_DOMAIN, message, sig.signature
            ):
                seen.add(sig.validator)
                power += weight
        return power

    def as_dict(self) -> dict[str, Any]:
        return {
            "app_hash": self.app_hash.hex(),
            "block_hash": self.block_hash.hex(),
            "chain_id": self.chain_id,
            "height": self.height,
            "results_hash": self.results_hash.hex(),
            "signatures": [
                {"signature": s.signature.hex(), "validator": s.validator} for s in self.signatures
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Commit:
        return cls(
            chain_id=data["chain_id"],
            height=data["height"],
            block_hash=bytes.fromhex(data["block_hash"]),
            app_hash=bytes.fromhex(data["app_hash"]),
            results_hash=bytes.fromhex(data["results_hash"]),
            signatures=tuple(
                Signature(s["validator"], bytes.fromhex(s["signature"])) for s in data["signatures"]
            ),
        )
