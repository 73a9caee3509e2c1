"""SQLite storage: state, Merkle nodes, blocks, transactions with results, and the event index.

One database file in WAL mode with ``synchronous=FULL``. Everything a block
changes (state writes, new tree nodes and the deletion of those they replace,
the block, every transaction's result, the events and their index, the height,
the app hash and the root's node id) is written in one SQLite transaction by
:meth:`Storage.commit_block`, so after a crash the database holds exactly the
blocks that were fully committed (DESIGN.md invariant 3). Readers on other
threads get their own connections and see the last committed block, never half
of one; tools open theirs with :func:`open_reader`.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portchain.kernel import codec
from portchain.kernel.block import Block, Commit, Header
from portchain.kernel.events import INDEXED, Event
from portchain.kernel.smt import MerkleTree

SCHEMA_VERSION = 3
"""3: Merkle nodes numbered in storage order (2 kept them by hash; opening migrates)."""

_NODES_TABLE = "CREATE TABLE IF NOT EXISTS nodes (id INTEGER PRIMARY KEY, data BLOB NOT NULL);"

_SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
-- Merkle tree nodes by storage id: a block's new nodes take the next ids, so they are
-- appended together (see portchain.kernel.smt).
"""
    + _NODES_TABLE
    + """
CREATE TABLE IF NOT EXISTS blocks (
    height INTEGER PRIMARY KEY,
    hash BLOB NOT NULL UNIQUE,
    header BLOB NOT NULL,
    time_ms INTEGER NOT NULL,
    num_txs INTEGER NOT NULL,
    app_hash BLOB NOT NULL,        -- state root after this block
    results_hash BLOB NOT NULL,
    block_events BLOB NOT NULL,
    commit_cert BLOB              -- the validators' signatures (solo engine)
);
CREATE TABLE IF NOT EXISTS txs (
    hash BLOB NOT NULL,
    height INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    raw BLOB NOT NULL,
    signer TEXT NOT NULL,
    action TEXT NOT NULL,
    code INTEGER NOT NULL,
    codespace TEXT NOT NULL,
    log TEXT NOT NULL,
    events BLOB NOT NULL,
    PRIMARY KEY (height, idx)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS txs_by_hash ON txs (hash);
CREATE INDEX IF NOT EXISTS txs_by_signer ON txs (signer, height);
CREATE TABLE IF NOT EXISTS events (
    height INTEGER NOT NULL,
    idx INTEGER NOT NULL,          -- position among the block's events: the cursor
    tx_hash BLOB,                  -- NULL for the block's own events
    type TEXT NOT NULL,
    attributes BLOB NOT NULL,
    audience TEXT,                 -- JSON list of principals; NULL: the module's default
    PRIMARY KEY (height, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS event_index (
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    height INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    PRIMARY KEY (name, value, height, idx)
) WITHOUT ROWID;
"""
)

INDEXED_VALUE_MAX = 128
"""Indexed attributes (see :func:`portchain.kernel.events.index_by`) up to this length."""


@dataclass(frozen=True)
class StoredBlock:
    height: int
    hash: bytes
    header: dict[str, Any]
    num_txs: int
    app_hash: bytes
    results_hash: bytes
    block_events: list[dict[str, Any]]
    commit: dict[str, Any] | None


@dataclass(frozen=True)
class StoredTx:
    hash: bytes
    height: int
    index: int
    raw: bytes
    signer: str
    action: str
    code: int
    codespace: str
    log: str
    events: list[dict[str, Any]]


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA cache_size=-65536")
    return conn


class Reader:
    """A read view of committed data on one connection (one per thread).

    Given ``generation`` (the storage's count of commits), point reads of state are
    cached until the next commit: the mempool's checks read the same signers' records
    thousands of times between two blocks.
    """

    def __init__(
        self, conn: sqlite3.Connection, generation: Callable[[], int] | None = None
    ) -> None:
        self._conn = conn
        self._generation = generation
        self._seen = -1
        self._cache: dict[str, bytes | None] = {}
        self._in_snapshot = False

    # -- state ---------------------------------------------------------------
    def _select(self, key: str) -> bytes | None:
        row = self._conn.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        return None if row is None else bytes(row[0])

    def get(self, key: str) -> bytes | None:
        if self._generation is None or self._in_snapshot:
            return self._select(key)  # a snapshot's reads may be older than the cache
        # Read the generation first: a commit after this point bumps it, so nothing
        # cached now outlives the commit that changes it.
        generation = self._generation()
        if generation != self._seen or len(self._cache) > 100_000:
            self._cache.clear()
            self._seen = generation
        try:
            return self._cache[key]
        except KeyError:
            value = self._cache[key] = self._select(key)
            return value

    def get_value(self, key: str) -> bytes | None:
        return self.get(key)

    def load_node(self, node_id: int) -> bytes | None:
        row = self._conn.execute("SELECT data FROM nodes WHERE id = ?", (node_id,)).fetchone()
        return None if row is None else bytes(row[0])

    def root_node(self) -> int:
        """The storage id of the committed tree's root (0: the tree is empty)."""
        raw = self.meta("root_node")
        return 0 if raw is None else int(raw)

    def next_node_id(self) -> int:
        """One more than the largest node id stored: where the next block's nodes begin."""
        (largest,) = self._conn.execute("SELECT COALESCE(MAX(id), 0) FROM nodes").fetchone()
        return int(largest) + 1

    def count_nodes(self) -> int:
        (count,) = self._conn.execute("SELECT count(*) FROM nodes").fetchone()
        return int(count)

    def tree(self) -> MerkleTree:
        """The committed Merkle tree, for proofs (inside :meth:`snapshot`, to match other reads)."""
        return MerkleTree(self.app_hash(), self.load_node, self.root_node())

    def scan(self, prefix: str, after: str = "", limit: int = 100) -> list[tuple[str, bytes]]:
        end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        start = max(prefix, after)
        op = ">" if after and after >= prefix else ">="
        rows = self._conn.execute(
            f"SELECT key, value FROM state WHERE key {op} ? AND key < ? ORDER BY key LIMIT ?",
            (start, end, limit),
        ).fetchall()
        return [(key, bytes(value)) for key, value in rows]

    def meta(self, key: str) -> bytes | None:
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else bytes(row[0])

    @contextmanager
    def snapshot(self) -> Iterator[Reader]:
        """Several reads that see one committed block (a read transaction)."""
        self._conn.execute("BEGIN")
        self._in_snapshot = True
        try:
            yield self
        finally:
            self._in_snapshot = False
            self._conn.execute("COMMIT")

    # -- chain ---------------------------------------------------------------
    def height(self) -> int:
        raw = self.meta("height")
        return 0 if raw is None else int(raw)

    def app_hash(self) -> bytes:
        return self.meta("app_hash") or bytes(32)

    def block(self, height: int) -> StoredBlock | None:
        row = self._conn.execute(
            "SELECT height, hash, header, num_txs, app_hash, results_hash, block_events,"
            " commit_cert"
            " FROM blocks WHERE height = ?",
            (height,),
        ).fetchone()
        return None if row is None else _stored_block(row)

    def blocks(self, start: int, end: int) -> list[StoredBlock]:
        rows = self._conn.execute(
            "SELECT height, hash, header, num_txs, app_hash, results_hash, block_events,"
            " commit_cert"
            " FROM blocks WHERE height BETWEEN ? AND ? ORDER BY height",
            (start, end),
        ).fetchall()
        return [_stored_block(row) for row in rows]

    def block_txs(self, height: int) -> list[StoredTx]:
        rows = self._conn.execute(
            "SELECT hash, height, idx, raw, signer, action, code, codespace, log, events"
            " FROM txs WHERE height = ? ORDER BY idx",
            (height,),
        ).fetchall()
        return [_stored_tx(row) for row in rows]

    def tx(self, tx_hash: bytes) -> StoredTx | None:
        row = self._conn.execute(
            "SELECT hash, height, idx, raw, signer, action, code, codespace, log, events"
            " FROM txs WHERE hash = ? ORDER BY height, idx LIMIT 1",
            (tx_hash,),
        ).fetchone()
        return None if row is None else _stored_tx(row)

    def has_tx(self, tx_hash: bytes) -> bool:
        return (
            self._conn.execute("SELECT 1 FROM txs WHERE hash = ?", (tx_hash,)).fetchone()
            is not None
        )

    def events_after(self, height: int, idx: int, limit: int = 1000) -> list[dict[str, Any]]:
        """Events strictly after the cursor ``(height, idx)``, in commit order."""
        rows = self._conn.execute(
            "SELECT height, idx, tx_hash, type, attributes, audience FROM events"
            " WHERE (height, idx) > (?, ?) ORDER BY height, idx LIMIT ?",
            (height, idx, limit),
        ).fetchall()
        return [_event_row(row) for row in rows]

    def events_by(self, name: str, value: str, limit: int = 100) -> list[dict[str, Any]]:
        """Events with attribute ``name`` equal to ``value``, newest first (the index)."""
        rows = self._conn.execute(
            "SELECT e.height, e.idx, e.tx_hash, e.type, e.attributes, e.audience FROM event_index i"
            " JOIN events e ON e.height = i.height AND e.idx = i.idx"
            " WHERE i.name = ? AND i.value = ? ORDER BY i.height DESC, i.idx DESC LIMIT ?",
            (name, value, limit),
        ).fetchall()
        return [_event_row(row) for row in rows]

    def block_events(self, height: int) -> list[dict[str, Any]]:
        """Every event of block ``height`` (transactions' then the block's), by index."""
        rows = self._conn.execute(
            "SELECT height, idx, tx_hash, type, attributes, audience FROM events WHERE height = ?"
            " ORDER BY idx",
            (height,),
        ).fetchall()
        return [_event_row(row) for row in rows]

    # -- whole tables, for verification ----------------------------------------
    def state_items(self) -> Iterator[tuple[str, bytes]]:
        for key, value in self._conn.execute("SELECT key, value FROM state ORDER BY key"):
            yield key, bytes(value)

    def index_entries(self) -> Iterator[tuple[str, str, int, dict[str, Any] | None]]:
        """(name, value, height, attributes of the event it points at, or None)."""
        for name, value, height, attributes in self._conn.execute(
            "SELECT i.name, i.value, i.height, e.attributes FROM event_index i"
            " LEFT JOIN events e ON e.height = i.height AND e.idx = i.idx"
        ):
            yield name, value, height, None if attributes is None else json.loads(attributes)

    def count_txs(self) -> tuple[int, int]:
        """(committed, failed) transactions."""
        row = self._conn.execute("SELECT COUNT(*), COALESCE(SUM(code != 0), 0) FROM txs").fetchone()
        return int(row[0]), int(row[1])


class KeyFilter:
    """Which state keys may exist: a Bloom filter over every key the database held when it was
    opened and every key written since. "No" is certain, so a read of a key never written (a
    new key id, a new container) needs no database query; "maybe" goes to the database.

    Two probes from Python's own string hash (process-local, which is all a cache needs: the
    filter only decides whether to ask the database, never what the answer is). Never rebuilt
    while open: past its size the rate of "maybe" rises and reads go to the database more
    often, never wrongly. Sized at opening for at least 16 bits a key.
    """

    def __init__(self, keys: int) -> None:
        size = 1 << 23
        while size < keys * 16:
            size <<= 1
        self._mask = size - 1
        self._bits = bytearray(size // 8)

    def add(self, key: str) -> None:
        h, mask, bits = hash(key), self._mask, self._bits
        first, second = h & mask, (h >> 32) & mask
        bits[first >> 3] |= 1 << (first & 7)
        bits[second >> 3] |= 1 << (second & 7)

    def may_contain(self, key: str) -> bool:
        h, mask, bits = hash(key), self._mask, self._bits
        first, second = h & mask, (h >> 32) & mask
        return bool(
            bits[first >> 3] & (1 << (first & 7)) and bits[second >> 3] & (1 << (second & 7))
        )


class CachedReader(Reader):
    """The block thread's reader: committed values cached, including absences.

    Execution reads the same records (signers' keys, organisations) again and
    again. Every committed write passes through :meth:`Storage.commit_block`,
    which refreshes this cache after the database commit, so it never serves a
    stale value. Bounded: emptied when it grows past ``limit`` entries.

    A key never seen before (the id of a key being registered, a new container) is
    answered absent from a :class:`KeyFilter` without querying the database: the
    query would release the interpreter lock and the block thread would wait to get
    it back from the threads admitting transactions.
    """

    def __init__(self, conn: sqlite3.Connection, limit: int = 500_000) -> None:
        super().__init__(conn)
        self._values: dict[str, bytes | None] = {}
        self._limit = limit
        self.pinned = 0
        """Blocks whose writes are cached but not yet in the database: no emptying meanwhile."""
        (count,) = conn.execute("SELECT count(*) FROM state").fetchone()
        self._filter = KeyFilter(count)
        for (key,) in conn.execute("SELECT key FROM state"):
            self._filter.add(key)

    def get(self, key: str) -> bytes | None:
        try:
            return self._values[key]
        except KeyError:
            value = self._select(key) if self._filter.may_contain(key) else None
            if len(self._values) >= self._limit and not self.pinned:
                self._values.clear()
            self._values[key] = value
            return value

    def get_value(self, key: str) -> bytes | None:
        return self.get(key)

    def refresh(self, writes: dict[str, bytes | None]) -> None:
        add = self._filter.add
        for key in writes:
            add(key)
        if len(self._values) + len(writes) >= self._limit and not self.pinned:
            self._values.clear()
        self._values.update(writes)


def _stored_block(row: tuple[Any, ...]) -> StoredBlock:
    return StoredBlock(
        height=row[0],
        hash=bytes(row[1]),
        header=json.loads(row[2]),
        num_txs=row[3],
        app_hash=bytes(row[4]),
        results_hash=bytes(row[5]),
        block_events=json.loads(row[6]),
        commit=None if row[7] is None else json.loads(row[7]),
    )


def _stored_tx(row: tuple[Any, ...]) -> StoredTx:
    return StoredTx(
        hash=bytes(row[0]),
        height=row[1],
        index=row[2],
        raw=bytes(row[3]),
        signer=row[4],
        action=row[5],
        code=row[6],
        codespace=row[7],
        log=row[8],
        events=json.loads(row[9]),
    )


def _event_row(row: tuple[Any, ...]) -> dict[str, Any]:
    return {
        "height": row[0],
        "index": row[1],
        "tx": None if row[2] is None else bytes(row[2]).hex(),
        "type": row[3],
        "attributes": json.loads(row[4]),
        "audience": tuple(json.loads(row[5])) if row[5] else (),
    }


def open_reader(path: Path) -> Reader:
    """A read view of the database at ``path`` on a connection of its own (for tools), after
    bringing the database to the current schema if it is of an earlier one."""
    conn = _connect(path)
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.OperationalError:  # no tables yet
        row = None
    if row is not None and int(row[0]) != SCHEMA_VERSION:
        conn.close()
        Storage(path).close()  # migrates, or refuses a schema it does not know
        conn = _connect(path)
    return Reader(conn)


class Storage:
    """The node's database: one writer (the block thread), a reader per other thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = _connect(path)
        self._writer.executescript(_SCHEMA)
        self._local = threading.local()
        self._bg: ThreadPoolExecutor | None = None
        self._bg_conn: sqlite3.Connection | None = None
        self.generation = 0
        """Commits made through this storage; readers' caches last one generation."""
        version = self._writer.execute(
            "SELECT value FROM meta WHERE key = 'schema_version'"
        ).fetchone()
        if version is None:
            self._put_meta({"schema_version": str(SCHEMA_VERSION).encode()})
        elif int(version[0]) == 2:
            self._migrate_from_2()
        elif int(version[0]) != SCHEMA_VERSION:
            raise RuntimeError(f"database schema {int(version[0])} is not {SCHEMA_VERSION}")
        self.writer = CachedReader(self._writer)

    def _migrate_from_2(self) -> None:
        """Schema 2 kept the Merkle nodes by hash: rebuild the tree from the state, numbered.

        The state table holds every key and value, and the tree's shape depends on nothing
        else, so the rebuilt tree is the committed one; its root must be the stored app hash.
        Old roots' nodes are not carried over (only the latest state is ever proven).
        """
        with self._transaction() as c:  # read and rewrite under one lock, or not at all
            row = c.execute("SELECT value FROM meta WHERE key = 'app_hash'").fetchone()
            app_hash = bytes(32) if row is None else bytes(row[0])
            tree = MerkleTree()
            tree.update(
                (codec.sha256(key.encode()), codec.sha256(value))
                for key, value in c.execute("SELECT key, value FROM state")
            )
            if tree.root_hash != app_hash:
                raise RuntimeError(
                    f"cannot migrate {self.path}: its state does not hash to its app hash"
                )
            nodes = tree.take_unstored()
            c.execute("DROP TABLE nodes")
            c.execute(_NODES_TABLE)
            c.executemany("INSERT INTO nodes (id, data) VALUES (?, ?)", nodes)
            c.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                [("root_node", str(tree.root_id).encode()), ("schema_version", b"3")],
            )

    def reader(self) -> Reader:
        """This thread's read connection."""
        reader = getattr(self._local, "reader", None)
        if reader is None:
            reader = Reader(_connect(self.path), lambda: self.generation)
            self._local.reader = reader
        return reader

    def set_meta(self, key: str, value: bytes) -> None:
        """Record a fact about the database itself (e.g. ``engine``: which engine wrote it)."""
        self._put_meta({key: value})

    def _put_meta(self, values: dict[str, bytes]) -> None:
        with self._transaction() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", list(values.items())
            )

    @contextmanager
    def _transaction(self, conn: sqlite3.Connection | None = None) -> Iterator[sqlite3.Connection]:
        conn = conn or self._writer
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @staticmethod
    def _write_state(
        conn: sqlite3.Connection,
        writes: dict[str, bytes | None],
        nodes: list[tuple[int, bytes]],
        stale_nodes: list[int] | None = None,
    ) -> None:
        if None in writes.values():
            kept: Iterable[tuple[str, bytes | None]] = [
                (k, v) for k, v in writes.items() if v is not None
            ]
            conn.executemany(
                "DELETE FROM state WHERE key = ?", [(k,) for k, v in writes.items() if v is None]
            )
        else:  # no deletion: the items go to SQLite as they are, with no Python loop
            kept = writes.items()
        conn.executemany("INSERT OR REPLACE INTO state (key, value) VALUES (?, ?)", kept)
        conn.executemany("INSERT INTO nodes (id, data) VALUES (?, ?)", nodes)
        if stale_nodes:
            conn.executemany("DELETE FROM nodes WHERE id = ?", [(i,) for i in sorted(stale_nodes)])

    def init_genesis(
        self,
        genesis: bytes,
        writes: dict[str, bytes | None],
        nodes: list[tuple[int, bytes]],
        app_hash: bytes,
        genesis_events: list[Event],
        *,
        root_node: int,
    ) -> None:
        """Persist the genesis document and state as height 0, atomically; ``root_node`` is
        the stored id of the tree's root."""
        with self._transaction() as conn:
            self._write_state(conn, writes, nodes)
            meta = {
                "genesis": genesis,
                "height": b"0",
                "app_hash": app_hash,
                "root_node": str(root_node).encode(),
                "genesis_app_hash": app_hash,
                "last_block_hash": bytes(32),
                "genesis_events": json.dumps([e.as_dict() for e in genesis_events]).encode(),
            }
            conn.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", list(meta.items())
            )
        self.writer.refresh(writes)
        self.generation += 1

    def commit_block(
        self,
        block: Block,
        tx_rows: list[tuple[bytes, str, str, int, str, str, list[Event]]],
        block_events: list[Event],
        writes: dict[str, bytes | None],
        nodes: list[tuple[int, bytes]],
        app_hash: bytes,
        results_hash: bytes,
        commit: Commit | None,
        *,
        root_node: int,
        stale_nodes: list[int] | None = None,
        background: bool = False,
    ) -> Future[None] | None:
        """Make block ``block`` durable with its results, index and state, in one transaction.

        ``tx_rows`` are (hash, signer, action, code, codespace, log, events) in block order;
        ``nodes`` the tree's new nodes as (id, bytes), ``root_node`` the id of its root and
        ``stale_nodes`` the ids of the nodes they replace, deleted in the same transaction.
        With ``background`` the rows are prepared here, the block's writes are served from
        the block thread's cache at once, and the database transaction runs on the storage's
        own writer thread (SQLite works without holding Python's lock, so the next block can
        execute meanwhile); the returned future completes when the block is durable.
        Blocks are written in the order they are handed over.
        """
        height = block.header.height
        txs = []
        event_rows: list[tuple[int, int, bytes | None, str, bytes, str | None]] = []
        index_rows: list[tuple[str, str, int, int]] = []
        position = 0

        def add_events(tx_hash: bytes | None, evs: list[Event]) -> None:
            nonlocal position
            for event in evs:
                event_rows.append(
                    (
                        height,
                        position,
                        tx_hash,
                        event.type,
                        json.dumps(dict(event.attributes)).encode(),
                        json.dumps(event.audience) if event.audience else None,
                    )
                )
                for name, value in event.attributes:
                    if (
                        name in INDEXED
                        and isinstance(value, str)
                        and value
                        and len(value) <= INDEXED_VALUE_MAX
                    ):
                        index_rows.append((name, value, height, position))
                position += 1

        for idx, (raw, (tx_hash, signer, action, code, codespace, log, evs)) in enumerate(
            zip(block.txs, tx_rows, strict=True)
        ):
            dumped = json.dumps([e.as_dict() for e in evs]).encode()
            txs.append((tx_hash, height, idx, raw, signer, action, code, codespace, log, dumped))
            add_events(tx_hash, evs)
        add_events(None, block_events)
        meta = [
            ("height", str(height).encode()),
            ("app_hash", app_hash),
            ("root_node", str(root_node).encode()),
            ("last_block_hash", block.hash),
        ]
        block_row = (
            height,
            block.hash,
            block.header.encode(),
            block.header.time_ms,
            len(block.txs),
            app_hash,
            results_hash,
            json.dumps([e.as_dict() for e in block_events]).encode(),
            None if commit is None else json.dumps(commit.as_dict()).encode(),
        )
        rows = (dict(writes), nodes, stale_nodes, block_row, txs, event_rows, index_rows, meta)
        if not background:
            self._write_block(self._writer, *rows)
            self.writer.refresh(writes)
            self.generation += 1
            return None
        self.writer.refresh(writes)
        self.writer.pinned += 1
        return self._background().submit(self._write_in_background, rows)

    def _background(self) -> ThreadPoolExecutor:
        if self._bg is None:
            self._bg = ThreadPoolExecutor(1, thread_name_prefix="storage-writer")
        return self._bg

    def _write_in_background(self, rows: tuple[Any, ...]) -> None:
        if self._bg_conn is None:
            self._bg_conn = _connect(self.path)
        try:
            self._write_block(self._bg_conn, *rows)
            self.generation += 1
        finally:
            self.writer.pinned -= 1

    def _write_block(
        self,
        connection: sqlite3.Connection,
        writes: dict[str, bytes | None],
        nodes: list[tuple[int, bytes]],
        stale_nodes: list[int] | None,
        block_row: tuple[Any, ...],
        txs: list[tuple[Any, ...]],
        event_rows: list[tuple[Any, ...]],
        index_rows: list[tuple[Any, ...]],
        meta: list[tuple[str, bytes]],
    ) -> None:
        with self._transaction(connection) as conn:
            self._write_state(conn, writes, nodes, stale_nodes)
            conn.execute(
                "INSERT INTO blocks (height, hash, header, time_ms, num_txs, app_hash,"
                " results_hash, block_events, commit_cert) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                block_row,
            )
            # A transaction id seen again in a later block is a failed replay; lookups by
            # hash answer with the first record, the one that counted.
            conn.executemany(
                "INSERT INTO txs (hash, height, idx, raw, signer, action, code,"
                " codespace, log, events) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                txs,
            )
            conn.executemany(
                "INSERT INTO events (height, idx, tx_hash, type, attributes, audience)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                event_rows,
            )
            conn.executemany(
                "INSERT OR IGNORE INTO event_index (name, value, height, idx) VALUES (?, ?, ?, ?)",
                index_rows,
            )
            conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", meta)

    def header(self, height: int) -> Header | None:
        stored = self.writer.block(height)
        return None if stored is None else Header.from_dict(stored.header)

    def close(self) -> None:
        if self._bg is not None:
            self._bg.shutdown(wait=True)  # every block handed over becomes durable first
            self._bg = None
        if self._bg_conn is not None:
            self._bg_conn.close()
        self._writer.close()
