"""Re-verify a whole chain from genesis, trusting nothing that was stored.

:func:`verify_chain` replays every block into a fresh in-memory state with the
same :class:`Executor` the node runs, checking on the way every header hash and
link, every transaction root, every signature (none is taken from a cache),
every sequence, every stored result and event, every commit's signatures, and
the app hash at every height. At the end the stored state and the stored event
index must equal what the replay produced, and the stored Merkle tree must hold
every stored key under the app hash, each node matching the hash its parent
names. Any flipped byte in blocks, transactions, results or state is therefore
found, and reported with the first height at which it shows.

A database written through CometBFT (meta ``engine`` = ``cometbft``) stores CometBFT's block
hash, which covers CometBFT's own header, and no commit certificate: the validators' signatures
are in CometBFT's block store. There the hash links between stored headers (each header's
``prev_hash`` is the previous block's stored hash) and the transaction roots are checked, and
the commit signatures are not; everything else is replayed the same.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portchain.app.app import default_directory, default_modules
from portchain.app.execute import Executor, Registry
from portchain.app.genesis import parse_genesis
from portchain.kernel import codec
from portchain.kernel.block import Block, Commit, Header
from portchain.kernel.events import Event
from portchain.kernel.smt import MissingNodeError
from portchain.kernel.state import MemoryBackend, State
from portchain.storage.sqlite import Reader, open_reader

Progress = Callable[[int, int], None]


class VerifyError(Exception):
    def __init__(self, height: int, problem: str) -> None:
        self.height = height
        self.problem = problem
        super().__init__(f"height {height}: {problem}")


@dataclass(frozen=True)
class Summary:
    height: int
    transactions: int
    failed: int
    app_hash: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": True,
            "height": self.height,
            "transactions": self.transactions,
            "failed_transactions": self.failed,
            "app_hash": self.app_hash,
        }


def _events_json(events: list[Event] | tuple[Event, ...]) -> list[dict[str, Any]]:
    return [e.as_dict() for e in events]


def verify_chain(db_path: Path, progress: Progress | None = None) -> Summary:
    """Replay the chain stored at ``db_path``; raise :class:`VerifyError` at the first fault."""
    if not db_path.exists():
        raise VerifyError(0, f"no database at {db_path}")
    reached = [0]

    def track(height: int, total: int) -> None:
        reached[0] = height
        if progress is not None:
            progress(height, total)

    try:
        reader = open_reader(db_path)  # a database of an earlier schema is migrated first
    except RuntimeError as exc:  # one that cannot be: its state is not what its app hash says
        raise VerifyError(0, str(exc)) from None
    try:
        return _verify(reader, track)
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        # Damage that makes stored data unreadable (a flipped byte in JSON, say).
        raise VerifyError(reached[0] + 1, f"stored data is unreadable: {exc!r}") from None


def _verify(reader: Reader, progress: Progress) -> Summary:
    raw_genesis = reader.meta("genesis")
    if raw_genesis is None:
        raise VerifyError(0, "the database has no genesis")
    genesis = parse_genesis(raw_genesis)
    validators = genesis.validator_set()
    total_power = sum(power for _, power in validators.values())
    executor = Executor(Registry(default_modules()), default_directory(), genesis.chain_id)
    backend = MemoryBackend()
    state = State(backend)
    genesis_events = executor.init_genesis(state, genesis.env(), genesis.app_state)
    root = state.finish_block()
    backend.apply(dict(state.writes), state.take_nodes())
    state.block_committed()
    if root != reader.meta("genesis_app_hash"):
        raise VerifyError(0, "genesis state does not replay to the stored genesis app hash")
    if json.loads(reader.meta("genesis_events") or b"[]") != _events_json(genesis_events):
        raise VerifyError(0, "stored genesis events differ from the replay")

    height = reader.height()
    cometbft = reader.meta("engine") == b"cometbft"
    prev_hash = bytes(32)
    prev_time = -1
    count = failed = 0
    for h in range(1, height + 1):
        stored = reader.block(h)
        if stored is None:
            raise VerifyError(h, "block is missing")
        header = Header.from_dict(stored.header)
        if header.hash != stored.hash and not cometbft:
            raise VerifyError(h, "header does not hash to the stored block hash")
        if header.height != h or header.chain_id != genesis.chain_id:
            raise VerifyError(h, "header names the wrong height or chain")
        if header.prev_hash != prev_hash:
            raise VerifyError(h, "header does not link to the previous block")
        if header.time_ms <= prev_time:
            raise VerifyError(h, "block time does not increase")
        if header.app_hash != root:
            raise VerifyError(
                h, "header's app hash is not the replayed state of the previous block"
            )
        txs = reader.block_txs(h)
        if len(txs) != stored.num_txs or [t.index for t in txs] != list(range(len(txs))):
            raise VerifyError(h, "the block's transactions are missing or out of order")
        for t in txs:
            if codec.sha256(t.raw) != t.hash:
                raise VerifyError(h, f"transaction {t.index} does not hash to its id")
        block = Block(header, tuple(t.raw for t in txs), stored.hash)
        rebuilt = Block.build(
            chain_id=header.chain_id,
            height=h,
            time_ms=header.time_ms,
            prev_hash=header.prev_hash,
            app_hash=header.app_hash,
            proposer=header.proposer,
            txs=list(block.txs),
        )
        if rebuilt.header != header or (rebuilt.hash != stored.hash and not cometbft):
            raise VerifyError(h, "transactions do not match the header's transaction root")
        result = executor.execute_block(state, block)  # every signature verified again
        for t, r in zip(txs, result.tx_results, strict=True):
            if (t.code, t.codespace, t.log, t.signer, t.action) != (
                r.code,
                r.codespace,
                r.log,
                r.signer,
                r.action,
            ) or t.events != _events_json(r.events):
                raise VerifyError(
                    h, f"stored result of transaction {t.index} differs from the replay"
                )
            count += 1
            failed += 1 if r.code else 0
        if stored.block_events != _events_json(result.events):
            raise VerifyError(h, "stored block events differ from the replay")
        if result.app_hash != stored.app_hash:
            raise VerifyError(h, "stored app hash differs from the replayed state")
        if result.results_hash != stored.results_hash:
            raise VerifyError(h, "stored results hash differs from the replay")
        if not cometbft:
            _check_commit(
                h,
                stored.commit,
                stored.hash,
                result.app_hash,
                result.results_hash,
                validators,
                total_power,
                genesis.chain_id,
            )
        _check_events(reader, h, result)
        root = result.app_hash
        backend.apply(dict(state.writes), state.take_nodes(), state.take_stale())
        state.block_committed()
        prev_hash, prev_time = stored.hash, header.time_ms
        progress(h, height)
    if reader.app_hash() != root:
        raise VerifyError(height, "the node's recorded app hash differs from the replay")
    _check_state(reader, backend, height)
    return Summary(height, count, failed, root.hex())


def _check_commit(
    height: int,
    data: dict[str, Any] | None,
    block_hash: bytes,
    app_hash: bytes,
    results_hash: bytes,
    validators: dict[str, tuple[bytes, int]],
    total_power: int,
    chain_id: str,
) -> None:
    if data is None:
        raise VerifyError(height, "block has no commit signatures")
    try:
        commit = Commit.from_dict(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise VerifyError(height, f"commit is malformed: {exc!r}") from None
    expected = (chain_id, height, block_hash, app_hash, results_hash)
    if (
        commit.chain_id,
        commit.height,
        commit.block_hash,
        commit.app_hash,
        commit.results_hash,
    ) != expected:
        raise VerifyError(height, "commit does not sign this block and its results")
    if commit.voting_power(validators) * 3 <= total_power * 2:
        raise VerifyError(height, "commit lacks signatures of more than 2/3 of the voting power")


def _check_events(reader: Reader, height: int, result: Any) -> None:
    expected = []
    for r in result.tx_results:
        expected += [(r.hash.hex(), e.as_dict()) for e in r.events]
    expected += [(None, e.as_dict()) for e in result.events]
    rows = reader.block_events(height)
    got = [
        (row["tx"], Event(row["type"], tuple(row["attributes"].items()), row["audience"]).as_dict())
        for row in rows
    ]
    if got != expected or [row["index"] for row in rows] != list(range(len(rows))):
        raise VerifyError(height, "stored events differ from the replay")


def _check_state(reader: Reader, backend: MemoryBackend, height: int) -> None:
    stored_keys = 0
    for key, value in reader.state_items():
        stored_keys += 1
        if backend.values.get(key) != value:
            raise VerifyError(height, f"stored state differs from the replay at key {key!r}")
    if stored_keys != len(backend.values):
        raise VerifyError(height, "stored state is missing keys the replay has")
    # Every stored key's path in the stored tree, each node checked against the hash its
    # parent names, down from the stored app hash (which the replay has confirmed).
    tree = reader.tree()
    try:
        for key, value in reader.state_items():
            if tree.get(codec.sha256(key.encode())) != codec.sha256(value):
                raise VerifyError(height, f"the stored Merkle tree lacks key {key!r}")
        in_tree = sum(1 for _ in tree.node_ids())
    except MissingNodeError as exc:
        raise VerifyError(height, f"stored Merkle tree: {exc}") from exc
    # Only the latest tree is kept: a node outside it is one a commit failed to delete.
    outside = reader.count_nodes() - in_tree
    if outside:
        raise VerifyError(height, f"{outside} stored Merkle nodes are not in the tree")
    for name, indexed, h, attributes in reader.index_entries():
        if attributes is None or attributes.get(name) != indexed:
            raise VerifyError(h, f"event index entry {name}={indexed!r} points at no such event")
