"""The blob store beside a node's database, as a node's operator and its readers meet it.

(The blob written at commit, a deleted or altered blob rebuilt on read, and names checked are
in test_documents.py; these are the restored node, refused anchors and the files on disk.)
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

from portchain.engines.solo import SoloConfig
from portchain.kernel.tx import Tx, sign
from portchain.modules.documents.sealing import OVERHEAD, anchor_body, open_document
from portchain.node.blobs import BlobStore
from portchain.node.home import Home
from portchain.node.node import Node
from portchain.node.presets import DEMO_CAST, create_network
from served import client_as, serve

CHAIN = "blobs-test"
PAPER = b'{"certificate": "COO-77", "origin": "CN", "issued_by": "CCPIT"}'


def send(node: Node, home: Home, org: str, action: str, body: dict[str, Any]) -> dict[str, Any]:
    key = home.load_key(org).key
    raw = sign(Tx(CHAIN, key.key_id, node.next_sequence(key.key_id), action, body), key)
    return node.submit(raw, wait=True)


def body_for(home: Home, doc_id: str, plaintext: bytes, orgs: list[str]) -> dict[str, Any]:
    keys = {org: home.load_encryption_key(org).public_key for org in orgs}
    return anchor_body(doc_id, "certificate_of_origin", "application/json", plaintext, keys)


def test_a_node_restored_from_a_copy_of_its_database_serves_and_rebuilds_the_blobs(
    tmp_path: Path,
) -> None:
    home = Home(tmp_path / "home")
    create_network(home, chain_id=CHAIN, cast=DEMO_CAST)
    node = Node(home, SoloConfig(block_interval=0.05))
    node.start()
    try:
        body = body_for(home, "COO-77", PAPER, ["BRIGHTWAVE", "HOLLANDBANK"])
        assert send(node, home, "BRIGHTWAVE", "documents.anchor", body)["status"] == "committed"
    finally:
        node.stop()
    # The operator restores the home on a new machine from a backup that left the blobs out.
    restored = Home(tmp_path / "restored")
    shutil.copytree(home.path, restored.path, ignore=shutil.ignore_patterns("blobs", "*.lock"))
    assert not restored.blobs_dir.exists()
    node = Node(restored, SoloConfig(block_interval=0.05))
    node.start()
    try:
        with serve(node) as base:
            with client_as(base, restored.load_key("HOLLANDBANK").key) as bank:
                answer = bank.get("/api/v1/documents/COO-77/content")
                assert answer.status_code == 200
                sealed = bank.get("/api/v1/documents/COO-77").json()["sealed_key"]
            blob = restored.blobs_dir / body["ciphertext_sha256"]
            assert blob.read_bytes() == answer.content  # rebuilt from the transaction
            assert len(answer.content) == len(PAPER) + OVERHEAD and PAPER not in answer.content
            opened = open_document(
                answer.content, sealed, restored.load_encryption_key("HOLLANDBANK")
            )
            assert opened == PAPER
            # An organisation not granted it rebuilds nothing and learns nothing.
            blob.unlink()
            with client_as(base, restored.load_key("NL-CUSTOMS").key) as customs:
                assert customs.get("/api/v1/documents/COO-77/content").status_code == 404
            assert not blob.exists()
    finally:
        node.stop()


def test_a_refused_anchor_leaves_no_blob(tmp_path: Path) -> None:
    home = Home(tmp_path / "home")
    create_network(home, chain_id=CHAIN, cast=DEMO_CAST)
    node = Node(home, SoloConfig(block_interval=0.05))
    node.start()
    try:
        first = body_for(home, "COO-1", PAPER, ["BRIGHTWAVE"])
        assert send(node, home, "BRIGHTWAVE", "documents.anchor", first)["status"] == "committed"
        # The same id again (another ciphertext) and a grant to no member: both fail in the
        # block, so their ciphertexts, though in the block, never reach the store.
        taken = body_for(home, "COO-1", PAPER + b" ", ["BRIGHTWAVE"])
        stranger = {
            **body_for(home, "COO-2", PAPER, ["BRIGHTWAVE"]),
            "grants": {"NOBODY": "ab" * 80},
        }
        for body in (taken, stranger):
            assert send(node, home, "BRIGHTWAVE", "documents.anchor", body)["status"] == "failed"
    finally:
        node.stop()
    assert sorted(p.name for p in home.blobs_dir.iterdir()) == [first["ciphertext_sha256"]]


def test_blobs_are_whole_files_named_by_their_hash_and_written_once(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")
    sealed = b"\x00sealed bytes\xff" * 100
    name = store.put(sealed)
    assert name == hashlib.sha256(sealed).hexdigest()
    written = (tmp_path / "blobs" / name).stat()
    assert store.put(sealed) == name  # the same bytes: the file is left as it is
    assert (tmp_path / "blobs" / name).stat().st_mtime_ns == written.st_mtime_ns
    assert [p.name for p in (tmp_path / "blobs").iterdir()] == [name]  # no temporary files left
    (tmp_path / "blobs" / name).write_bytes(sealed[:-1])  # a torn or altered file
    assert store.get(name) is None
    assert store.put(sealed) == name and store.get(name) == sealed  # rewritten whole
