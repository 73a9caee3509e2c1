"""portchain verify replays from genesis and catches a single flipped byte anywhere."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from portchain.app.verify import VerifyError, verify_chain
from portchain.kernel.crypto import SigningKey
from support import Chain, apply_body, event, seeded_key


@pytest.fixture(scope="module")
def chain_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("verify")
    chain = Chain(path)
    insurer = seeded_key("INSURER")
    applied = chain.run(insurer, "membership.apply", apply_body("INSURER", insurer, ["insurer"]))
    proposal = event(applied, "membership.org_applied")["proposal"]
    chain.block(
        *[
            chain.sign(s, "membership.vote", {"proposal_id": proposal, "vote": "yes"})
            for s in ("SHEKOU-PORT", "RTM-PORT", "MERIDIAN", "CN-CUSTOMS")
        ]
    )
    chain.block(
        chain.sign(
            "BRIGHTWAVE",
            "membership.register_key",
            {"public_key": SigningKey.generate().public_key.hex(), "roles": ["shipper"]},
        ),
        chain.sign(
            "BRIGHTWAVE",
            "membership.register_key",
            {"public_key": SigningKey.generate().public_key.hex(), "roles": ["bank"]},
        ),
    )
    chain.close()
    return path / "chain.db"


def test_an_untouched_chain_verifies(chain_db: Path) -> None:
    summary = verify_chain(chain_db)
    assert (summary.height, summary.transactions, summary.failed) == (3, 7, 1)


TARGETS = [
    ("blocks", "header", "height = 2"),
    ("blocks", "hash", "height = 2"),
    ("blocks", "app_hash", "height = 3"),
    ("blocks", "results_hash", "height = 1"),
    ("blocks", "commit_cert", "height = 2"),
    ("blocks", "block_events", "height = 2"),
    ("txs", "raw", "height = 2 AND idx = 1"),
    ("txs", "hash", "height = 3 AND idx = 0"),
    ("txs", "events", "height = 3 AND idx = 0"),
    ("txs", "log", "height = 3 AND idx = 1"),
    ("txs", "signer", "height = 1"),
    ("state", "value", "key LIKE 'membership/org/INSURER'"),
    ("state", "key", "key LIKE 'membership/key/%' LIMIT 1"),
    ("nodes", "data", "id = (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'root_node')"),
    ("nodes", "data", "id = (SELECT MIN(id) FROM nodes WHERE length(data) = 65)"),
    ("events", "attributes", "height = 2 AND idx = 0"),
    ("event_index", "value", "height = 3"),
    ("meta", "value", "key = 'app_hash'"),
    ("meta", "value", "key = 'genesis'"),
]


def flip(db: Path, table: str, column: str, where: str) -> None:
    conn = sqlite3.connect(db)
    key_cols = {
        "blocks": "height",
        "txs": "height, idx",
        "state": "key",
        "nodes": "id",
        "events": "height, idx",
        "event_index": "name, value, height, idx",
        "meta": "key",
    }[table]
    row = conn.execute(f"SELECT {key_cols}, {column} FROM {table} WHERE {where}").fetchone()
    assert row is not None, f"nothing to flip in {table}.{column}"
    *keys, value = row
    data = bytearray(value.encode() if isinstance(value, str) else value)
    middle = len(data) // 2
    data[middle] ^= 0x01
    new: object = bytes(data).decode("utf-8", "replace") if isinstance(value, str) else bytes(data)
    cond = " AND ".join(f"{c.strip()} = ?" for c in key_cols.split(","))
    conn.execute(f"UPDATE {table} SET {column} = ? WHERE {cond}", (new, *keys))
    conn.commit()
    conn.close()


@pytest.mark.parametrize(
    ("table", "column", "where"), TARGETS, ids=[f"{t}.{c}" for t, c, _ in TARGETS]
)
def test_a_flipped_byte_is_found(
    chain_db: Path, tmp_path: Path, table: str, column: str, where: str
) -> None:
    copy = tmp_path / "chain.db"
    shutil.copy(chain_db, copy)
    flip(copy, table, column, where)
    with pytest.raises(VerifyError) as caught:
        verify_chain(copy)
    assert caught.value.problem
    assert 0 <= caught.value.height <= 3


def test_a_merkle_node_left_outside_the_tree_is_found(chain_db: Path, tmp_path: Path) -> None:
    copy = tmp_path / "chain.db"
    shutil.copy(chain_db, copy)
    with sqlite3.connect(copy) as conn:
        conn.execute(
            "INSERT INTO nodes (id, data) VALUES ((SELECT MAX(id) + 1 FROM nodes), ?)",
            (b"\x00" + bytes(64),),
        )
    conn.close()
    with pytest.raises(VerifyError, match="1 stored Merkle nodes are not in the tree"):
        verify_chain(copy)
