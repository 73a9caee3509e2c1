"""The content-addressed blob store beside a node's database: ``data/blobs/<sha256>``.

A document's ciphertext travels in the transaction that anchors it, so every node of the
network holds it in its blocks; when the block commits, each node also writes the ciphertext
here, named by its SHA-256, so it is served without reading the block. A blob is checked
against its name whenever it is read, and a missing one (a node restored from a copy of its
database) is rebuilt from the transaction on the first read.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from portchain.app.execute import BlockResult
from portchain.kernel.access import Viewer
from portchain.modules.documents import queries

ANCHOR_ACTION = "documents.anchor"


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a SHA-256 in hex: {sha256!r}")
        return self.root / sha256

    def get(self, sha256: str) -> bytes | None:
        """The blob named ``sha256``, or None if absent or no longer matching its name."""
        try:
            data = self.path(sha256).read_bytes()
        except FileNotFoundError:
            return None
        return data if hashlib.sha256(data).hexdigest() == sha256 else None

    def put(self, data: bytes) -> str:
        """Store ``data`` under its SHA-256 (atomically: a reader never sees half a blob)."""
        sha256 = hashlib.sha256(data).hexdigest()
        target = self.path(sha256)
        if self.get(sha256) is not None:
            return sha256
        self.root.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.root, prefix=".incoming-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return sha256

    def ciphertext(self, reader: Any, viewer: Viewer, record: dict[str, Any]) -> bytes | None:
        """The ciphertext of a document ``viewer`` reads (``record`` from
        ``documents.queries.document``): from this store, or rebuilt from the anchoring
        transaction and stored again; None if the node does not hold that transaction."""
        blob = self.get(record["ciphertext_sha256"])
        if blob is None:
            blob = queries.ciphertext(reader, viewer, record["id"])
            if blob is not None:
                self.put(blob)
        return blob

    def store_committed(self, result: BlockResult) -> None:
        """Write the ciphertext of every document anchored in a committed block."""
        for raw, outcome in zip(result.block.txs, result.tx_results, strict=True):
            if outcome.ok and outcome.action == ANCHOR_ACTION:
                body = json.loads(raw)["tx"]["body"]
                self.put(base64.b64decode(body["ciphertext"]))
