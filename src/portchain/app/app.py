"""The application every engine drives: check, finalize, commit, info, query.

It is the only thing that changes state, and it does not know which engine
calls it. The solo engine calls it in-process; the CometBFT adapter calls the
same methods from ABCI requests (``CheckTx``, ``FinalizeBlock``, ``Commit``,
``Info``, ``Query``), so a chain made by one replays identically in the other.

* :meth:`App.check_tx` admits a transaction to a mempool: everything that can
  be checked before its block (decode, chain id, key, signature, sequence
  counting transactions already pending, stateless message rules, the signer's
  roles). Verified signatures are remembered so execution does not verify twice.
* :meth:`App.finalize_block` executes a block and returns its results and app
  hash, persisting nothing.
* :meth:`App.commit` makes that block durable in one storage transaction.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass

from portchain.app.execute import BlockResult, Executor, Registry, get_sequence
from portchain.app.genesis import GenesisDoc, parse_genesis
from portchain.kernel.block import Block, Commit
from portchain.kernel.errors import DuplicateError
from portchain.kernel.module import Message, ModuleSpec, SignerDirectory, StateReader
from portchain.kernel.state import State
from portchain.kernel.tx import SignedTx, decode_tx
from portchain.storage.sqlite import Storage

VERIFIED_CACHE_SIZE = 200_000
"""Transaction ids whose signatures were verified at check time, kept until executed."""


def default_modules() -> list[ModuleSpec]:
    """Every module, wired to the others' read functions through their declared interfaces."""
    from portchain.modules.documents import module as documents
    from portchain.modules.ebl import module as ebl
    from portchain.modules.logistics import module as logistics
    from portchain.modules.logistics import provides as logistics_provides
    from portchain.modules.membership import module as membership
    from portchain.modules.membership import store as membership_store
    from portchain.modules.port import module as port
    from portchain.modules.port import provides as port_provides
    from portchain.modules.trade import module as trade
    from portchain.modules.trade import provides as trade_provides

    return [
        membership.MODULE,
        trade.build(organisations=membership_store.get_org),
        logistics.build(
            terminals=port_provides.terminal,
            organisations=membership_store.get_org,
            contracts=trade_provides.contract,
        ),
        port.build(logistics=logistics_provides, organisations=membership_store),
        documents.build(organisations=membership_store.get_org),
        ebl.build(
            bookings=logistics_provides.booking,
            loaded=port_provides.loaded,
            organisations=membership_store.get_org,
        ),
    ]


def default_directory() -> SignerDirectory:
    from portchain.modules.membership.directory import MembershipDirectory

    return MembershipDirectory()


@dataclass(frozen=True)
class AppInfo:
    chain_id: str
    height: int
    app_hash: bytes
    last_block_hash: bytes


class NotInitialised(RuntimeError):
    """The app has no genesis yet."""


class App:
    def __init__(
        self,
        storage: Storage,
        modules: Iterable[ModuleSpec] | None = None,
        directory: SignerDirectory | None = None,
    ) -> None:
        self.storage = storage
        self.registry = Registry(default_modules() if modules is None else modules)
        self.directory = directory or default_directory()
        self.genesis: GenesisDoc | None = None
        self.executor: Executor | None = None
        self._pending: BlockResult | None = None
        self._pending_seq: dict[str, int] = {}
        self._verified: OrderedDict[bytes, Message] = OrderedDict()
        self._check_lock = threading.Lock()
        self._last: AppInfo | None = None
        self.check_reader: Callable[[], StateReader] = storage.reader
        """Where mempool checks read committed state: a per-thread reader by default; an
        engine that makes every app call on one thread may point it at the block thread's
        cached reader (it only ever holds committed values)."""
        raw = storage.writer.meta("genesis")
        if raw is not None:
            self._load(parse_genesis(raw))
        writer = storage.writer
        self.state = State(writer, writer.app_hash(), writer.root_node(), writer.next_node_id())

    def _load(self, genesis: GenesisDoc) -> None:
        self.genesis = genesis
        self.executor = Executor(self.registry, self.directory, genesis.chain_id)

    def _exec(self) -> Executor:
        if self.executor is None:
            raise NotInitialised("the node has no genesis; run portchain init")
        return self.executor

    # -- info and genesis ---------------------------------------------------------
    def info(self) -> AppInfo:
        """The last committed block: durable, or (see :meth:`commit`) being written."""
        if self._last is not None:
            return self._last
        reader = self.storage.writer
        return AppInfo(
            chain_id=self.genesis.chain_id if self.genesis else "",
            height=reader.height(),
            app_hash=reader.app_hash(),
            last_block_hash=reader.meta("last_block_hash") or bytes(32),
        )

    def init_chain(self, genesis: GenesisDoc) -> bytes:
        """Write genesis state (height 0); return the app hash. Idempotent for the same genesis."""
        existing = self.storage.writer.meta("genesis")
        if existing is not None:
            if parse_genesis(existing).hash != genesis.hash:
                raise ValueError("this node was initialised with a different genesis")
            return self.storage.writer.app_hash()
        self._load(genesis)
        state = self.state
        events = self._exec().init_genesis(state, genesis.env(), genesis.app_state)
        app_hash = state.finish_block()
        nodes = state.take_nodes()
        self.storage.init_genesis(
            genesis.encode(), dict(state.writes), nodes, app_hash, events, root_node=state.root_id
        )
        state.block_committed()
        return app_hash

    # -- mempool -------------------------------------------------------------
    def _checked(self, tx_hash: bytes) -> Message | None:
        return self._verified.get(tx_hash)

    def check_tx(self, raw: bytes, admit: Callable[[SignedTx], None] | None = None) -> SignedTx:
        """Admit ``raw`` to the mempool or raise the refusal (a :class:`PortchainError`).

        Safe to call from many threads at once; signature checks run in parallel.
        ``admit`` is called with the checked transaction while its sequence number is
        reserved, so a mempool that appends there keeps each signer's order.
        """
        return self.check_decoded(decode_tx(raw), False, admit)

    def check_decoded(
        self,
        stx: SignedTx,
        signature_verified: bool,
        admit: Callable[[SignedTx], None] | None = None,
    ) -> SignedTx:
        """:meth:`check_tx` for a transaction already decoded, and perhaps already verified."""
        executor = self._exec()
        reader = self.check_reader()
        if stx.hash in self._verified:
            raise DuplicateError("this transaction is already pending", field="tx")
        _, message, _ = executor.resolve(reader, stx, None, signature_verified)
        with self._check_lock:
            signer = stx.tx.signer
            expected = max(get_sequence(reader, signer), self._pending_seq.get(signer, 0))
            executor.check_sequence(reader, stx, expected)
            if admit is not None:
                admit(stx)
            self._pending_seq[signer] = stx.tx.seq + 1
            self._verified[stx.hash] = message
            while len(self._verified) > VERIFIED_CACHE_SIZE:
                self._verified.popitem(last=False)
        return stx

    def next_sequence(self, key_id: str) -> int:
        committed = get_sequence(self.storage.reader(), key_id)
        with self._check_lock:
            return max(committed, self._pending_seq.get(key_id, 0))

    # -- blocks ----------------------------------------------------------------
    def finalize_block(
        self, block: Block, decoded: list[SignedTx | None] | None = None
    ) -> BlockResult:
        """Execute ``block``; return its results and app hash. Persists nothing."""
        executor = self._exec()
        if self._pending is not None:
            # Executed before but never committed (e.g. a round was abandoned): start over.
            self.state.discard_block()
        expected = self.info().height + 1
        if block.header.height != expected:
            raise ValueError(f"block {block.header.height} is not the next block ({expected})")
        self._pending = executor.execute_block(self.state, block, self._checked, decoded)
        return self._pending

    def commit(self, commit: Commit | None = None, background: bool = False) -> Future[None] | None:
        """Make the finalized block durable: state, results, index, height, app hash at once.

        With ``background`` the next block may be finalized at once, reading this one's
        writes from memory, while storage writes it; the returned future completes when it
        is durable. Until then the mempool still counts its transactions as pending.
        """
        result = self._pending
        if result is None:
            raise RuntimeError("commit without a finalized block")
        rows = [
            (r.hash, r.signer, r.action, r.code, r.codespace, r.log, list(r.events))
            for r in result.tx_results
        ]
        nodes, stale = self.state.take_nodes(), self.state.take_stale()
        written = self.storage.commit_block(
            result.block,
            rows,
            list(result.events),
            self.state.writes,
            nodes,
            result.app_hash,
            result.results_hash,
            commit,
            root_node=self.state.root_id,
            stale_nodes=stale,
            background=background,
        )
        self.state.block_committed()
        self._pending = None
        self._last = AppInfo(
            self.info().chain_id, result.block.header.height, result.app_hash, result.block.hash
        )
        if written is None:
            self._forget_committed(result)
        else:
            written.add_done_callback(lambda _: self._forget_committed(result))
        return written

    def _forget_committed(self, result: BlockResult) -> None:
        """The block is durable: its transactions no longer count as pending."""
        reader = self.storage.writer
        signers = {r.signer for r in result.tx_results if r.signer}
        with self._check_lock:
            verified = self._verified
            for r in result.tx_results:
                verified.pop(r.hash, None)
            for signer in signers:  # once each, not once per transaction
                if get_sequence(reader, signer) >= self._pending_seq.get(signer, 0):
                    self._pending_seq.pop(signer, None)
