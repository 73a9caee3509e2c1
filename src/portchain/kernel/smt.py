"""A compact sparse Merkle tree: the authenticated map behind the app hash.

Why this structure
------------------
Every key is placed by the bits of ``SHA-256(key)`` in a binary tree of depth
256, of which only the occupied part is stored: a subtree holding a single
entry is represented by that entry's leaf, hoisted as high as it can go, and an
empty subtree by 32 zero bytes. So

* the shape depends only on the set of keys, never on the order or batching of
  the writes that produced it, and the root commits to every key and value;
* hashed keys spread evenly, so a leaf sits about ``log2(n)`` levels down and an
  update rehashes about ``log2(n)`` nodes: logarithmic, as a ledger serving a
  port's millions of container events needs; a whole block's writes are applied
  in one batched pass that rehashes each touched node once;
* a proof is the list of sibling hashes on the path plus the leaf found at its
  end, and proves presence (that leaf is the key's) or absence (the path ends in
  an empty subtree or in another key's leaf), checked by :func:`verify_proof`
  with nothing but the root.

Nodes are immutable; an update copies the path it changes. Keeping an old root
is therefore a free snapshot, which the app uses to abandon a block that was
executed but never committed.

Hashes (domain-separated so a leaf can never pass for an inner node)::

    leaf  = SHA-256(0x00 || key_hash || value_hash)
    inner = SHA-256(0x01 || left || right)        empty = 32 zero bytes

A node is stored under its hash as the 65 bytes after SHA-256's input, so a
stored node checks itself.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Union

EMPTY = bytes(32)
"""Hash of an empty subtree and root of an empty tree."""

MAX_DEPTH = 256
_LEAF = b"\x00"
_INNER = b"\x01"


def _bit(key_hash: bytes, depth: int) -> int:
    return (key_hash[depth >> 3] >> (7 - (depth & 7))) & 1


class Leaf:
    __slots__ = ("key_hash", "stored", "value_hash")

    def __init__(self, key_hash: bytes, value_hash: bytes, stored: bool = False) -> None:
        self.key_hash = key_hash
        self.value_hash = value_hash
        self.stored = stored

    @property
    def hash(self) -> bytes:
        return hashlib.sha256(_LEAF + self.key_hash + self.value_hash).digest()

    def encode(self) -> bytes:
        return _LEAF + self.key_hash + self.value_hash


class Stub:
    """A stored node not yet loaded into memory."""

    __slots__ = ("hash",)

    def __init__(self, hash_: bytes) -> None:
        self.hash = hash_


class Inner:
    __slots__ = ("_hash", "left", "right", "stored")

    def __init__(self, left: Node, right: Node, hash_: bytes | None = None) -> None:
        self.left = left
        self.right = right
        self._hash = hash_
        self.stored = hash_ is not None

    @property
    def hash(self) -> bytes:
        if self._hash is None:
            left = EMPTY if self.left is None else self.left.hash
            right = EMPTY if self.right is None else self.right.hash
            self._hash = hashlib.sha256(_INNER + left + right).digest()
        return self._hash

    def encode(self) -> bytes:
        left = EMPTY if self.left is None else self.left.hash
        right = EMPTY if self.right is None else self.right.hash
        return _INNER + left + right


Node = Union[Leaf, Inner, Stub, None]  # noqa: UP007 (a runtime alias used before the classes)
Item = tuple[bytes, bytes | None]
"""A pending write: (key hash, value hash), or (key hash, None) to delete."""

NodeLoader = Callable[[bytes], bytes | None]


class MissingNodeError(Exception):
    """A node the tree refers to is not in storage: the store is damaged."""


@dataclass(frozen=True)
class Proof:
    """Siblings from the root down, and the leaf at the end of the path (None if empty)."""

    siblings: tuple[bytes, ...]
    leaf: tuple[bytes, bytes] | None

    def as_dict(self) -> dict[str, object]:
        return {
            "siblings": [s.hex() for s in self.siblings],
            "leaf": None
            if self.leaf is None
            else {"key_hash": self.leaf[0].hex(), "value_hash": self.leaf[1].hex()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Proof:
        siblings = data["siblings"]
        leaf = data["leaf"]
        if not isinstance(siblings, list) or len(siblings) > MAX_DEPTH:
            raise ValueError("proof siblings must be a list of at most 256 hashes")
        parsed_leaf: tuple[bytes, bytes] | None = None
        if leaf is not None:
            if not isinstance(leaf, dict):
                raise ValueError("proof leaf must be an object or null")
            parsed_leaf = (bytes.fromhex(leaf["key_hash"]), bytes.fromhex(leaf["value_hash"]))
        return cls(tuple(bytes.fromhex(s) for s in siblings), parsed_leaf)


def verify_proof(root: bytes, key: bytes, value: bytes | None, proof: Proof) -> bool:
    """Check that under ``root``, ``key`` maps to ``value`` (or is absent when None).

    Needs nothing but the root: this is what an outsider runs on a proof bundle.
    """
    key_hash = hashlib.sha256(key).digest()
    depth = len(proof.siblings)
    if depth > MAX_DEPTH:
        return False
    if value is not None:
        if proof.leaf is None or proof.leaf[0] != key_hash:
            return False
        if proof.leaf[1] != hashlib.sha256(value).digest():
            return False
    elif proof.leaf is not None:
        other = proof.leaf[0]
        if other == key_hash:
            return False
        # Another key's leaf only proves absence if it sits on this key's path.
        if any(_bit(other, i) != _bit(key_hash, i) for i in range(depth)):
            return False
    node = EMPTY
    if proof.leaf is not None:
        if len(proof.leaf[0]) != 32 or len(proof.leaf[1]) != 32:
            return False
        node = hashlib.sha256(_LEAF + proof.leaf[0] + proof.leaf[1]).digest()
    for i in range(depth - 1, -1, -1):
        sibling = proof.siblings[i]
        if len(sibling) != 32:
            return False
        if _bit(key_hash, i):
            node = hashlib.sha256(_INNER + sibling + node).digest()
        else:
            node = hashlib.sha256(_INNER + node + sibling).digest()
    return node == root


class MerkleTree:
    """The tree over hashed keys; nodes load lazily from ``loader`` by hash."""

    def __init__(self, root_hash: bytes = EMPTY, loader: NodeLoader | None = None) -> None:
        self._loader = loader
        self.root: Node = None if root_hash == EMPTY else Stub(root_hash)

    # -- reading ----------------------------------------------------------
    @property
    def root_hash(self) -> bytes:
        return EMPTY if self.root is None else self.root.hash

    def _load(self, node: Node) -> Node:
        if type(node) is not Stub:
            return node
        encoded = self._loader(node.hash) if self._loader else None
        if encoded is None or len(encoded) != 65:
            raise MissingNodeError(f"tree node {node.hash.hex()} is missing from storage")
        if encoded[:1] == _LEAF:
            return Leaf(encoded[1:33], encoded[33:65], stored=True)
        left, right = encoded[1:33], encoded[33:65]
        return Inner(
            None if left == EMPTY else Stub(left),
            None if right == EMPTY else Stub(right),
            node.hash,
        )

    def _child(self, parent: Inner, side: int) -> Node:
        child = parent.right if side else parent.left
        if type(child) is Stub:
            child = self._load(child)
            if side:
                parent.right = child
            else:
                parent.left = child
        return child

    def get(self, key_hash: bytes) -> bytes | None:
        """The value hash stored for ``key_hash``, or None."""
        self.root = node = self._load(self.root)
        depth = 0
        while type(node) is Inner:
            node = self._child(node, _bit(key_hash, depth))
            depth += 1
        if type(node) is Leaf and node.key_hash == key_hash:
            return node.value_hash
        return None

    def prove(self, key_hash: bytes) -> Proof:
        """A proof of presence or absence of ``key_hash`` against :attr:`root_hash`."""
        self.root = node = self._load(self.root)
        siblings: list[bytes] = []
        depth = 0
        while type(node) is Inner:
            side = _bit(key_hash, depth)
            other = node.left if side else node.right
            siblings.append(EMPTY if other is None else other.hash)
            node = self._child(node, side)
            depth += 1
        leaf = (node.key_hash, node.value_hash) if type(node) is Leaf else None
        return Proof(tuple(siblings), leaf)

    # -- writing ----------------------------------------------------------
    def update(self, items: Iterable[Item]) -> bytes:
        """Apply a batch of writes (last write per key wins) and return the new root hash."""
        latest = dict(items)
        batch = sorted(latest.items())
        if batch:
            self.root = self._update(self.root, 0, batch)
        return self.root_hash

    def _update(self, node: Node, depth: int, items: list[Item]) -> Node:
        node = self._load(node)
        if node is None:
            return _build(depth, [(k, v) for k, v in items if v is not None])
        if type(node) is Leaf:
            merged = [(k, v) for k, v in items if v is not None]
            if not any(k == node.key_hash for k, _ in items):
                merged.append((node.key_hash, node.value_hash))
                merged.sort()
            elif len(items) == 1 and items[0][1] == node.value_hash:
                return node  # rewriting the same value changes nothing
            return _build(depth, merged)
        assert type(node) is Inner
        split = bisect_left(items, 1, key=lambda item: _bit(item[0], depth))
        left, right = node.left, node.right
        if split:
            left = self._update(left, depth + 1, items[:split])
        if split < len(items):
            right = self._update(right, depth + 1, items[split:])
        if left is None and right is None:
            return None
        # A lone leaf under an inner node is hoisted: the shape depends on the keys alone.
        if left is None:
            right = self._load(right)
            if type(right) is Leaf:
                return right
        elif right is None:
            left = self._load(left)
            if type(left) is Leaf:
                return left
        if left is node.left and right is node.right:
            return node
        return Inner(left, right)

    def take_unstored(self) -> list[tuple[bytes, bytes]]:
        """Nodes created since the last call, as (hash, encoding), and mark them stored."""
        out: list[tuple[bytes, bytes]] = []
        stack: list[Node] = [self.root]
        while stack:
            node = stack.pop()
            if node is None or type(node) is Stub or node.stored:
                continue
            node.stored = True
            out.append((node.hash, node.encode()))
            if type(node) is Inner:
                stack.append(node.left)
                stack.append(node.right)
        return out


def _build(depth: int, items: list[tuple[bytes, bytes | None]]) -> Node:
    """A fresh subtree holding ``items`` (sorted, all values present) below ``depth``."""
    if not items:
        return None
    if len(items) == 1:
        key_hash, value_hash = items[0]
        assert value_hash is not None
        return Leaf(key_hash, value_hash)
    if depth >= MAX_DEPTH:
        raise ValueError("two different keys cannot share all 256 bits of their hash")
    split = bisect_left(items, 1, key=lambda item: _bit(item[0], depth))
    return Inner(_build(depth + 1, items[:split]), _build(depth + 1, items[split:]))
