"""The block-buffered, snapshotting state over the Merkle tree (``kernel.state``)."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portchain.kernel.errors import DecodeError
from portchain.kernel.smt import EMPTY, MerkleTree, verify_proof
from portchain.kernel.state import MAX_KEY_BYTES, MAX_VALUE_BYTES, MemoryBackend, State


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def commit(state: State, backend: MemoryBackend) -> bytes:
    """What a node does at the end of a block: root, persist writes and nodes, mark committed."""
    root = state.finish_block()
    backend.apply(dict(state.writes), state.take_nodes())
    state.block_committed()
    return root


def root_of(entries: dict[str, bytes]) -> bytes:
    """The app hash of a state holding exactly ``entries``, computed by the tree alone."""
    return MerkleTree().update((sha(k.encode()), sha(v)) for k, v in entries.items())


@pytest.fixture
def committed() -> tuple[MemoryBackend, State]:
    """A state whose committed block holds org/a = A and org/b = B."""
    backend = MemoryBackend()
    state = State(backend)
    state.set("org/a", b"A")
    state.set("org/b", b"B")
    commit(state, backend)
    return backend, state


# -- reads and writes ----------------------------------------------------------


def test_reads_see_block_writes_over_committed_values(
    committed: tuple[MemoryBackend, State],
) -> None:
    backend, state = committed
    assert state.get("org/a") == b"A"
    state.set("org/a", b"A2")
    state.delete("org/b")
    state.set("org/c", b"C")
    assert state.get("org/a") == b"A2"
    assert state.get("org/b") is None
    assert not state.has("org/b")
    assert state.has("org/c")
    assert state.writes == {"org/a": b"A2", "org/b": None, "org/c": b"C"}
    # Nothing reaches committed storage before the block is committed.
    assert backend.values == {"org/a": b"A", "org/b": b"B"}


def test_json_values_are_stored_canonically() -> None:
    state = State(MemoryBackend())
    state.set_json("lc/1", {"currency": "EUR", "amount": 125_000})
    assert state.get("lc/1") == b'{"amount":125000,"currency":"EUR"}'
    assert state.get_json("lc/1") == {"amount": 125_000, "currency": "EUR"}
    assert state.get_json("lc/2") is None


def test_set_json_refuses_floats_and_writes_nothing() -> None:
    state = State(MemoryBackend())
    with pytest.raises(DecodeError, match="integers"):
        state.set_json("lc/1", {"amount": 1.5})
    assert state.writes == {}


# -- snapshots -------------------------------------------------------------------


def test_nested_rollbacks_restore_values_and_deletes(
    committed: tuple[MemoryBackend, State],
) -> None:
    _, state = committed
    state.set("org/a", b"A1")
    outer = state.snapshot()
    state.set("org/a", b"A2")
    state.delete("org/b")
    state.set("org/c", b"C2")
    inner = state.snapshot()
    state.set("org/a", b"A3")
    state.set("org/b", b"B3")
    state.delete("org/c")
    state.set("org/d", b"D3")

    state.rollback(inner)
    assert state.get("org/a") == b"A2"
    assert state.get("org/b") is None
    assert state.get("org/c") == b"C2"
    assert state.get("org/d") is None
    assert "org/d" not in state.writes

    state.rollback(outer)
    assert state.get("org/a") == b"A1"
    assert state.get("org/b") == b"B"  # the committed value shows through again
    assert state.get("org/c") is None
    assert state.writes == {"org/a": b"A1"}


def test_rollback_of_several_writes_to_one_key() -> None:
    state = State(MemoryBackend())
    mark = state.snapshot()
    for i in range(5):
        state.set("k", b"%d" % i)
    state.delete("k")
    state.rollback(mark)
    assert state.get("k") is None
    assert state.writes == {}


def test_release_makes_writes_survive_a_later_rollback() -> None:
    state = State(MemoryBackend())
    state.set("seq/alice", b"1")
    state.release()
    mark = state.snapshot()
    state.set("order/1", b"x")
    state.rollback(mark)
    assert state.get("seq/alice") == b"1"
    assert state.get("order/1") is None


def test_rolled_back_writes_leave_no_trace_in_the_app_hash(
    committed: tuple[MemoryBackend, State],
) -> None:
    backend, state = committed
    root_id = state.root_id
    state.set("org/c", b"C")
    mark = state.snapshot()
    state.set("org/a", b"changed")
    state.delete("org/b")
    state.set("org/z", b"Z")
    state.rollback(mark)
    root = state.finish_block()

    clean = State(backend, root_of({"org/a": b"A", "org/b": b"B"}), root_id)
    clean.set("org/c", b"C")
    assert root == clean.finish_block() == root_of({"org/a": b"A", "org/b": b"B", "org/c": b"C"})


def test_deleting_a_key_that_never_existed_changes_nothing(
    committed: tuple[MemoryBackend, State],
) -> None:
    _, state = committed
    before = state.root_hash
    state.set("tmp/x", b"x")
    state.delete("tmp/x")
    state.delete("never/there")
    assert state.finish_block() == before


_ops = st.lists(
    st.one_of(
        st.tuples(st.just("set"), st.sampled_from("abcdef"), st.binary(max_size=3)),
        st.tuples(st.just("delete"), st.sampled_from("abcdef"), st.none()),
        st.tuples(st.just("tx"), st.booleans(), st.none()),
    ),
    max_size=30,
)


@settings(max_examples=150, deadline=None)
@given(_ops)
def test_app_hash_reflects_only_transactions_that_stand(ops: list[tuple]) -> None:
    """Ops grouped into transactions, each kept or rolled back, against a plain dict."""
    state = State(MemoryBackend())
    model: dict[str, bytes] = {}
    pending: dict[str, bytes | None] = {}
    mark = state.snapshot()
    for kind, a, b in ops:
        if kind == "tx":  # end the current transaction: keep it or roll it back
            if a:
                state.release()
                for key, value in pending.items():
                    if value is None:
                        model.pop(key, None)
                    else:
                        model[key] = value
            else:
                state.rollback(mark)
            pending = {}
            mark = state.snapshot()
        elif kind == "set":
            state.set(a, b)
            pending[a] = b
        else:
            state.delete(a)
            pending[a] = None
    state.rollback(mark)  # the last transaction never finished
    for key in "abcdef":
        assert state.get(key) == model.get(key)
    assert state.finish_block() == root_of(model)


# -- blocks --------------------------------------------------------------------


def test_finish_block_is_the_root_of_the_whole_state(
    committed: tuple[MemoryBackend, State],
) -> None:
    _, state = committed
    assert state.root_hash == root_of({"org/a": b"A", "org/b": b"B"})
    state.set("org/c", b"C")
    state.delete("org/a")
    assert state.finish_block() == root_of({"org/b": b"B", "org/c": b"C"})


def test_discard_block_returns_to_the_committed_root(
    committed: tuple[MemoryBackend, State],
) -> None:
    backend, state = committed
    committed_root = state.root_hash
    state.set("org/a", b"A2")
    state.delete("org/b")
    state.set("org/c", b"C")
    assert state.finish_block() != committed_root
    state.discard_block()
    assert state.root_hash == committed_root
    assert state.writes == {}
    assert state.get("org/a") == b"A"
    assert state.get("org/b") == b"B"
    assert state.get("org/c") is None
    assert verify_proof(committed_root, b"org/a", b"A", state.prove("org/a"))
    # The next block starts from the committed state, as if the discarded one never ran.
    state.set("org/d", b"D")
    assert commit(state, backend) == root_of({"org/a": b"A", "org/b": b"B", "org/d": b"D"})


def test_discard_block_on_a_reopened_state() -> None:
    backend = MemoryBackend()
    first = State(backend)
    first.set("k", b"v")
    root = commit(first, backend)
    reopened = State(backend, root, first.root_id)
    reopened.set("k", b"w")
    reopened.finish_block()
    reopened.discard_block()
    assert reopened.root_hash == root
    assert verify_proof(root, b"k", b"v", reopened.prove("k"))


def test_reopened_state_has_the_same_values_root_and_proofs() -> None:
    backend = MemoryBackend()
    state = State(backend)
    for i in range(100):
        state.set(f"container/{i}", b"gate-in %d" % i)
    commit(state, backend)
    for i in range(0, 100, 3):
        state.delete(f"container/{i}")
    root = commit(state, backend)

    reopened = State(backend, root, state.root_id, max(backend.nodes) + 1)
    assert reopened.root_hash == root
    for i in range(100):
        key = f"container/{i}"
        expected = None if i % 3 == 0 else b"gate-in %d" % i
        assert reopened.get(key) == expected
        assert verify_proof(root, key.encode(), expected, reopened.prove(key))
        assert reopened.prove(key) == state.prove(key)
    # And it carries on exactly like the state that never closed.
    reopened.set("container/1", b"gate-out")
    state.set("container/1", b"gate-out")
    assert reopened.finish_block() == state.finish_block()


def test_prove_covers_the_committed_value_not_a_pending_one(
    committed: tuple[MemoryBackend, State],
) -> None:
    _, state = committed
    root = state.root_hash
    state.set("org/a", b"pending")
    proof = state.prove("org/a")
    assert verify_proof(root, b"org/a", b"A", proof)
    assert not verify_proof(root, b"org/a", b"pending", proof)


def test_take_nodes_returns_each_node_once(committed: tuple[MemoryBackend, State]) -> None:
    backend, state = committed
    state.set("org/c", b"C")
    state.finish_block()
    nodes = state.take_nodes()
    assert nodes
    # Numbered on from the committed ones, the new root last.
    first = max(backend.nodes) + 1
    assert [node_id for node_id, _ in nodes] == list(range(first, first + len(nodes)))
    assert state.root_id == nodes[-1][0]
    assert state.take_nodes() == []


def test_empty_state() -> None:
    state = State(MemoryBackend())
    assert state.root_hash == EMPTY
    assert state.finish_block() == EMPTY
    assert verify_proof(EMPTY, b"k", None, state.prove("k"))


# -- limits --------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    ["", "k" * (MAX_KEY_BYTES + 1), "org/é", "org/\n", "org/\x00", "tab\there", "org/\x7f"],
)
def test_bad_keys_are_refused_and_nothing_is_written(key: str) -> None:
    state = State(MemoryBackend())
    with pytest.raises(ValueError, match="printable ASCII"):
        state.set(key, b"v")
    with pytest.raises(ValueError, match="printable ASCII"):
        state.delete(key)
    assert state.writes == {}


def test_longest_key_and_largest_value_are_accepted() -> None:
    state = State(MemoryBackend())
    key = "k" * MAX_KEY_BYTES
    state.set(key, b"x" * MAX_VALUE_BYTES)
    state.set("with space/and ~ punctuation", b"")
    assert state.get(key) == b"x" * MAX_VALUE_BYTES
    assert state.get("with space/and ~ punctuation") == b""


def test_oversize_value_is_refused_and_nothing_is_written() -> None:
    state = State(MemoryBackend())
    state.set("doc/1", b"small")
    with pytest.raises(ValueError, match=str(MAX_VALUE_BYTES)):
        state.set("doc/1", b"x" * (MAX_VALUE_BYTES + 1))
    assert state.get("doc/1") == b"small"
