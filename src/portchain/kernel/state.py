"""The authenticated key-value state that handlers read and write.

A :class:`State` sits on top of the committed state (a :class:`StateBackend`,
SQLite in a node, a dict in a replay) and holds the writes of the block being
executed. Each transaction runs between :meth:`State.snapshot` and either
nothing (its writes stand) or :meth:`State.rollback` (its writes vanish), so a
failed transaction writes nothing (DESIGN.md invariant 2).

The Merkle tree is touched once per block, in :meth:`State.finish_block`, which
applies every key written in the block in one batched pass and returns the new
root: the app hash. :meth:`State.discard_block` returns to the committed root,
for a block that was executed but will not be committed.

Keys are printable ASCII paths such as ``membership/org/COSCO``; values are
bytes, usually the canonical JSON of a record.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any, Protocol

from portchain.kernel import codec
from portchain.kernel.smt import EMPTY, MerkleTree, Proof

MAX_KEY_BYTES = 256
"""Longest state key, in bytes."""

MAX_VALUE_BYTES = 256 * 1024
"""Largest value one key may hold, in bytes."""

_MISSING = object()


class StateBackend(Protocol):
    """Committed state: values by key and Merkle tree nodes by storage id."""

    def get_value(self, key: str) -> bytes | None: ...

    def load_node(self, node_id: int) -> bytes | None: ...


class MemoryBackend:
    """Committed state held in memory: for replays, verification and pure tests."""

    def __init__(self) -> None:
        self.values: dict[str, bytes] = {}
        self.nodes: dict[int, bytes] = {}

    def get_value(self, key: str) -> bytes | None:
        return self.values.get(key)

    def load_node(self, node_id: int) -> bytes | None:
        return self.nodes.get(node_id)

    def apply(
        self,
        writes: dict[str, bytes | None],
        nodes: list[tuple[int, bytes]],
        stale: Iterable[int] = (),
    ) -> None:
        for key, value in writes.items():
            if value is None:
                self.values.pop(key, None)
            else:
                self.values[key] = value
        self.nodes.update(nodes)
        for node_id in stale:
            del self.nodes[node_id]


class State:
    """Reads through to committed state; buffers one block's writes; snapshots per transaction."""

    def __init__(
        self, backend: StateBackend, root_hash: bytes = EMPTY, root_id: int = 0, next_id: int = 1
    ) -> None:
        """Over ``backend``'s committed state, whose tree has root ``root_hash`` stored as node
        ``root_id``; new nodes are numbered from ``next_id``."""
        self._backend = backend
        self._tree = MerkleTree(root_hash, backend.load_node, root_id, next_id)
        self._committed_root = self._tree.root
        self._writes: dict[str, bytes | None] = {}
        self._journal: list[tuple[str, object]] = []

    # -- reads ------------------------------------------------------------
    def get(self, key: str) -> bytes | None:
        value = self._writes.get(key, _MISSING)
        if value is _MISSING:
            return self._backend.get_value(key)
        return value  # type: ignore[return-value]

    def get_json(self, key: str) -> Any:
        raw = self.get(key)
        return None if raw is None else json.loads(raw)

    def has(self, key: str) -> bool:
        return self.get(key) is not None

    # -- writes -----------------------------------------------------------
    def set(self, key: str, value: bytes) -> None:
        _check_key(key)
        if len(value) > MAX_VALUE_BYTES:
            raise ValueError(f"value of {key} is {len(value)} bytes; limit {MAX_VALUE_BYTES}")
        self._journal.append((key, self._writes.get(key, _MISSING)))
        self._writes[key] = value

    def set_json(self, key: str, value: Any) -> None:
        self.set(key, codec.canonical(value))

    def delete(self, key: str) -> None:
        _check_key(key)
        self._journal.append((key, self._writes.get(key, _MISSING)))
        self._writes[key] = None

    # -- transactions -----------------------------------------------------
    def snapshot(self) -> int:
        """A mark to roll back to; marks are positions in the write journal."""
        return len(self._journal)

    def rollback(self, mark: int) -> None:
        """Undo every write made since ``mark``."""
        journal = self._journal
        writes = self._writes
        while len(journal) > mark:
            key, previous = journal.pop()
            if previous is _MISSING:
                del writes[key]
            else:
                writes[key] = previous  # type: ignore[assignment]

    def release(self) -> None:
        """Forget the journal: the writes so far stand for the rest of the block."""
        self._journal.clear()

    # -- blocks -----------------------------------------------------------
    def finish_block(self) -> bytes:
        """Apply the block's writes to the Merkle tree and return the new root (the app hash)."""
        self._journal.clear()
        sha = hashlib.sha256
        return self._tree.update(
            (sha(key.encode()).digest(), None if value is None else sha(value).digest())
            for key, value in self._writes.items()
        )

    @property
    def writes(self) -> dict[str, bytes | None]:
        """The block's writes so far (None = delete), in first-write order."""
        return self._writes

    def take_nodes(self) -> list[tuple[int, bytes]]:
        """Tree nodes created by :meth:`finish_block`, as (id, bytes), to persist with the
        block; then :attr:`root_id` is the new root's."""
        return self._tree.take_unstored()

    def take_stale(self) -> list[int]:
        """Ids of stored tree nodes the block replaced, to delete as it is persisted."""
        return self._tree.take_stale()

    @property
    def root_id(self) -> int:
        """The storage id of the root (0: the tree is empty)."""
        return self._tree.root_id

    def block_committed(self) -> None:
        """The block is durable: its writes are now the committed state."""
        self._writes = {}
        self._journal.clear()
        self._committed_root = self._tree.root

    def discard_block(self) -> None:
        """Drop the block's writes and return the tree to the committed root."""
        self._writes = {}
        self._journal.clear()
        self._tree.root = self._committed_root
        self._tree.forget_unstored()

    # -- proofs -----------------------------------------------------------
    @property
    def root_hash(self) -> bytes:
        return self._tree.root_hash

    def prove(self, key: str) -> Proof:
        """Proof of ``key``'s committed value (or absence) against :attr:`root_hash`."""
        return self._tree.prove(codec.sha256(key.encode()))


def _check_key(key: str) -> None:
    if not key or len(key) > MAX_KEY_BYTES or not key.isascii() or not key.isprintable():
        raise ValueError(f"state key {key!r} must be 1-{MAX_KEY_BYTES} printable ASCII characters")
