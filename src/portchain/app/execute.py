"""The state transition: genesis, then block after block, the same on every node.

:class:`Executor` is pure: given a :class:`State` and a block it produces the
results and the new root, reading nothing else. The node's :class:`~portchain.app.app.App`
drives it over SQLite; ``portchain verify`` drives it over memory to replay a
chain from genesis; both must agree byte for byte.

Per transaction (DESIGN.md invariants 2, 5, 6):

1. The envelope: decode, chain id, the signer's active key, signature, sequence.
   A transaction that fails here was not validly signed for this point in the
   chain: it is recorded as failed and changes nothing, not even the sequence.
2. The sequence advances: the signer did sign this transaction, so it can never
   be replayed, whatever happens next.
3. The action: known verb, message valid, the signer's roles, then the handler,
   inside a snapshot. Any refusal rolls back every write of the action and
   drops its events; the result records the stable code and the message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from portchain.kernel import codec
from portchain.kernel.block import Block, merkle_root
from portchain.kernel.crypto import TX_DOMAIN, key_id, verify
from portchain.kernel.env import BlockEnv
from portchain.kernel.errors import (
    ChainIdError,
    InternalError,
    PortchainError,
    SequenceError,
    SignatureError,
    UnauthorizedError,
    UnknownActionError,
    UnknownKeyError,
)
from portchain.kernel.events import Event
from portchain.kernel.module import (
    Action,
    Context,
    Message,
    ModuleSpec,
    Signer,
    SignerDirectory,
    StateReader,
    parse_message,
)
from portchain.kernel.state import State
from portchain.kernel.tx import SignedTx, decode_tx

log = logging.getLogger(__name__)

Checked = Callable[[bytes], "Message | None"]
"""Looks up a transaction id checked by the mempool: its parsed message, or None."""

SEQ_PREFIX = "auth/seq/"
"""State key prefix of each signer's next sequence number (ASCII decimal)."""


@dataclass(frozen=True)
class TxResult:
    """What became of one transaction in a block."""

    hash: bytes
    code: int = 0
    codespace: str = ""
    log: str = ""
    events: tuple[Event, ...] = ()
    signer: str = ""
    action: str = ""

    @property
    def ok(self) -> bool:
        return self.code == 0

    def encode(self) -> bytes:
        """Canonical bytes of the result, as committed to by the results hash."""
        return codec.canonical(
            {
                "code": self.code,
                "codespace": self.codespace,
                "events": [e.as_dict() for e in self.events],
                "hash": self.hash.hex(),
                "log": self.log,
            }
        )

    @classmethod
    def failed(
        cls, tx_hash: bytes, error: PortchainError, signer: str = "", action: str = ""
    ) -> TxResult:
        return cls(tx_hash, error.code, error.codespace, error.describe(), (), signer, action)


@dataclass(frozen=True)
class BlockResult:
    block: Block
    tx_results: tuple[TxResult, ...]
    events: tuple[Event, ...]
    """Events of the block itself (end of block), after the transactions' events."""
    app_hash: bytes
    results_hash: bytes = field(default=b"")


def results_hash(tx_results: Iterable[TxResult], block_events: Iterable[Event]) -> bytes:
    """Merkle root over each transaction's result and, last, the block's own events."""
    leaves = [r.encode() for r in tx_results]
    leaves.append(codec.canonical([e.as_dict() for e in block_events]))
    return merkle_root(leaves)


def get_sequence(reader: StateReader, key_id: str) -> int:
    raw = reader.get(SEQ_PREFIX + key_id)
    return 0 if raw is None else int(raw)


class Registry:
    """The modules of the app and the actions they declare, by ``module.verb``."""

    def __init__(self, modules: Iterable[ModuleSpec]) -> None:
        self.modules: dict[str, ModuleSpec] = {}
        self.actions: dict[str, Action] = {}
        for module in modules:
            if module.name in self.modules:
                raise ValueError(f"module {module.name} registered twice")
            self.modules[module.name] = module
            for verb, action in module.actions.items():
                self.actions[f"{module.name}.{verb}"] = action

    def action(self, name: str) -> Action:
        try:
            return self.actions[name]
        except KeyError:
            raise UnknownActionError(f"no module handles {name!r}", field="tx.action") from None


def authorize(action: Action, signer: Signer, name: str) -> None:
    """The checks that need only the signer's record (roles, admin, steward)."""
    if action.open and not signer.registered:
        return
    if not signer.registered:
        raise UnknownKeyError("the signer key is not registered", field="tx.signer")
    if action.admin and not signer.admin:
        raise UnauthorizedError(f"{name} needs an organisation admin key", field="tx.signer")
    if action.steward and not signer.steward:
        raise UnauthorizedError(f"{name} is for steward organisations only", field="tx.signer")
    if action.roles is not None and not (action.roles & signer.roles):
        needed = " or ".join(sorted(action.roles))
        raise UnauthorizedError(f"{name} needs the role {needed}", field="tx.signer")


class Executor:
    """Runs genesis and blocks over a :class:`State`."""

    def __init__(self, registry: Registry, directory: SignerDirectory, chain_id: str) -> None:
        self.registry = registry
        self.directory = directory
        self.chain_id = chain_id

    # -- genesis ---------------------------------------------------------------
    def init_genesis(self, state: State, env: BlockEnv, app_state: dict[str, Any]) -> list[Event]:
        unknown = sorted(set(app_state) - set(self.registry.modules))
        if unknown:
            raise ValueError(f"genesis app_state names unknown module {unknown[0]!r}")
        out: list[Event] = []
        for name, module in self.registry.modules.items():
            data = app_state.get(name, {})
            if module.genesis_schema is not None:
                data = parse_message(module.genesis_schema, data)  # type: ignore[arg-type]
            out += module.init_genesis(state, env, data)
        state.release()
        return out

    # -- the envelope -------------------------------------------------------------
    def resolve(
        self,
        reader: StateReader,
        stx: SignedTx,
        checked: Checked | None = None,
        signature_verified: bool = False,
    ) -> tuple[Action, Message, Signer]:
        """Check everything about ``stx`` that needs no handler; return what runs it.

        Raises the envelope's errors (chain id, key, signature, sequence) and the
        action's stateless ones (unknown action, invalid message, authorization).
        ``checked`` returns the message parsed when the mempool checked this
        transaction, whose signature it then verified; None if it did not.
        ``signature_verified`` says a signature checker already verified it.
        """
        tx = stx.tx
        if tx.chain_id != self.chain_id:
            raise ChainIdError(
                f"signed for chain {tx.chain_id!r}; this is {self.chain_id!r}", field="tx.chain_id"
            )
        action = self.registry.action(tx.action)
        message = checked(stx.hash) if checked is not None else None
        verified = message is not None or signature_verified
        if message is None:
            message = parse_message(action.message, tx.body)
        signer = self.directory.signer(reader, tx.signer)
        if signer is None:
            if not action.open:
                raise UnknownKeyError(f"key {tx.signer} is not registered", field="tx.signer")
            public_key = bytes.fromhex(getattr(message, "public_key", ""))
            if key_id(public_key) != tx.signer:
                raise UnauthorizedError(
                    "must be the key id of body.public_key: an application is signed by "
                    "the key it registers",
                    field="tx.signer",
                )
            signer = self.directory.open_signer(tx.signer, public_key)
        elif not signer.active:
            raise UnknownKeyError(
                f"key {tx.signer} is revoked or its organisation is not active", field="tx.signer"
            )
        if not verified and not verify(signer.public_key, TX_DOMAIN, stx.sign_bytes, stx.signature):
            raise SignatureError("does not verify against the signer's key", field="sig")
        authorize(action, signer, tx.action)
        return action, message, signer

    def check_sequence(
        self, reader: StateReader, stx: SignedTx, expected: int | None = None
    ) -> None:
        want = get_sequence(reader, stx.tx.signer) if expected is None else expected
        if stx.tx.seq != want:
            word = "replayed" if stx.tx.seq < want else "skipped ahead"
            raise SequenceError(f"sequence {stx.tx.seq} {word}; expected {want}", field="tx.seq")

    # -- blocks --------------------------------------------------------------
    def execute_tx(
        self,
        state: State,
        env: BlockEnv,
        raw: bytes,
        checked: Checked | None = None,
        decoded: SignedTx | None = None,
    ) -> TxResult:
        tx_hash = codec.sha256(raw) if decoded is None else decoded.hash
        try:
            stx = decode_tx(raw) if decoded is None else decoded
        except PortchainError as exc:
            return TxResult.failed(tx_hash, exc)
        signer_id, name = stx.tx.signer, stx.tx.action
        try:
            self.check_sequence(state, stx)
            action, message, signer = self.resolve(state, stx, checked)
        except PortchainError as exc:
            return TxResult.failed(tx_hash, exc, signer_id, name)
        seq_key = SEQ_PREFIX + signer_id
        if signer.registered:
            # Advances even if the action fails: the signer did sign it (no replay).
            state.set(seq_key, str(stx.tx.seq + 1).encode())
            state.release()
        mark = state.snapshot()
        try:
            events = action.handler(state, env, Context(signer, tx_hash), message)
            if not signer.registered:
                state.set(seq_key, str(stx.tx.seq + 1).encode())
        except PortchainError as exc:
            state.rollback(mark)
            return TxResult.failed(tx_hash, exc, signer_id, name)
        except Exception:
            state.rollback(mark)
            log.exception("handler %s failed on tx %s", name, tx_hash.hex())
            return TxResult.failed(
                tx_hash, InternalError(f"{name} failed unexpectedly"), signer_id, name
            )
        state.release()
        return TxResult(tx_hash, 0, "", "", tuple(events), signer_id, name)

    def end_block(self, state: State, env: BlockEnv) -> list[Event]:
        out: list[Event] = []
        for module in self.registry.modules.values():
            if module.end_block is not None:
                out += module.end_block(state, env)
        state.release()
        return out

    def execute_block(
        self,
        state: State,
        block: Block,
        checked: Checked | None = None,
        decoded: Collection[SignedTx | None] | None = None,
    ) -> BlockResult:
        """Run ``block`` on ``state`` (whose writes it buffers) and compute the new root."""
        header = block.header
        env = BlockEnv(header.chain_id, header.height, header.time_ms, block.hash, header.proposer)
        pre = list(decoded) if decoded is not None else [None] * len(block.txs)
        results = tuple(
            self.execute_tx(state, env, raw, checked, stx)
            for raw, stx in zip(block.txs, pre, strict=True)
        )
        block_events = tuple(self.end_block(state, env))
        app_hash = state.finish_block()
        return BlockResult(
            block, results, block_events, app_hash, results_hash(results, block_events)
        )
