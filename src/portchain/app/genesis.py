"""The genesis document: the chain id, its start time, the validators and each module's state.

Every node of a network starts from the same document, and its hash is part of
everything after it: the block environment of genesis carries it, and proofs
are checked against the validators it names.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from portchain.kernel import codec
from portchain.kernel.crypto import key_id
from portchain.kernel.env import BlockEnv
from portchain.kernel.fields import Hex32, Name
from portchain.kernel.module import Message, parse_message

MAX_GENESIS_BYTES = 16 * 1024 * 1024


class Validator(Message):
    name: Name
    public_key: Hex32
    """Ed25519 public key the validator signs commits with."""
    power: Annotated[int, Field(ge=1, le=1_000_000)] = 10


class GenesisDoc(Message):
    chain_id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,47}$")]
    genesis_time_ms: Annotated[int, Field(ge=0)]
    validators: Annotated[list[Validator], Field(min_length=1, max_length=200)]
    app_state: dict[str, Any]

    def encode(self) -> bytes:
        return codec.canonical(self.model_dump())

    @property
    def hash(self) -> bytes:
        return codec.sha256(self.encode())

    def env(self) -> BlockEnv:
        """The environment genesis state is written in: height 0 at the genesis time."""
        return BlockEnv(self.chain_id, 0, self.genesis_time_ms, self.hash)

    def validator_set(self) -> dict[str, tuple[bytes, int]]:
        """Key id -> (public key, power) of the genesis validators."""
        return {
            key_id(bytes.fromhex(v.public_key)): (bytes.fromhex(v.public_key), v.power)
            for v in self.validators
        }


def parse_genesis(data: bytes) -> GenesisDoc:
    doc = codec.decode(data, max_bytes=MAX_GENESIS_BYTES, what="genesis")
    if not isinstance(doc, dict):
        raise ValueError("genesis must be a JSON object")
    genesis = parse_message(GenesisDoc, doc)
    assert isinstance(genesis, GenesisDoc)
    return genesis


def load_genesis(path: Path) -> GenesisDoc:
    return parse_genesis(path.read_bytes())
