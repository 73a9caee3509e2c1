"""The radix-16 sparse Merkle tree behind the app hash (``kernel.smt``).

Roots are checked against a small reference written from the module docstring's
hash rules alone, so a tree that is merely self-consistent but computes the wrong
commitment still fails.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portchain.kernel import codec
from portchain.kernel.smt import EMPTY, MerkleTree, MissingNodeError, Proof, verify_proof


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def nibble(key_hash: bytes, depth: int) -> int:
    byte = key_hash[depth // 2]
    return byte >> 4 if depth % 2 == 0 else byte & 0xF


def reference_root(entries: dict[bytes, bytes]) -> bytes:
    """The root the docstring specifies for {key hash: value hash}: a lone entry is a leaf."""

    def node(items: list[tuple[bytes, bytes]], depth: int) -> bytes | None:
        if not items:
            return None
        if len(items) == 1:
            key_hash, value_hash = items[0]
            return sha(b"\x00" + key_hash + value_hash)
        groups: list[list[tuple[bytes, bytes]]] = [[] for _ in range(16)]
        for item in items:
            groups[nibble(item[0], depth)].append(item)
        bitmap, hashes = 0, b""
        for slot, group in enumerate(groups):
            child = node(group, depth + 1)
            if child is not None:
                bitmap |= 1 << slot
                hashes += child
        return sha(b"\x01" + bitmap.to_bytes(2, "big") + hashes)

    return node(list(entries.items()), 0) or EMPTY


VALUES = [sha(b"value-%d" % i) for i in range(4)]


def _shared_prefix(args: tuple[int, bytes]) -> bytes:
    """A key hash whose first ``zeros`` nibbles are 0, so keys share long paths."""
    zeros, tail = args
    as_int = int.from_bytes(tail, "big") & ((1 << (256 - 4 * zeros)) - 1)
    return as_int.to_bytes(32, "big")


key_hashes = st.tuples(st.integers(0, 12), st.binary(min_size=32, max_size=32)).map(_shared_prefix)


# -- roots -------------------------------------------------------------------


def test_empty_tree() -> None:
    tree = MerkleTree()
    assert tree.root_hash == EMPTY == bytes(32)
    assert tree.get(sha(b"k")) is None
    assert tree.update([]) == EMPTY
    assert tree.update([(sha(b"k"), None)]) == EMPTY


def test_single_entry_root_is_its_leaf() -> None:
    tree = MerkleTree()
    root = tree.update([(sha(b"k"), sha(b"v"))])
    assert root == sha(b"\x00" + sha(b"k") + sha(b"v"))
    assert tree.get(sha(b"k")) == sha(b"v")


def test_root_matches_reference_and_commits_to_values() -> None:
    entries = {sha(b"key-%d" % i): sha(b"v-%d" % i) for i in range(300)}
    tree = MerkleTree()
    root = tree.update(entries.items())
    assert root == reference_root(entries)
    changed = dict(entries)
    some_key = next(iter(changed))
    changed[some_key] = sha(b"other")
    assert tree.update([(some_key, sha(b"other"))]) == reference_root(changed) != root


def test_keys_sharing_63_nibbles() -> None:
    base = int.from_bytes(sha(b"deep"), "big") & ~0xF
    one, two = (base | 1).to_bytes(32, "big"), (base | 2).to_bytes(32, "big")
    tree = MerkleTree()
    entries = {one: VALUES[0], two: VALUES[1]}
    assert tree.update(entries.items()) == reference_root(entries)
    assert len(tree.prove(one).levels) == 64
    assert tree.get(one) == VALUES[0]
    assert tree.get(two) == VALUES[1]
    assert tree.update([(two, None)]) == sha(b"\x00" + one + VALUES[0])


def test_deleting_a_neighbour_hoists_the_remaining_leaf() -> None:
    # Two keys under the same first nibbles, then one deleted: the survivor must end up
    # exactly where a tree that only ever held it would put it.
    base = int.from_bytes(sha(b"hoist"), "big")
    one = base.to_bytes(32, "big")
    two = (base ^ 1).to_bytes(32, "big")  # differs only in the last nibble
    three = (base ^ (1 << 200)).to_bytes(32, "big")
    tree = MerkleTree()
    tree.update([(one, VALUES[0]), (two, VALUES[1]), (three, VALUES[2])])
    tree.update([(two, None)])
    alone = MerkleTree()
    alone.update([(one, VALUES[0]), (three, VALUES[2])])
    assert tree.root_hash == alone.root_hash
    assert tree.update([(three, None)]) == sha(b"\x00" + one + VALUES[0])


def test_rewriting_the_same_value_changes_nothing() -> None:
    tree = MerkleTree()
    root = tree.update((sha(b"%d" % i), VALUES[i % 4]) for i in range(50))
    assert tree.update([(sha(b"7"), VALUES[3])]) == root
    assert tree.update([(sha(b"absent"), None)]) == root


def test_last_write_in_a_batch_wins() -> None:
    tree = MerkleTree()
    k = sha(b"k")
    assert tree.update([(k, VALUES[0]), (k, VALUES[1])]) == reference_root({k: VALUES[1]})
    assert tree.update([(k, VALUES[2]), (k, None)]) == EMPTY


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_root_depends_only_on_the_final_map(data: st.DataObject) -> None:
    pool = data.draw(st.lists(key_hashes, min_size=1, max_size=24, unique=True), label="keys")
    write = st.tuples(st.integers(0, len(pool) - 1), st.one_of(st.none(), st.sampled_from(VALUES)))
    batches = data.draw(
        st.lists(st.tuples(st.lists(write, max_size=12), st.booleans()), max_size=8),
        label="batches (writes, reload first)",
    )
    model: dict[bytes, bytes] = {}
    store: dict[int, bytes] = {}
    tree = MerkleTree()
    for writes, reload in batches:
        if reload:  # persist what is new and continue from a tree loaded lazily from storage
            persist(tree, store)
            assert set(store) == reachable(store, tree.root_id)  # nothing stale is kept
            tree = MerkleTree(tree.root_hash, store.get, tree.root_id, tree.next_id)
        tree.update((pool[i], value) for i, value in writes)
        for i, value in writes:
            if value is None:
                model.pop(pool[i], None)
            else:
                model[pool[i]] = value
        assert tree.root_hash == reference_root(model)
    items = list(model.items())
    data.draw(st.randoms(), label="shuffle").shuffle(items)
    assert MerkleTree().update(items) == tree.root_hash
    for key_hash in pool:
        assert tree.get(key_hash) == model.get(key_hash)


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(key_hashes, st.sampled_from(VALUES), min_size=1, max_size=40),
    st.randoms(),
)
def test_inserting_in_any_batches_then_deleting_everything_gives_empty(
    entries: dict[bytes, bytes], rnd: random.Random
) -> None:
    items = list(entries.items())
    rnd.shuffle(items)
    tree = MerkleTree()
    cut = rnd.randint(0, len(items))
    tree.update(items[:cut])
    tree.update(items[cut:])
    assert tree.root_hash == MerkleTree().update(entries.items()) == reference_root(entries)
    keys = list(entries)
    rnd.shuffle(keys)
    cut = rnd.randint(0, len(keys))
    tree.update((k, None) for k in keys[:cut])
    assert tree.root_hash == reference_root({k: entries[k] for k in keys[cut:]})
    assert tree.update((k, None) for k in keys[cut:]) == EMPTY


# -- proofs ------------------------------------------------------------------

KEYS = [b"customs/declaration/%d" % i for i in range(300)]
PRESENT = {key: b"record %d" % i for i, key in enumerate(KEYS[:200])}
ABSENT = KEYS[200:]


def build(entries: dict[bytes, bytes]) -> MerkleTree:
    tree = MerkleTree()
    tree.update((sha(k), sha(v)) for k, v in entries.items())
    return tree


TREE = build(PRESENT)
ROOT = TREE.root_hash


def test_inclusion_proofs_verify_for_the_right_value_only() -> None:
    for key, value in PRESENT.items():
        proof = TREE.prove(sha(key))
        assert verify_proof(ROOT, key, value, proof)
        assert not verify_proof(ROOT, key, value + b"!", proof)
        assert not verify_proof(ROOT, key, None, proof)
        assert not verify_proof(sha(b"another root"), key, value, proof)


def test_absence_proofs_verify_for_missing_keys_only() -> None:
    kinds = set()
    for key in ABSENT:
        proof = TREE.prove(sha(key))
        kinds.add(proof.leaf is None)
        assert verify_proof(ROOT, key, None, proof)
        assert not verify_proof(ROOT, key, b"record 0", proof)
    # Both kinds of absence occur: an empty slot, and another key's leaf on the path.
    assert kinds == {True, False}


def test_absence_proof_of_one_key_does_not_prove_another_absent() -> None:
    for absent in ABSENT[:20]:
        proof = TREE.prove(sha(absent))
        for present in list(PRESENT)[:20]:
            assert not verify_proof(ROOT, present, None, proof)


def test_proof_in_an_empty_tree() -> None:
    proof = MerkleTree().prove(sha(b"k"))
    assert proof == Proof((), None)
    assert verify_proof(EMPTY, b"k", None, proof)
    assert not verify_proof(EMPTY, b"k", b"v", proof)


def test_proof_in_a_single_entry_tree() -> None:
    tree = build({b"only": b"v"})
    assert verify_proof(tree.root_hash, b"only", b"v", tree.prove(sha(b"only")))
    other = tree.prove(sha(b"other"))
    assert other.leaf == (sha(b"only"), sha(b"v"))
    assert verify_proof(tree.root_hash, b"other", None, other)
    assert not verify_proof(tree.root_hash, b"only", None, other)


@settings(max_examples=100, deadline=None)
@given(st.sets(st.integers(0, 63), max_size=40), st.integers(0, 63))
def test_proofs_agree_with_membership(present: set[int], probe: int) -> None:
    entries = {b"k%d" % i: b"v%d" % i for i in present}
    tree = build(entries)
    key = b"k%d" % probe
    proof = tree.prove(sha(key))
    if probe in present:
        assert verify_proof(tree.root_hash, key, entries[key], proof)
        assert not verify_proof(tree.root_hash, key, None, proof)
    else:
        assert verify_proof(tree.root_hash, key, None, proof)
        assert not verify_proof(tree.root_hash, key, b"v%d" % probe, proof)


def _flip(h: bytes, index: int) -> bytes:
    out = bytearray(h)
    out[index] ^= 0x01
    return bytes(out)


def tampered(proof: Proof, other_leaf: tuple[bytes, bytes]) -> list[tuple[str, Proof]]:
    """Every single change an attacker might make to ``proof``, each with a description."""
    levels = list(proof.levels)

    def with_level(i: int, level: tuple[tuple[int, bytes], ...]) -> Proof:
        return replace(proof, levels=(*levels[:i], level, *levels[i + 1 :]))

    out: list[tuple[str, Proof]] = []
    for i, level in enumerate(levels):
        for j, (slot, h) in enumerate(level):
            for byte in (0, 17, 31):
                moved = (*level[:j], (slot, _flip(h, byte)), *level[j + 1 :])
                out.append((f"flip byte {byte} of sibling {j} at level {i}", with_level(i, moved)))
            for other in range(16):
                if other != slot:
                    moved = (*level[:j], (other, h), *level[j + 1 :])
                    out.append(
                        (f"move sibling {j} at level {i} to slot {other}", with_level(i, moved))
                    )
            out.append(
                (f"drop sibling {j} at level {i}", with_level(i, level[:j] + level[j + 1 :]))
            )
        out.append((f"drop level {i}", replace(proof, levels=(*levels[:i], *levels[i + 1 :]))))
    filler = ((0, sha(b"x")),)
    out.append(("add an empty level at the end", replace(proof, levels=(*levels, ()))))
    out.append(("add a level at the end", replace(proof, levels=(*levels, filler))))
    out.append(("add an empty level at the top", replace(proof, levels=((), *levels))))
    if len(levels) >= 2 and levels[0] != levels[1]:
        swapped = (levels[1], levels[0], *levels[2:])
        out.append(("swap the top levels", replace(proof, levels=swapped)))
    if proof.leaf is not None:
        key_hash, value_hash = proof.leaf
        out.append(("remove the leaf", replace(proof, leaf=None)))
        out.append(("flip the value hash", replace(proof, leaf=(key_hash, _flip(value_hash, 5)))))
        out.append(("flip the key hash", replace(proof, leaf=(_flip(key_hash, 31), value_hash))))
    out.append(("swap in another leaf", replace(proof, leaf=other_leaf)))
    return out


def test_any_tampering_with_a_proof_fails() -> None:
    stranger = (sha(b"stranger"), sha(b"v"))
    checked = 0
    cases = [(k, v) for k, v in list(PRESENT.items())[:15]] + [(k, None) for k in ABSENT[:15]]
    for key, value in cases:
        proof = TREE.prove(sha(key))
        assert verify_proof(ROOT, key, value, proof)
        assert proof.levels, "the tree is deep enough for every proof to have a level"
        for what, bad in tampered(proof, stranger):
            assert bad != proof
            assert not verify_proof(ROOT, key, value, bad), f"{what} for {key!r}"
            checked += 1
    assert checked > 1000


def test_a_proof_from_another_key_does_not_fit() -> None:
    for key, neighbour in itertools.pairwise(list(PRESENT)[:31]):
        proof = TREE.prove(sha(neighbour))
        assert not verify_proof(ROOT, key, PRESENT[key], proof)
        assert not verify_proof(ROOT, key, PRESENT[neighbour], proof)


def test_proof_dict_round_trip() -> None:
    for key in [*list(PRESENT)[:20], *ABSENT[:20]]:
        proof = TREE.prove(sha(key))
        as_json = json.loads(codec.canonical(proof.as_dict()))
        again = Proof.from_dict(as_json)
        assert again == proof
        assert verify_proof(ROOT, key, PRESENT.get(key), again)


def test_proof_dict_shape() -> None:
    key = next(iter(PRESENT))
    proof = TREE.prove(sha(key))
    doc = proof.as_dict()
    assert doc["leaf"] == {"key_hash": sha(key).hex(), "value_hash": sha(PRESENT[key]).hex()}
    assert len(doc["levels"]) == len(proof.levels)
    assert Proof.from_dict({"levels": [], "leaf": None}) == Proof((), None)


@pytest.mark.parametrize(
    "doc",
    [
        {"levels": [[]] * 65, "leaf": None},
        {"levels": [[[i, "00" * 32] for i in range(16)]], "leaf": None},
        {"levels": "nope", "leaf": None},
        {"levels": [], "leaf": ["00", "00"]},
        {"levels": [[[0, "zz"]]], "leaf": None},
    ],
)
def test_proof_from_dict_refuses_malformed_input(doc: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Proof.from_dict(doc)


def test_overlong_proofs_do_not_verify() -> None:
    proof = Proof(tuple(() for _ in range(65)), None)
    assert not verify_proof(EMPTY, b"k", None, proof)


# -- storage -------------------------------------------------------------------


def persist(tree: MerkleTree, store: dict[int, bytes]) -> None:
    """What the app does at a commit: store the new nodes, delete the replaced ones."""
    store.update(tree.take_unstored())
    for node_id in tree.take_stale():
        del store[node_id]  # each once, and only what was stored


def reachable(store: dict[int, bytes], root_id: int) -> set[int]:
    """Ids of the stored nodes the tree rooted at ``root_id`` consists of."""
    found, todo = set(), [root_id] if root_id else []
    while todo:
        node_id = todo.pop()
        found.add(node_id)
        stored = store[node_id]
        if stored[:1] == b"\x01":
            count = int.from_bytes(stored[1:3], "big").bit_count()
            ids = stored[3 + 32 * count :]
            todo += [int.from_bytes(ids[8 * i : 8 * i + 8], "big") for i in range(count)]
    return found


def reload(tree: MerkleTree, store: dict[int, bytes]) -> MerkleTree:
    return MerkleTree(tree.root_hash, store.get, tree.root_id, tree.next_id)


def test_reloaded_tree_gives_the_same_values_and_proofs() -> None:
    tree = build(PRESENT)
    store = dict(tree.take_unstored())
    reloaded = reload(tree, store)
    assert sorted(reloaded.node_ids()) == sorted(store)  # every stored node, each once
    assert reloaded.root_hash == tree.root_hash
    for key in KEYS:
        assert reloaded.prove(sha(key)) == tree.prove(sha(key))
        assert reloaded.get(sha(key)) == (sha(PRESENT[key]) if key in PRESENT else None)


def test_reloaded_tree_updates_like_the_original() -> None:
    original = build(PRESENT)
    store = dict(original.take_unstored())
    reloaded = reload(original, store)
    writes = [(sha(KEYS[i]), None if i % 3 == 0 else sha(b"new %d" % i)) for i in range(0, 300, 7)]
    assert reloaded.update(writes) == original.update(writes)


def test_nodes_are_numbered_children_first_and_each_names_its_childrens_ids() -> None:
    tree = build(PRESENT)
    nodes = tree.take_unstored()
    ids = [node_id for node_id, _ in nodes]
    assert ids == list(range(1, len(nodes) + 1))  # consecutive: appended to storage together
    assert tree.root_id == ids[-1] and tree.next_id == ids[-1] + 1  # the root comes last
    for node_id, stored in nodes:
        if stored[:1] == b"\x01":  # inner: hashed part, then one 8-byte id per child
            count = int.from_bytes(stored[1:3], "big").bit_count()
            children = [
                int.from_bytes(stored[3 + 32 * count + 8 * i : 3 + 32 * count + 8 * i + 8], "big")
                for i in range(count)
            ]
            assert all(0 < child < node_id for child in children)
        else:
            assert len(stored) == 65


def test_nodes_are_stored_incrementally_and_old_roots_stay_readable() -> None:
    tree = build(PRESENT)
    store = dict(tree.take_unstored())
    assert tree.take_unstored() == []  # nothing new
    old_root, old_root_id = tree.root_hash, tree.root_id
    key = next(iter(PRESENT))
    tree.update([(sha(key), sha(b"amended"))])
    new_nodes = tree.take_unstored()
    # Only the changed path is new: about log16(200) nodes, not the whole tree...
    assert 1 <= len(new_nodes) <= len(tree.prove(sha(key)).levels) + 1
    assert min(node_id for node_id, _ in new_nodes) == max(store) + 1
    # ...and exactly the path it replaces is stale, the old root among it.
    stale = tree.take_stale()
    assert len(stale) == len(new_nodes) and old_root_id in stale
    assert tree.take_stale() == []
    kept = dict(store)
    store.update(new_nodes)
    then = MerkleTree(old_root, store.get, old_root_id)  # readable until the stale go
    assert then.get(sha(key)) == sha(PRESENT[key])
    assert verify_proof(old_root, key, PRESENT[key], then.prove(sha(key)))
    for node_id in stale:
        del store[node_id]
    now = reload(tree, store)
    assert now.get(sha(key)) == sha(b"amended")
    assert verify_proof(tree.root_hash, key, b"amended", now.prove(sha(key)))
    assert set(store) == reachable(store, tree.root_id)
    assert len(store) == len(kept)  # one value changed: as many nodes as before


def test_an_abandoned_update_leaves_nothing_to_store_or_delete() -> None:
    tree = build(PRESENT)
    store = dict(tree.take_unstored())
    root, root_id = tree.root_hash, tree.root_id
    tree.update([(sha(KEYS[0]), None), (sha(b"new"), sha(b"value"))])
    tree.forget_unstored()
    tree.root = MerkleTree(root, store.get, root_id).root
    assert tree.take_unstored() == [] and tree.take_stale() == []
    assert tree.root_hash == root


def test_a_new_key_beside_a_leaf_moves_that_leaf_down_without_copying_it() -> None:
    tree = MerkleTree()
    tree.update([(sha(b"a"), sha(b"1"))])
    store = dict(tree.take_unstored())
    (leaf_id,) = store
    tree.update([(sha(b"b"), sha(b"2"))])
    new = dict(tree.take_unstored())
    assert tree.take_stale() == []  # the leaf of "a" is kept, under the new inner node(s)
    assert len([data for data in new.values() if len(data) == 65]) == 1  # only b's leaf
    store.update(new)
    assert leaf_id in reachable(store, tree.root_id)


def test_a_value_rewritten_unchanged_beside_new_keys_keeps_its_leaf() -> None:
    tree = MerkleTree()
    tree.update([(sha(b"a"), sha(b"1"))])
    store = dict(tree.take_unstored())
    (leaf_id,) = store
    tree.update([(sha(b"a"), sha(b"1")), (sha(b"b"), sha(b"2"))])
    persist(tree, store)
    assert reachable(store, tree.root_id) == set(store)
    assert leaf_id in store  # not copied: the same stored leaf, now under an inner node
    assert tree.root_hash == MerkleTree().update([(sha(b"a"), sha(b"1")), (sha(b"b"), sha(b"2"))])


def test_missing_nodes_are_reported() -> None:
    root = TREE.root_hash
    with pytest.raises(MissingNodeError):
        MerkleTree(root, {}.get, 1).get(sha(KEYS[0]))
    with pytest.raises(MissingNodeError):
        MerkleTree(root).prove(sha(KEYS[0]))


def test_malformed_stored_node_is_reported() -> None:
    root = sha(b"\x01garbage")
    with pytest.raises(MissingNodeError, match="malformed"):
        MerkleTree(root, {7: b"\x01garbage"}.get, 7).get(sha(b"k"))


def test_a_stored_node_is_checked_against_the_hash_its_parent_names() -> None:
    tree = build(PRESENT)
    store = dict(tree.take_unstored())
    key = KEYS[0]
    leaf_id = next(i for i, data in store.items() if data[1:33] == sha(key))
    # Another key's leaf under this key's id: a store that swapped rows.
    other = next(i for i, data in store.items() if len(data) == 65 and i != leaf_id)
    store[leaf_id] = store[other]
    with pytest.raises(MissingNodeError, match="corrupt"):
        reload(tree, store).get(sha(key))
    # A flipped bit in the hashed part of the root.
    tree = build(PRESENT)
    store = dict(tree.take_unstored())
    root = bytearray(store[tree.root_id])
    root[5] ^= 1
    store[tree.root_id] = bytes(root)
    with pytest.raises(MissingNodeError, match="corrupt"):
        reload(tree, store).get(sha(key))
