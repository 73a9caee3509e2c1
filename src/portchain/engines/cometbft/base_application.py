"""An ABCI application that does nothing, correctly: subclass it and override what you need.

Each default is the answer that keeps a CometBFT v0.38 node running with an empty state
machine: accept every transaction and proposal, propose the mempool's transactions as they
come (within the byte budget), report one OK result per transaction, and decline state sync.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from portchain.engines.cometbft import proto

if TYPE_CHECKING:
    from portchain.engines.cometbft._proto.tendermint.abci import types_pb2 as abci

CODE_OK = 0
"""ABCI result code for success; any other code means the transaction or query failed."""


class BaseApplication:
    """Sane defaults for every ``AbciApplication`` method (see ``abci_server.AbciApplication``)."""

    def echo(self, request: abci.RequestEcho) -> abci.ResponseEcho:
        """CometBFT's liveness probe: send the message back."""
        return proto.abci.ResponseEcho(message=request.message)

    def info(self, request: abci.RequestInfo) -> abci.ResponseInfo:
        """Height 0 and an empty app hash: CometBFT will call InitChain and replay every block."""
        return proto.abci.ResponseInfo()

    def init_chain(self, request: abci.RequestInitChain) -> abci.ResponseInitChain:
        """Keep the genesis validators and consensus parameters as they are."""
        return proto.abci.ResponseInitChain()

    def check_tx(self, request: abci.RequestCheckTx) -> abci.ResponseCheckTx:
        """Admit every transaction to the mempool."""
        return proto.abci.ResponseCheckTx(code=CODE_OK)

    def query(self, request: abci.RequestQuery) -> abci.ResponseQuery:
        """An empty, successful answer."""
        return proto.abci.ResponseQuery(code=CODE_OK)

    def prepare_proposal(
        self, request: abci.RequestPrepareProposal
    ) -> abci.ResponsePrepareProposal:
        """Propose the mempool's transactions in order, stopping before ``max_tx_bytes`` is passed.

        CometBFT may hand over more than fits in a block; a proposal over the limit is invalid.
        """
        chosen: list[bytes] = []
        total = 0
        for tx in request.txs:
            total += len(tx)
            if total > request.max_tx_bytes:
                break
            chosen.append(tx)
        return proto.abci.ResponsePrepareProposal(txs=chosen)

    def process_proposal(
        self, request: abci.RequestProcessProposal
    ) -> abci.ResponseProcessProposal:
        """Accept every proposal."""
        return proto.abci.ResponseProcessProposal(status=proto.abci.ResponseProcessProposal.ACCEPT)

    def finalize_block(self, request: abci.RequestFinalizeBlock) -> abci.ResponseFinalizeBlock:
        """One OK result per transaction (CometBFT requires exactly one each), no state change."""
        results = [proto.abci.ExecTxResult(code=CODE_OK) for _ in request.txs]
        return proto.abci.ResponseFinalizeBlock(tx_results=results)

    def extend_vote(self, request: abci.RequestExtendVote) -> abci.ResponseExtendVote:
        """No vote extension."""
        return proto.abci.ResponseExtendVote()

    def verify_vote_extension(
        self, request: abci.RequestVerifyVoteExtension
    ) -> abci.ResponseVerifyVoteExtension:
        """Accept every vote extension."""
        return proto.abci.ResponseVerifyVoteExtension(
            status=proto.abci.ResponseVerifyVoteExtension.ACCEPT
        )

    def commit(self, request: abci.RequestCommit) -> abci.ResponseCommit:
        """Nothing to persist; keep all blocks (retain height 0)."""
        return proto.abci.ResponseCommit()

    def list_snapshots(self, request: abci.RequestListSnapshots) -> abci.ResponseListSnapshots:
        """No snapshots to offer to peers that state-sync."""
        return proto.abci.ResponseListSnapshots()

    def offer_snapshot(self, request: abci.RequestOfferSnapshot) -> abci.ResponseOfferSnapshot:
        """Decline every snapshot, so the node syncs by replaying blocks instead."""
        return proto.abci.ResponseOfferSnapshot(result=proto.abci.ResponseOfferSnapshot.REJECT)

    def load_snapshot_chunk(
        self, request: abci.RequestLoadSnapshotChunk
    ) -> abci.ResponseLoadSnapshotChunk:
        """No snapshots, so no chunks."""
        return proto.abci.ResponseLoadSnapshotChunk()

    def apply_snapshot_chunk(
        self, request: abci.RequestApplySnapshotChunk
    ) -> abci.ResponseApplySnapshotChunk:
        """Never reached after a rejected offer; abort state sync if it is."""
        return proto.abci.ResponseApplySnapshotChunk(
            result=proto.abci.ResponseApplySnapshotChunk.ABORT
        )
