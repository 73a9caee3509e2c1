"""A tiny key-value ABCI application: the protocol-layer test fixture for the CometBFT engine.

Not portchain's state machine. A transaction is ``key=value``; a Query with the key as data
returns the value. The app hash is SHA-256 over the whole sorted state, so nodes that applied
the same blocks report the same hash and a node that diverged would be caught by consensus.

Run as a script it serves itself on ``$PORTCHAIN_ABCI_ADDRESS`` (as ``LocalNet`` sets it),
so it can also be the ``app_command`` of a local network node.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
from typing import TYPE_CHECKING

from portchain.engines.cometbft import proto
from portchain.engines.cometbft.abci_server import BaseApplication, run_server

if TYPE_CHECKING:
    from portchain.engines.cometbft._proto.tendermint.abci import types_pb2 as abci

CODE_BAD_TX = 1
CODE_NOT_FOUND = 2


def parse_tx(tx: bytes) -> tuple[bytes, bytes] | None:
    """``key=value`` with a non-empty key, or ``None`` for anything else."""
    key, separator, value = tx.partition(b"=")
    return (key, value) if separator and key else None


def state_hash(state: dict[bytes, bytes]) -> bytes:
    """SHA-256 over length-prefixed keys and values in key order: one encoding, one hash."""
    digest = hashlib.sha256()
    for key in sorted(state):
        for part in (key, state[key]):
            digest.update(len(part).to_bytes(4, "big") + part)
    return digest.digest()


class KeyValueApp(BaseApplication):
    """Stages a block's writes in FinalizeBlock and makes them visible at Commit."""

    def __init__(self) -> None:
        self.committed: dict[bytes, bytes] = {}
        self.staged: dict[bytes, bytes] = {}
        self.height = 0
        self.app_hash = b""
        self.init_chain_request: abci.RequestInitChain | None = None

    def info(self, request: abci.RequestInfo) -> abci.ResponseInfo:
        return proto.abci.ResponseInfo(
            data="kv-fixture",
            version="1",
            app_version=1,
            last_block_height=self.height,
            last_block_app_hash=self.app_hash,
        )

    def init_chain(self, request: abci.RequestInitChain) -> abci.ResponseInitChain:
        self.init_chain_request = request
        initial = json.loads(request.app_state_bytes or b"{}")
        self.committed = {k.encode(): str(v).encode() for k, v in initial.items()}
        self.app_hash = state_hash(self.committed)
        return proto.abci.ResponseInitChain(app_hash=self.app_hash)

    def check_tx(self, request: abci.RequestCheckTx) -> abci.ResponseCheckTx:
        if parse_tx(request.tx) is None:
            return proto.abci.ResponseCheckTx(code=CODE_BAD_TX, log="expected key=value")
        return proto.abci.ResponseCheckTx(code=0)

    def process_proposal(
        self, request: abci.RequestProcessProposal
    ) -> abci.ResponseProcessProposal:
        ok = all(parse_tx(tx) is not None for tx in request.txs)
        status = (
            proto.abci.ResponseProcessProposal.ACCEPT
            if ok
            else proto.abci.ResponseProcessProposal.REJECT
        )
        return proto.abci.ResponseProcessProposal(status=status)

    def finalize_block(self, request: abci.RequestFinalizeBlock) -> abci.ResponseFinalizeBlock:
        self.staged = {}
        results = []
        for tx in request.txs:
            parsed = parse_tx(tx)
            if parsed is None:
                results.append(proto.abci.ExecTxResult(code=CODE_BAD_TX, log="expected key=value"))
                continue
            self.staged[parsed[0]] = parsed[1]
            attribute = proto.abci.EventAttribute(
                key="key", value=parsed[0].decode(errors="replace"), index=True
            )
            results.append(
                proto.abci.ExecTxResult(
                    code=0, events=[proto.abci.Event(type="kv", attributes=[attribute])]
                )
            )
        self.height = request.height
        self.app_hash = state_hash({**self.committed, **self.staged})
        return proto.abci.ResponseFinalizeBlock(tx_results=results, app_hash=self.app_hash)

    def commit(self, request: abci.RequestCommit) -> abci.ResponseCommit:
        self.committed.update(self.staged)
        self.staged = {}
        return proto.abci.ResponseCommit()

    def query(self, request: abci.RequestQuery) -> abci.ResponseQuery:
        value = self.committed.get(request.data)
        if value is None:
            return proto.abci.ResponseQuery(
                code=CODE_NOT_FOUND, key=request.data, height=self.height, log="missing"
            )
        return proto.abci.ResponseQuery(
            code=0, key=request.data, value=value, height=self.height, log="exists"
        )


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    run_server(KeyValueApp(), os.environ["PORTCHAIN_ABCI_ADDRESS"])
