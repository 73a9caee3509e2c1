"""The Merkle nodes are numbered in storage order, a block's together, and only the latest tree
is kept; a database of the earlier schema (nodes by hash) is migrated on opening, and a damaged
one is refused untouched."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from portchain.app.app import App
from portchain.app.proofs import check_bundle, make_bundle
from portchain.app.verify import VerifyError, verify_chain
from portchain.kernel.crypto import SigningKey
from portchain.storage.sqlite import SCHEMA_VERSION, Storage
from support import Chain


def register_keys(chain: Chain, count: int) -> None:
    chain.block(
        *[
            chain.sign(
                "BRIGHTWAVE",
                "membership.register_key",
                {"public_key": SigningKey.generate().public_key.hex(), "roles": ["shipper"]},
            )
            for _ in range(count)
        ]
    )


def node_ids(db: Path) -> list[int]:
    with sqlite3.connect(db) as conn:
        return [row[0] for row in conn.execute("SELECT id FROM nodes ORDER BY id")]


def test_a_blocks_nodes_follow_the_last_ones_and_its_root_is_recorded(tmp_path: Path) -> None:
    chain = Chain(tmp_path)
    before = node_ids(tmp_path / "chain.db")
    register_keys(chain, 20)
    after = node_ids(tmp_path / "chain.db")
    new = [node_id for node_id in after if node_id > before[-1]]
    kept = [node_id for node_id in before if node_id in set(after)]  # the rest were replaced
    assert after[: len(kept)] == kept
    assert new == list(range(before[-1] + 1, before[-1] + 1 + len(new)))  # appended, in one run
    assert chain.storage.writer.root_node() == new[-1]  # the root is stored last
    chain.close()


def reachable_ids(db: Path) -> set[int]:
    """Ids of the nodes of the stored tree, walked down from the root it records."""
    with sqlite3.connect(db) as conn:
        (root,) = conn.execute("SELECT value FROM meta WHERE key = 'root_node'").fetchone()
        found, todo = set(), [int(root)]
        while todo:
            node_id = todo.pop()
            found.add(node_id)
            (data,) = conn.execute("SELECT data FROM nodes WHERE id = ?", (node_id,)).fetchone()
            if data[:1] == b"\x01":
                count = int.from_bytes(data[1:3], "big").bit_count()
                ids = data[3 + 32 * count :]
                todo += [int.from_bytes(ids[8 * i : 8 * i + 8], "big") for i in range(count)]
    return found


def test_the_database_keeps_the_latest_tree_and_nothing_it_replaced(tmp_path: Path) -> None:
    chain = Chain(tmp_path)
    for _ in range(6):
        register_keys(chain, 40)  # new keys, and each block rewrites the signer's sequence
    db = tmp_path / "chain.db"
    assert set(node_ids(db)) == reachable_ids(db)
    chain.close()
    assert verify_chain(db).height == 6


def downgrade_to_schema_2(db: Path) -> None:
    """Give a database the layout of schema 2: nodes keyed by hash, no root id."""
    with sqlite3.connect(db) as conn:
        conn.execute("DROP TABLE nodes")
        conn.execute("CREATE TABLE nodes (hash BLOB PRIMARY KEY, data BLOB NOT NULL) WITHOUT ROWID")
        conn.execute("INSERT INTO nodes VALUES (?, ?)", (bytes(32), b"\x00" + bytes(64)))
        conn.execute("DELETE FROM meta WHERE key = 'root_node'")
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (b"2",))


def test_a_schema_2_database_is_migrated_and_keeps_proving_and_committing(
    tmp_path: Path,
) -> None:
    chain = Chain(tmp_path)
    register_keys(chain, 30)
    app_hash, height = chain.app_hash, chain.height
    chain.close()
    db = tmp_path / "chain.db"
    downgrade_to_schema_2(db)

    storage = Storage(db)
    assert storage.writer.meta("schema_version") == str(SCHEMA_VERSION).encode()
    assert storage.writer.app_hash() == app_hash and storage.writer.height() == height
    app = App(storage)
    key = "membership/org/BRIGHTWAVE"
    proven = check_bundle(make_bundle(storage.reader(), chain.genesis.chain_id, key), chain.genesis)
    stored = storage.reader().get(key)
    assert proven["valid"] and stored is not None and proven["value"] == stored.decode()
    assert app.info().app_hash == app_hash
    storage.close()

    # The chain carries on from the migrated tree, and a full replay agrees with it.
    reopened = Chain(tmp_path, genesis=chain.genesis, seqs=chain.seqs)
    reopened.time_ms = chain.time_ms
    register_keys(reopened, 5)
    reopened.close()
    summary = verify_chain(db)
    assert summary.height == height + 1


def test_portchain_verify_migrates_a_schema_2_database_and_checks_it(tmp_path: Path) -> None:
    chain = Chain(tmp_path)
    register_keys(chain, 10)
    height = chain.height
    chain.close()
    db = tmp_path / "chain.db"
    downgrade_to_schema_2(db)
    assert verify_chain(db).height == height
    assert set(node_ids(db)) == reachable_ids(db)


def test_a_schema_2_database_whose_state_does_not_match_is_refused_untouched(
    tmp_path: Path,
) -> None:
    chain = Chain(tmp_path)
    register_keys(chain, 3)
    chain.close()
    db = tmp_path / "chain.db"
    downgrade_to_schema_2(db)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE state SET value = ? WHERE key = 'membership/org/BRIGHTWAVE'", (b"{}",))
    with pytest.raises(RuntimeError, match="does not hash to its app hash"):
        Storage(db)
    with pytest.raises(VerifyError, match="does not hash to its app hash"):
        verify_chain(db)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (
            b"2",
        )
        assert conn.execute("SELECT count(*) FROM nodes").fetchone() == (1,)
