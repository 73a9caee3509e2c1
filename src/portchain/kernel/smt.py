"""A compact sparse Merkle tree of radix 16: the authenticated map behind the app hash.

Why this structure
------------------
Every key is placed by the nibbles (4-bit digits) of ``SHA-256(key)`` in a
16-ary tree of depth 64, of which only the occupied part exists: a subtree
holding a single entry is represented by that entry's leaf, hoisted as high as
it can go, and an empty subtree by nothing at all. So

* the shape depends only on the set of keys, never on the order or batching of
  the writes that produced it, and the root commits to every key and value;
* hashed keys spread evenly, so a leaf sits about ``log16(n)`` levels down
  (five levels for a million keys) and an update rehashes that many nodes:
  logarithmic in the state, as a ledger serving a port's millions of container
  events needs. Radix 16 rather than 2 because in Python the cost is per node
  touched, not per byte hashed: four times fewer nodes per update. A block's
  writes are applied in one batched pass that rehashes each touched node once;
* a proof lists, level by level, the non-empty siblings on the key's path, and
  the leaf found at its end; it proves presence (that leaf is the key's) or
  absence (the path ends in an empty slot or in another key's leaf), checked by
  :func:`verify_proof` with nothing but the root.

Nodes are immutable; an update copies the path it changes. Keeping an old root
is therefore a free snapshot, which the app uses to abandon a block that was
executed but never committed.

Storage
-------
Stored nodes are numbered in the order they are stored (ids 1, 2, 3...), and an
inner node records its children's ids beside their hashes. A block's new nodes
therefore take consecutive ids and are appended together at the end of the
database's node table, instead of being scattered across it by their random
hashes (which made every node a page write of its own, and committing a block
slower as the chain grew). The ids are bookkeeping of one database, never hashed:
the root and every proof are the same whatever the numbering.

Only the latest tree is kept: a stored node that an update replaces (or
removes) is handed out by :meth:`MerkleTree.take_stale`, and the app deletes it
in the same storage transaction that stores the new root.

Hashes (domain-separated so a leaf can never pass for an inner node)::

    leaf  = SHA-256(0x00 || key_hash || value_hash)
    inner = SHA-256(0x01 || bitmap || child hashes)   bitmap: 2 bytes, bit i set
                                                      when child i is non-empty,
                                                      child hashes in slot order
    empty tree root = 32 zero bytes

A stored node is the bytes after SHA-256's input (for an inner node, followed
by its children's ids, 8 bytes each in slot order): loading checks those bytes
against the hash the parent (or the app hash) names, so a damaged store is found.
"""

from __future__ import annotations

import hashlib
import struct
from bisect import bisect_left
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Union

EMPTY = bytes(32)
"""Root of an empty tree."""

RADIX = 16
MAX_DEPTH = 64
"""Nibbles in a SHA-256 key hash: the deepest a leaf can sit."""

_LEAF = b"\x00"
_INNER = b"\x01"
_ID_BYTES = 8
_IDS = [struct.Struct(f">{count}Q") for count in range(RADIX + 1)]
"""The children's ids of an inner node with ``count`` children, as stored."""


def _nibble(key: int, depth: int) -> int:
    return (key >> (252 - 4 * depth)) & 0xF


class Leaf:
    __slots__ = ("_hash", "id", "key_hash", "value_hash")

    def __init__(self, key_hash: bytes, value_hash: bytes, id_: int = 0) -> None:
        self.key_hash = key_hash
        self.value_hash = value_hash
        self.id = id_
        """Storage id; 0 until stored."""
        self._hash: bytes | None = None

    @property
    def hash(self) -> bytes:
        if self._hash is None:
            self._hash = hashlib.sha256(_LEAF + self.key_hash + self.value_hash).digest()
        return self._hash

    def encode(self) -> bytes:
        return _LEAF + self.key_hash + self.value_hash

    stored_form = encode
    """A leaf is stored as the bytes it hashes."""


class Stub:
    """A stored node not yet loaded into memory: its hash and storage id."""

    __slots__ = ("hash", "id")

    def __init__(self, hash_: bytes, id_: int) -> None:
        self.hash = hash_
        self.id = id_


class Inner:
    __slots__ = ("_encoded", "_hash", "children", "id")

    def __init__(self, children: list[Node], hash_: bytes | None = None, id_: int = 0) -> None:
        self.children = children
        self._hash = hash_
        self._encoded: bytes | None = None
        self.id = id_
        """Storage id; 0 until stored."""

    def encode(self) -> bytes:
        if self._encoded is not None:
            return self._encoded
        bitmap = 0
        hashes = []
        bit = 1
        for child in self.children:
            if child is not None:
                bitmap |= bit
                hashes.append(child.hash)
            bit <<= 1
        return _INNER + bitmap.to_bytes(2, "big") + b"".join(hashes)

    @property
    def hash(self) -> bytes:
        if self._hash is None:
            # Kept until the node is stored, so storing it does not encode it again.
            self._encoded = self.encode()
            self._hash = hashlib.sha256(self._encoded).digest()
        return self._hash

    def stored_form(self) -> bytes:
        """The hashed bytes, then each present child's storage id (all stored before it)."""
        ids = [child.id for child in self.children if child is not None]
        assert 0 not in ids, "a node is stored after its children"
        return self.encode() + _IDS[len(ids)].pack(*ids)


Node = Union[Leaf, Inner, Stub, None]  # noqa: UP007 (a runtime alias used before the classes)
Item = tuple[bytes, bytes | None]
"""A pending write: (key hash, value hash), or (key hash, None) to delete."""

NodeLoader = Callable[[int], bytes | None]
"""A stored node's bytes by its storage id (None: not stored)."""
_Entry = tuple[Any, ...]
"""(key as an integer, key hash, value hash or None), and for a leaf already in the tree, it."""


class MissingNodeError(Exception):
    """A node the tree refers to is not in storage: the store is damaged."""


@dataclass(frozen=True)
class Proof:
    """Per level from the root down, the non-empty siblings as (slot, hash); then the leaf."""

    levels: tuple[tuple[tuple[int, bytes], ...], ...]
    leaf: tuple[bytes, bytes] | None

    def as_dict(self) -> dict[str, object]:
        return {
            "levels": [[[slot, h.hex()] for slot, h in level] for level in self.levels],
            "leaf": None
            if self.leaf is None
            else {"key_hash": self.leaf[0].hex(), "value_hash": self.leaf[1].hex()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Proof:
        levels = data["levels"]
        leaf = data["leaf"]
        if not isinstance(levels, list) or len(levels) > MAX_DEPTH:
            raise ValueError("proof levels must be a list of at most 64 levels")
        parsed: list[tuple[tuple[int, bytes], ...]] = []
        for level in levels:
            if not isinstance(level, list) or len(level) > RADIX - 1:
                raise ValueError("each proof level lists at most 15 siblings")
            parsed.append(tuple((int(slot), bytes.fromhex(h)) for slot, h in level))
        parsed_leaf: tuple[bytes, bytes] | None = None
        if leaf is not None:
            if not isinstance(leaf, dict):
                raise ValueError("proof leaf must be an object or null")
            parsed_leaf = (bytes.fromhex(leaf["key_hash"]), bytes.fromhex(leaf["value_hash"]))
        return cls(tuple(parsed), parsed_leaf)


def verify_proof(root: bytes, key: bytes, value: bytes | None, proof: Proof) -> bool:
    """Check that under ``root``, ``key`` maps to ``value`` (or is absent when None).

    Needs nothing but the root: this is what an outsider runs on a proof bundle.
    """
    key_hash = hashlib.sha256(key).digest()
    key_int = int.from_bytes(key_hash, "big")
    depth = len(proof.levels)
    if depth > MAX_DEPTH:
        return False
    if value is not None:
        if proof.leaf is None or proof.leaf[0] != key_hash:
            return False
        if proof.leaf[1] != hashlib.sha256(value).digest():
            return False
    elif proof.leaf is not None:
        other = int.from_bytes(proof.leaf[0], "big")
        # Another key's leaf proves absence only if it sits on this key's path.
        if other == key_int or (depth and (other ^ key_int) >> (256 - 4 * depth)):
            return False
    node: bytes | None = None
    if proof.leaf is not None:
        if len(proof.leaf[0]) != 32 or len(proof.leaf[1]) != 32:
            return False
        node = hashlib.sha256(_LEAF + proof.leaf[0] + proof.leaf[1]).digest()
    for depth_i in range(depth - 1, -1, -1):
        own = _nibble(key_int, depth_i)
        slots: dict[int, bytes] = {}
        for slot, sibling in proof.levels[depth_i]:
            if not 0 <= slot < RADIX or slot == own or slot in slots or len(sibling) != 32:
                return False
            slots[slot] = sibling
        if node is not None:
            slots[own] = node
        bitmap = 0
        for slot in slots:
            bitmap |= 1 << slot
        node = hashlib.sha256(
            _INNER + bitmap.to_bytes(2, "big") + b"".join(slots[s] for s in sorted(slots))
        ).digest()
    return (node or EMPTY) == root


class MerkleTree:
    """The tree over hashed keys; nodes load lazily from ``loader`` by storage id.

    Args:
        root_hash: the root to start from (the app hash); ``EMPTY`` for an empty tree.
        loader: reads a stored node by id.
        root_id: the storage id of the root node.
        next_id: the id :meth:`take_unstored` gives the next node it hands out (one more
            than the largest id stored).
    """

    def __init__(
        self,
        root_hash: bytes = EMPTY,
        loader: NodeLoader | None = None,
        root_id: int = 0,
        next_id: int = 1,
    ) -> None:
        self._loader = loader
        self.root: Node = None if root_hash == EMPTY else Stub(root_hash, root_id)
        self.next_id = next_id
        self._made: list[Leaf | Inner] = []
        """Nodes created since the last :meth:`take_unstored`, to persist."""
        self._stale: list[int] = []
        """Ids of stored nodes replaced since the last :meth:`take_stale`, to delete."""

    # -- reading ----------------------------------------------------------
    @property
    def root_hash(self) -> bytes:
        return EMPTY if self.root is None else self.root.hash

    @property
    def root_id(self) -> int:
        """The root's storage id (0 for an empty tree, or a root not yet stored)."""
        return 0 if self.root is None else self.root.id

    def _load(self, node: Node) -> Node:
        if type(node) is not Stub:
            return node
        stored = self._loader(node.id) if self._loader and node.id else None
        if stored is None:
            raise MissingNodeError(f"tree node {node.hash.hex()} is missing from storage")
        if stored[:1] == _LEAF and len(stored) == 65:
            if hashlib.sha256(stored).digest() != node.hash:
                raise MissingNodeError(f"tree node {node.hash.hex()} is corrupt in storage")
            return Leaf(stored[1:33], stored[33:65], node.id)
        count = int.from_bytes(stored[1:3], "big").bit_count()
        hashed = 3 + 32 * count
        if stored[:1] != _INNER or len(stored) != hashed + _ID_BYTES * count:
            raise MissingNodeError(f"tree node {node.hash.hex()} is malformed in storage")
        if hashlib.sha256(stored[:hashed]).digest() != node.hash:
            raise MissingNodeError(f"tree node {node.hash.hex()} is corrupt in storage")
        bitmap = int.from_bytes(stored[1:3], "big")
        ids = iter(_IDS[count].unpack_from(stored, hashed))
        children: list[Node] = [None] * RADIX
        offset = 3
        for i in range(RADIX):
            if bitmap >> i & 1:
                children[i] = Stub(stored[offset : offset + 32], next(ids))
                offset += 32
        return Inner(children, node.hash, node.id)

    def _child(self, parent: Inner, slot: int) -> Node:
        child = parent.children[slot]
        if type(child) is Stub:
            child = parent.children[slot] = self._load(child)
        return child

    def get(self, key_hash: bytes) -> bytes | None:
        """The value hash stored for ``key_hash``, or None."""
        key = int.from_bytes(key_hash, "big")
        self.root = node = self._load(self.root)
        depth = 0
        while type(node) is Inner:
            node = self._child(node, _nibble(key, depth))
            depth += 1
        if type(node) is Leaf and node.key_hash == key_hash:
            return node.value_hash
        return None

    def node_ids(self) -> Iterable[int]:
        """The storage id of every node of the tree, loading all of it (0 for any unstored)."""
        self.root = self._load(self.root)
        todo: list[Node] = [self.root] if self.root is not None else []
        while todo:
            node = todo.pop()
            assert node is not None and type(node) is not Stub
            yield node.id
            if type(node) is Inner:
                todo += [self._child(node, s) for s, c in enumerate(node.children) if c is not None]

    def prove(self, key_hash: bytes) -> Proof:
        """A proof of presence or absence of ``key_hash`` against :attr:`root_hash`."""
        key = int.from_bytes(key_hash, "big")
        self.root = node = self._load(self.root)
        levels: list[tuple[tuple[int, bytes], ...]] = []
        depth = 0
        while type(node) is Inner:
            own = _nibble(key, depth)
            levels.append(
                tuple(
                    (slot, child.hash)
                    for slot, child in enumerate(node.children)
                    if child is not None and slot != own
                )
            )
            node = self._child(node, own)
            depth += 1
        leaf = (node.key_hash, node.value_hash) if type(node) is Leaf else None
        return Proof(tuple(levels), leaf)

    # -- writing ----------------------------------------------------------
    def update(self, items: Iterable[Item]) -> bytes:
        """Apply a batch of writes (last write per key wins) and return the new root hash."""
        latest = dict(items)
        if latest:
            # Key hashes as integers: a subtree's keys share a prefix, so where each
            # child's keys begin is one C-speed bisect on the sorted keys.
            batch = sorted((int.from_bytes(k, "big"), k, v) for k, v in latest.items())
            keys = [entry[0] for entry in batch]
            self.root = self._update(self.root, 0, batch, keys, 0, len(batch))
        return self.root_hash

    def _update(
        self, node: Node, depth: int, batch: list[_Entry], keys: list[int], lo: int, hi: int
    ) -> Node:
        node = self._load(node)
        if node is None:
            present = [e for e in batch[lo:hi] if e[2] is not None]
            return _build(depth, present, [e[0] for e in present], 0, len(present), self._made)
        if type(node) is Leaf:
            own = [e[2] for e in batch[lo:hi] if e[1] == node.key_hash]
            if own and own[0] != node.value_hash:  # its value changes, or it goes
                self._retire(node)
                merged = [e for e in batch[lo:hi] if e[2] is not None]
            elif hi - lo == len(own):
                return node  # rewriting the same value changes nothing
            else:  # the leaf itself moves down beside the new keys (it is not copied)
                merged = [e for e in batch[lo:hi] if e[2] is not None and e[1] != node.key_hash]
                merged.append(
                    (int.from_bytes(node.key_hash, "big"), node.key_hash, node.value_hash, node)
                )
                merged.sort()
            return _build(depth, merged, [e[0] for e in merged], 0, len(merged), self._made)
        assert type(node) is Inner
        children = list(node.children)
        changed = False
        for slot, start, end in _slots(keys, depth, lo, hi):
            old = children[slot]
            new = self._update(old, depth + 1, batch, keys, start, end)
            if new is old:
                continue
            if type(old) is Stub and new is not None and new.id == old.id:
                node.children[slot] = children[slot] = new  # only loaded: keep it so
                continue
            children[slot] = new
            changed = True
        if not changed:
            return node
        self._retire(node)
        return self._normalise(children)

    def _retire(self, node: Leaf | Inner) -> None:
        """``node`` is no longer part of the tree: delete it if stored, never store it if not."""
        if node.id > 0:
            self._stale.append(node.id)
        else:
            node.id = -1

    def _normalise(self, children: list[Node]) -> Node:
        """An inner node of ``children``, or what replaces it when it has fewer than two."""
        present = [c for c in children if c is not None]
        if not present:
            return None
        if len(present) == 1:
            only = self._load(present[0])
            if type(only) is Leaf:
                return only  # a lone leaf is hoisted: the shape depends on the keys alone
        node = Inner(children)
        self._made.append(node)
        return node

    def take_unstored(self) -> list[tuple[int, bytes]]:
        """Nodes created since the last call, numbered from :attr:`next_id` in the order they
        were made (children first), as (id, stored bytes) to persist."""
        out = []
        next_id = self.next_id
        for node in self._made:
            if not node.id:
                node.id = next_id
                next_id += 1
                out.append((node.id, node.stored_form()))
                if type(node) is Inner:
                    node._encoded = None
        self.next_id = next_id
        self._made = []
        return out

    def take_stale(self) -> list[int]:
        """Ids of the stored nodes replaced or removed since the last call, to delete."""
        stale, self._stale = self._stale, []
        return stale

    def forget_unstored(self) -> None:
        """Drop the record of nodes made, and of nodes replaced, by updates being abandoned."""
        self._made = []
        self._stale = []


def _slots(keys: list[int], depth: int, lo: int, hi: int) -> Iterable[tuple[int, int, int]]:
    """(slot, start, end) for each child slot that keys[lo:hi] fall in at ``depth``."""
    shift = 252 - 4 * depth
    start = lo
    while start < hi:
        slot = (keys[start] >> shift) & 0xF
        if slot == 15:
            end = hi
        else:
            bound = ((keys[start] >> (shift + 4)) << (shift + 4)) | ((slot + 1) << shift)
            end = bisect_left(keys, bound, start, hi)
        yield slot, start, end
        start = end


def _build(
    depth: int, entries: list[_Entry], keys: list[int], lo: int, hi: int, made: list[Leaf | Inner]
) -> Node:
    """A fresh subtree holding ``entries[lo:hi]`` (sorted, values present) at ``depth``."""
    if lo == hi:
        return None
    if hi - lo == 1:
        entry = entries[lo]
        if len(entry) == 4:
            kept: Leaf = entry[3]  # an existing leaf, kept
            return kept
        _, key_hash, value_hash = entry[:3]
        assert value_hash is not None
        leaf = Leaf(key_hash, value_hash)
        made.append(leaf)
        return leaf
    if depth >= MAX_DEPTH:
        raise ValueError("two different keys cannot share all 64 nibbles of their hash")
    children: list[Node] = [None] * RADIX
    for slot, start, end in _slots(keys, depth, lo, hi):
        children[slot] = _build(depth + 1, entries, keys, start, end, made)
    node = Inner(children)
    made.append(node)
    return node
