"""portchain as the ABCI 2.0 application of a CometBFT node: each ABCI call is a few lines over App.

The app of the ledger core does the work; this adapter only translates. Decisions it makes:

* **Genesis.** ``app_state`` of CometBFT's genesis is the whole portchain genesis document
  (``GenesisDoc`` JSON: chain id, time, validators, module state), so one file describes both.
  InitChain refuses a document whose chain id, genesis time (to the millisecond), initial height
  (must be 1) or validator set (Ed25519 keys and powers) disagree with CometBFT's own genesis, so
  the two can never drift apart. InitChain is idempotent: CometBFT sends it again when a node
  crashed before saving its state at height 0, and ``App.init_chain`` answers with the same hash.
* **Blocks.** FinalizeBlock builds a portchain ``Block`` from the request: height, time in
  milliseconds, CometBFT's block hash as the block's hash (and as the handlers' randomness),
  the proposer's address (hex) and the transactions; ``prev_hash`` and ``app_hash`` are those
  portchain committed last (the same values CometBFT's header carries), ``tx_root`` is
  portchain's own root over the transaction ids. It executes and persists nothing; Commit makes
  the block durable in one storage transaction. The solo engine's commit certificate is left
  empty: on CometBFT the validators' signatures live in CometBFT's block store (see ``light``).
* **Recovery.** Info reports the last durable height and app hash. After a crash between
  FinalizeBlock and Commit the app is one block behind CometBFT's store, and CometBFT's
  handshake replays that block (``App.finalize_block`` drops any executed but uncommitted block).
* **Validator updates.** A passed ``set_validator`` proposal emits
  ``membership.validator_updated``; FinalizeBlock returns those as CometBFT validator updates.
* **Mempool.** CheckTx is ``App.check_tx``: decode, key, signature, sequence (counting
  transactions already admitted). A re-check after a block only asks whether the sequence number
  was used up meanwhile; the signature was verified once and the result is kept for execution.
"""

from __future__ import annotations

import gc
import json
import logging
import os
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from portchain import __version__
from portchain.app.app import App
from portchain.app.execute import BlockResult, get_sequence
from portchain.app.genesis import GenesisDoc, parse_genesis
from portchain.engines.cometbft import proto
from portchain.engines.cometbft.base_application import CODE_OK, BaseApplication
from portchain.kernel import codec
from portchain.kernel.block import Block, Header, merkle_root
from portchain.kernel.errors import DuplicateError, PortchainError, SequenceError
from portchain.kernel.events import INDEXED, Event
from portchain.kernel.tx import SignedTx, decode_tx

if TYPE_CHECKING:
    from google.protobuf.timestamp_pb2 import Timestamp

    from portchain.engines.cometbft._proto.tendermint.abci import types_pb2 as abci

log = logging.getLogger(__name__)

APP_VERSION = 1
"""The state machine's protocol version, reported in Info; CometBFT puts it in block headers."""

ENGINE_META = ("engine", b"cometbft")
"""Meta entry marking a database written through CometBFT (``portchain verify`` reads it)."""

VALIDATOR_EVENT = "membership.validator_updated"
"""Event type whose ``pub_key`` (hex) and ``power`` become CometBFT validator updates."""

PROOF_OP_TYPE = "portchain/smt"
"""ProofOp type of a Query answer: portchain's Merkle proof as JSON, not a CometBFT format."""

CODE_BAD_QUERY = 1
"""Query answer code for an unknown path or a height no longer kept."""

DECODED_CACHE_SIZE = 100_000
"""Transactions decoded at CheckTx, kept so proposals and execution do not decode them again."""


class GenesisMismatchError(ValueError):
    """CometBFT's genesis and the portchain genesis in its app_state disagree."""


class PortchainApplication(BaseApplication):
    """The ABCI application of one node, over that node's ``App``.

    Args:
        app: the node's app over its storage.
        genesis: the genesis the node's home holds; InitChain refuses any other.
        on_commit: called with each block's result once it is durable (the engine's listeners).
        crash_before_commit: a height at which Commit exits the process before persisting,
            to test recovery through CometBFT's handshake (never set in production).
        max_block_txs: most transactions a proposal of ours carries, which bounds the time
            every validator spends in FinalizeBlock (and so the next block's delay).
    """

    def __init__(
        self,
        app: App,
        *,
        genesis: GenesisDoc | None = None,
        on_commit: Callable[[BlockResult], None] | None = None,
        crash_before_commit: int | None = None,
        max_block_txs: int = 2_000,
    ) -> None:
        self.app = app
        self.expected_genesis = genesis
        self.on_commit = on_commit
        self.crash_before_commit = crash_before_commit
        self.max_block_txs = max_block_txs
        self._finalized: BlockResult | None = None
        self._decoded: OrderedDict[bytes, SignedTx] = OrderedDict()

    # -- connection and genesis ---------------------------------------------------------
    def info(self, request: abci.RequestInfo) -> abci.ResponseInfo:
        """The last durable block; CometBFT replays whatever it has beyond it."""
        if not request.abci_version.startswith("2."):
            raise RuntimeError(f"CometBFT speaks ABCI {request.abci_version}; portchain needs 2.x")
        info = self.app.info()
        engine = self.app.storage.writer.meta(ENGINE_META[0])
        if info.height > 0 and engine != ENGINE_META[1]:
            raise RuntimeError("this database holds a chain made by another engine (solo)")
        return proto.abci.ResponseInfo(
            data="portchain",
            version=__version__,
            app_version=APP_VERSION,
            last_block_height=info.height,
            last_block_app_hash=info.app_hash if info.height else b"",
        )

    def init_chain(self, request: abci.RequestInitChain) -> abci.ResponseInitChain:
        """Write the genesis state from the portchain genesis in ``app_state``."""
        genesis = _genesis_of(request)
        if self.expected_genesis is not None and genesis.hash != self.expected_genesis.hash:
            raise GenesisMismatchError("CometBFT's app_state is not this node's home's genesis")
        self.app.storage.set_meta(*ENGINE_META)
        return proto.abci.ResponseInitChain(app_hash=self.app.init_chain(genesis))

    # -- mempool -----------------------------------------------------------------------
    def check_tx(self, request: abci.RequestCheckTx) -> abci.ResponseCheckTx:
        """Admit a transaction to CometBFT's mempool, or refuse it with portchain's code."""
        if request.type == proto.abci.RECHECK:
            return self._recheck(request.tx)
        try:
            stx = self.app.check_tx(request.tx)
        except DuplicateError:
            # CometBFT asks again only after dropping it (e.g. its mempool was full): keep it.
            return proto.abci.ResponseCheckTx(code=CODE_OK, gas_wanted=1)
        except PortchainError as exc:
            return _refused(exc)
        self._remember(stx)
        return proto.abci.ResponseCheckTx(code=CODE_OK, gas_wanted=1)

    def _recheck(self, raw: bytes) -> abci.ResponseCheckTx:
        """After a block: drop a transaction whose sequence number a committed one used."""
        stx = self._decoded.get(codec.sha256(raw))
        if stx is None:
            try:
                stx = decode_tx(raw)
            except PortchainError as exc:
                return _refused(exc)
        committed = get_sequence(self.app.storage.reader(), stx.tx.signer)
        if stx.tx.seq < committed:
            return _refused(SequenceError(f"sequence {stx.tx.seq} was used", field="tx.seq"))
        return proto.abci.ResponseCheckTx(code=CODE_OK, gas_wanted=1)

    # -- proposals ----------------------------------------------------------------------
    def prepare_proposal(
        self, request: abci.RequestPrepareProposal
    ) -> abci.ResponsePrepareProposal:
        """Propose the mempool's transactions in order, without undecodable ones, within budget."""
        chosen: list[bytes] = []
        total = 0
        for raw in request.txs:
            if self._decode(raw) is None:
                continue
            total += len(raw)
            if total > request.max_tx_bytes or len(chosen) >= self.max_block_txs:
                break
            chosen.append(raw)
        return proto.abci.ResponsePrepareProposal(txs=chosen)

    def process_proposal(
        self, request: abci.RequestProcessProposal
    ) -> abci.ResponseProcessProposal:
        """Refuse a proposal that carries bytes that are not a transaction at all."""
        ok = all(self._decode(raw) is not None for raw in request.txs)
        status = proto.abci.ResponseProcessProposal
        return status(status=status.ACCEPT if ok else status.REJECT)

    # -- blocks -------------------------------------------------------------------------
    def finalize_block(self, request: abci.RequestFinalizeBlock) -> abci.ResponseFinalizeBlock:
        """Execute the decided block; return per-transaction results and the app hash."""
        info = self.app.info()
        txs = list(request.txs)
        hashes = [codec.sha256(raw) for raw in txs]
        header = Header(
            chain_id=info.chain_id,
            height=request.height,
            time_ms=timestamp_ms(request.time),
            prev_hash=info.last_block_hash,
            tx_root=merkle_root(hashes),
            app_hash=info.app_hash,
            proposer=request.proposer_address.hex(),
        )
        block = Block(header, tuple(txs), bytes(request.hash))
        gc.disable()  # until Commit: nothing a block allocates needs the cyclic collector
        result = self.app.finalize_block(block, [self._decoded.get(h) for h in hashes])
        self._finalized = result
        response = proto.abci.ResponseFinalizeBlock(
            validator_updates=validator_updates(result), app_hash=result.app_hash
        )
        # Built in place: a message handed to a constructor is copied, and the results of a
        # full block are thousands of messages.
        for tx_result in result.tx_results:
            exec_result = response.tx_results.add(
                code=tx_result.code, codespace=tx_result.codespace, log=tx_result.log
            )
            _add_events(exec_result.events, tx_result.events)
        _add_events(response.events, result.events)
        return response

    def commit(self, request: abci.RequestCommit) -> abci.ResponseCommit:
        """Persist the finalized block atomically, then tell the node's listeners."""
        result = self._finalized
        if result is None:
            raise RuntimeError("Commit without a finalized block")
        if self.crash_before_commit == result.block.header.height:
            log.critical("crashing before commit at height %s (test)", self.crash_before_commit)
            os._exit(1)
        try:
            self.app.commit(None)
        finally:
            # The state tree and caches are long-lived objects without cycles; freezing them
            # keeps the collector's scans (pauses of hundreds of ms as the state grows) short.
            gc.freeze()
            gc.enable()
        self._finalized = None
        for tx_result in result.tx_results:
            self._decoded.pop(tx_result.hash, None)
        if self.on_commit is not None:
            self.on_commit(result)
        return proto.abci.ResponseCommit(retain_height=0)

    # -- queries ------------------------------------------------------------------------
    def query(self, request: abci.RequestQuery) -> abci.ResponseQuery:
        """``/state/<key>`` (or ``/state`` with the key as data): the committed value and proof."""
        if request.path.startswith("/state/"):
            key = request.path[len("/state/") :]
        elif request.path == "/state":
            key = request.data.decode("utf-8", "replace")
        else:
            return proto.abci.ResponseQuery(code=CODE_BAD_QUERY, log=f"unknown path {request.path}")
        reader = self.app.storage.reader()
        with reader.snapshot():
            height = reader.height()
            root = reader.app_hash()
            value = reader.get(key)
            proof = reader.tree().prove(codec.sha256(key.encode()))
        if request.height not in (0, height):
            return proto.abci.ResponseQuery(
                code=CODE_BAD_QUERY, height=height, log="only the latest committed state is kept"
            )
        ops = None
        if request.prove:
            data = codec.canonical({"app_hash": root.hex(), "proof": proof.as_dict()})
            op = proto.crypto_proof.ProofOp(type=PROOF_OP_TYPE, key=key.encode(), data=data)
            ops = proto.crypto_proof.ProofOps(ops=[op])
        return proto.abci.ResponseQuery(
            code=CODE_OK,
            key=key.encode(),
            value=value or b"",
            height=height,
            proof_ops=ops,
            log="exists" if value is not None else "absent",
        )

    # -- helpers ------------------------------------------------------------------------
    def _remember(self, stx: SignedTx) -> None:
        self._decoded[stx.hash] = stx
        while len(self._decoded) > DECODED_CACHE_SIZE:
            self._decoded.popitem(last=False)

    def _decode(self, raw: bytes) -> SignedTx | None:
        """The decoded transaction (from the CheckTx cache when we have it), or None."""
        cached = self._decoded.get(codec.sha256(raw))
        if cached is not None:
            return cached
        try:
            return decode_tx(raw)
        except PortchainError:
            return None


def init_chain_request(genesis: GenesisDoc) -> abci.RequestInitChain:
    """The InitChain request a CometBFT node whose genesis carries ``genesis`` sends (for
    driving an adapter without a node: the ABCI bench, tests)."""
    request = proto.abci.RequestInitChain(
        chain_id=genesis.chain_id,
        app_state_bytes=genesis.encode(),
        initial_height=1,
        validators=[
            proto.abci.ValidatorUpdate(
                pub_key=proto.crypto_keys.PublicKey(ed25519=bytes.fromhex(v.public_key)),
                power=v.power,
            )
            for v in genesis.validators
        ],
    )
    request.time.FromMilliseconds(genesis.genesis_time_ms)
    return request


def timestamp_ms(stamp: Timestamp) -> int:
    """Milliseconds since the epoch, truncated: CometBFT's block times are nanoseconds.

    CometBFT keeps block times at least 1 ms apart, so truncation keeps them increasing.
    """
    return int(stamp.seconds) * 1000 + int(stamp.nanos) // 1_000_000


def _genesis_of(request: abci.RequestInitChain) -> GenesisDoc:
    """The portchain genesis carried in ``app_state``, checked against CometBFT's genesis."""
    if not request.app_state_bytes:
        raise GenesisMismatchError("CometBFT's genesis has no app_state (portchain's genesis)")
    genesis = parse_genesis(request.app_state_bytes)
    problems = []
    if genesis.chain_id != request.chain_id:
        problems.append(f"chain id {genesis.chain_id!r} is not {request.chain_id!r}")
    if genesis.genesis_time_ms != timestamp_ms(request.time):
        problems.append("genesis_time_ms is not CometBFT's genesis_time")
    if request.initial_height not in (0, 1):
        problems.append(f"initial_height {request.initial_height} is not 1")
    theirs = sorted((v.pub_key.ed25519.hex(), v.power) for v in request.validators)
    ours = sorted((v.public_key, v.power) for v in genesis.validators)
    if theirs != ours:
        problems.append(f"validators {ours} are not CometBFT's {theirs}")
    if problems:
        raise GenesisMismatchError("genesis differs from CometBFT's: " + "; ".join(problems))
    return genesis


def _refused(exc: PortchainError) -> abci.ResponseCheckTx:
    """A refusal as CometBFT carries it: portchain's code, codespace and message; name and
    field as JSON in ``info`` so the engine can rebuild the same error on the other side."""
    info = json.dumps({"error": exc.name, "field": exc.field})
    return proto.abci.ResponseCheckTx(
        code=exc.code, codespace=exc.codespace, log=exc.message, info=info
    )


def _attribute_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _add_events(target: Any, events: Iterable[Event]) -> None:
    """Append ``events`` to a repeated ``abci.Event`` field, as CometBFT carries them."""
    for event in events:
        added = target.add(type=event.type)
        for key, value in event.attributes:
            added.attributes.add(key=key, value=_attribute_text(value), index=key in INDEXED)


def validator_updates(result: BlockResult) -> list[abci.ValidatorUpdate]:
    """The block's ``membership.validator_updated`` events as CometBFT validator updates.

    CometBFT refuses two updates of one key in a block, so the last one for each key wins.
    """
    events = [e for r in result.tx_results for e in r.events] + list(result.events)
    latest: dict[str, int] = {}
    for event in events:
        if event.type == VALIDATOR_EVENT:
            key, power = event.get("pub_key"), event.get("power")
            assert isinstance(key, str) and isinstance(power, int)
            latest.pop(key, None)
            latest[key] = power
    return [
        proto.abci.ValidatorUpdate(
            pub_key=proto.crypto_keys.PublicKey(ed25519=bytes.fromhex(key)), power=power
        )
        for key, power in latest.items()
    ]
