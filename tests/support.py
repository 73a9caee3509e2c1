"""A test chain: the real App over real SQLite, driven block by block with deterministic keys."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from portchain.app.app import App
from portchain.app.execute import BlockResult, TxResult
from portchain.app.genesis import GenesisDoc, Validator
from portchain.kernel import codec
from portchain.kernel.block import Block, Commit
from portchain.kernel.crypto import EncryptionKey, SigningKey
from portchain.kernel.tx import Tx, sign
from portchain.storage.sqlite import Storage

GENESIS_TIME_MS = 1_790_000_000_000  # 2026-09-21T...Z, fixed so hashes are reproducible
CHAIN_ID = "portchain-test"


def seeded_key(name: str) -> SigningKey:
    """A deterministic signing key named ``name`` (tests and vectors only)."""
    return SigningKey.from_seed(codec.sha256(b"portchain-test/" + name.encode()))


def seeded_encryption_key(name: str) -> EncryptionKey:
    return EncryptionKey(codec.sha256(b"portchain-test/enc/" + name.encode()))


# (id, country, roles, steward)
CAST: tuple[tuple[str, str, tuple[str, ...], bool], ...] = (
    ("SHEKOU-PORT", "CN", ("port_operator",), True),
    ("RTM-PORT", "NL", ("port_operator",), True),
    ("MERIDIAN", "SG", ("carrier",), True),
    ("CN-CUSTOMS", "CN", ("customs",), True),
    ("NL-CUSTOMS", "NL", ("customs",), True),
    ("BRIGHTWAVE", "CN", ("shipper",), False),
    ("HOLLANDHOME", "NL", ("consignee",), False),
    ("HOLLANDBANK", "NL", ("bank",), False),
)
STEWARDS = tuple(org for org, _, _, steward in CAST if steward)

TRADE_CAST: tuple[tuple[str, str, tuple[str, ...], bool], ...] = (
    *CAST,
    ("SHEKOU-CT", "CN", ("terminal",), False),
    ("RTM-DELTA", "NL", ("terminal",), False),
    ("PEARLFWD", "CN", ("forwarder",), False),
    ("MAASHAUL", "NL", ("haulier",), False),
    ("SZTRADEBANK", "CN", ("bank",), False),
    ("CN-TAX", "CN", ("tax_authority",), False),
    ("NL-TAX", "NL", ("tax_authority",), False),
    ("OTHERLINE", "DK", ("carrier",), False),
    ("OTHERSHIP", "CN", ("shipper",), False),
)
"""The whole cast of an import (the modules' tests): CAST plus terminals, a forwarder, a
haulier, a second bank, the tax authorities, and a carrier and a shipper with no part in
the test's trade (the "other party" of the visibility tests)."""


def make_genesis(cast: tuple[tuple[str, str, tuple[str, ...], bool], ...] = CAST) -> GenesisDoc:
    return GenesisDoc(
        chain_id=CHAIN_ID,
        genesis_time_ms=GENESIS_TIME_MS,
        validators=[
            Validator(name="solo", public_key=seeded_key("validator").public_key.hex(), power=10)
        ],
        app_state={
            "membership": {
                "organisations": [
                    {
                        "id": org,
                        "name": f"{org.title()} Ltd.",
                        "country": country,
                        "roles": sorted(roles),
                        "steward": steward,
                        "admin_key": seeded_key(org).public_key.hex(),
                        "encryption_key": seeded_encryption_key(org).public_key.hex(),
                    }
                    for org, country, roles, steward in cast
                ]
            }
        },
    )


@dataclass
class Chain:
    """Build blocks on a real App; ``seqs`` tracks each signer's next sequence number."""

    path: Path
    genesis: GenesisDoc = field(default_factory=make_genesis)
    seqs: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.storage = Storage(self.path / "chain.db")
        self.app = App(self.storage)
        self.app.init_chain(self.genesis)
        self.validator = seeded_key("validator")
        self.time_ms = self.genesis.genesis_time_ms

    @property
    def app_hash(self) -> bytes:
        return self.app.info().app_hash

    @property
    def height(self) -> int:
        return self.app.info().height

    def key(self, who: str | SigningKey) -> SigningKey:
        return who if isinstance(who, SigningKey) else seeded_key(who)

    def sign(
        self,
        who: str | SigningKey,
        action: str,
        body: dict[str, Any],
        seq: int | None = None,
        chain_id: str = CHAIN_ID,
    ) -> bytes:
        key = self.key(who)
        if seq is None:
            seq = self.seqs.get(key.key_id, 0)
            self.seqs[key.key_id] = seq + 1
        return sign(Tx(chain_id, key.key_id, seq, action, body), key)

    def block(self, *raws: bytes, step_ms: int = 1000) -> BlockResult:
        """Execute and commit one block of ``raws`` (not checked by a mempool first)."""
        info = self.app.info()
        self.time_ms += step_ms
        block = Block.build(
            chain_id=info.chain_id,
            height=info.height + 1,
            time_ms=self.time_ms,
            prev_hash=info.last_block_hash,
            app_hash=info.app_hash,
            proposer=self.validator.key_id,
            txs=list(raws),
        )
        result = self.app.finalize_block(block)
        commit = Commit(
            info.chain_id, block.header.height, block.hash, result.app_hash, result.results_hash
        ).signed_by(self.validator)
        self.app.commit(commit)
        return result

    def run(self, who: str | SigningKey, action: str, body: dict[str, Any]) -> TxResult:
        """Sign and commit one transaction in its own block; return its result."""
        return self.block(self.sign(who, action, body)).tx_results[0]

    def state(self, key: str) -> Any:
        import json

        raw = self.storage.writer.get(key)
        return None if raw is None else json.loads(raw)

    def close(self) -> None:
        self.storage.close()


def apply_body(
    org_id: str, key: SigningKey, roles: list[str], country: str = "NL"
) -> dict[str, Any]:
    return {
        "org_id": org_id,
        "name": f"{org_id.title()} Ltd.",
        "country": country,
        "roles": roles,
        "public_key": key.public_key.hex(),
        "encryption_key": seeded_encryption_key(org_id).public_key.hex(),
    }


def event(result: TxResult, event_type: str) -> dict[str, Any]:
    for e in result.events:
        if e.type == event_type:
            return dict(e.attributes)
    raise AssertionError(f"no {event_type} event in {[e.type for e in result.events]}")
