"""The document vault: sealed to the organisations granted, anchored by hash, on a real node."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nacl.exceptions
import pytest

from portchain.engines.solo import SoloConfig
from portchain.kernel.errors import PortchainError
from portchain.kernel.tx import Tx, sign
from portchain.modules.documents import sealing
from portchain.modules.documents.sealing import OVERHEAD, open_document, seal_key
from portchain.node.blobs import BlobStore
from portchain.node.home import Home
from portchain.node.node import Node
from portchain.node.presets import DEMO_CAST, create_network
from served import client_as, serve

CHAIN = "documents-test"
INVOICE = json.dumps(
    {"invoice": "BW-2026-0042", "seller": "BRIGHTWAVE", "total": "USD 51,100.00"}
).encode()


@pytest.fixture
def node(tmp_path: Path) -> Iterator[tuple[Node, Home]]:
    home = Home(tmp_path / "home")
    create_network(home, chain_id=CHAIN, cast=DEMO_CAST)
    running = Node(home, SoloConfig(block_interval=0.05))
    running.start()
    yield running, home
    running.stop()


def send(node: Node, home: Home, org: str, action: str, body: dict[str, Any]) -> dict[str, Any]:
    key = home.load_key(org).key
    raw = sign(Tx(CHAIN, key.key_id, node.next_sequence(key.key_id), action, body), key)
    return node.submit(raw, wait=True)


def public_key(home: Home, org: str) -> bytes:
    return home.load_encryption_key(org).public_key


def anchor_body(home: Home, doc_id: str, plaintext: bytes, grantees: list[str]) -> dict[str, Any]:
    keys = {org: public_key(home, org) for org in grantees}
    return sealing.anchor_body(doc_id, "commercial_invoice", "application/json", plaintext, keys)


def test_only_granted_organisations_open_it_and_a_later_grant_works(
    node: tuple[Node, Home],
) -> None:
    running, home = node
    body = anchor_body(home, "INV-42", INVOICE, ["HOLLANDBANK", "HOLLANDHOME"])
    assert send(running, home, "BRIGHTWAVE", "documents.anchor", body)["status"] == "committed"
    with serve(running) as base:
        for org in ("HOLLANDBANK", "HOLLANDHOME"):
            with client_as(base, home.load_key(org).key) as client:
                record = client.get("/api/v1/documents/INV-42").json()
                blob = client.get("/api/v1/documents/INV-42/content").content
                opened = open_document(blob, record["sealed_key"], home.load_encryption_key(org))
                assert opened == INVOICE
        with client_as(base, home.load_key("NL-CUSTOMS").key) as customs:
            assert customs.get("/api/v1/documents/INV-42").status_code == 404
            assert customs.get("/api/v1/documents/INV-42/content").status_code == 404
            # Its own key opens none of the seals made for others.
            for sealed in body["grants"].values():
                with pytest.raises(nacl.exceptions.CryptoError):
                    open_document(
                        base64.b64decode(body["ciphertext"]),
                        sealed,
                        home.load_encryption_key("NL-CUSTOMS"),
                    )
            # The issuer grants it later, with a key only it can unseal from its own seal.
            issuer_record = None
            with client_as(base, home.load_key("BRIGHTWAVE").key) as issuer:
                issuer_record = issuer.get("/api/v1/documents/INV-42")
                assert issuer_record.status_code == 200
            content_key = _content_key(home, body)
            late = {
                "doc_id": "INV-42",
                "org": "NL-CUSTOMS",
                "sealed_key": seal_key(content_key, public_key(home, "NL-CUSTOMS")),
            }
            assert (
                send(running, home, "BRIGHTWAVE", "documents.grant", late)["status"] == "committed"
            )
            record = customs.get("/api/v1/documents/INV-42").json()
            blob = customs.get("/api/v1/documents/INV-42/content").content
            assert (
                open_document(blob, record["sealed_key"], home.load_encryption_key("NL-CUSTOMS"))
                == INVOICE
            )
        revoke = {"doc_id": "INV-42", "org": "HOLLANDBANK"}
        assert send(running, home, "BRIGHTWAVE", "documents.revoke_grant", revoke)["status"] == (
            "committed"
        )
        with client_as(base, home.load_key("HOLLANDBANK").key) as bank:
            assert bank.get("/api/v1/documents/INV-42/content").status_code == 404


def _content_key(home: Home, body: dict[str, Any]) -> bytes:
    """The issuer's client kept the content key; here it is recovered from a grantee's seal."""
    from portchain.modules.documents.sealing import open_key

    return open_key(body["grants"]["HOLLANDHOME"], home.load_encryption_key("HOLLANDHOME"))


def test_the_ciphertext_reveals_nothing_but_its_length(node: tuple[Node, Home]) -> None:
    running, home = node
    first = anchor_body(home, "A", INVOICE, ["HOLLANDHOME"])
    second = anchor_body(home, "B", INVOICE, ["HOLLANDHOME"])
    one, two = (base64.b64decode(b["ciphertext"]) for b in (first, second))
    assert one != two and len(one) == len(two) == len(INVOICE) + OVERHEAD
    assert send(running, home, "BRIGHTWAVE", "documents.anchor", first)["status"] == "committed"
    database = home.db_path.read_bytes() + home.db_path.with_name("portchain.db-wal").read_bytes()
    for fragment in (b"BW-2026-0042", b"51,100", b'"total"'):
        assert fragment not in database and fragment not in one


def test_anyone_holding_the_file_asks_whether_it_is_anchored(node: tuple[Node, Home]) -> None:
    running, home = node
    first = anchor_body(home, "COO-1", b"certificate of origin v1", ["HOLLANDHOME"])
    second = anchor_body(home, "COO-2", b"certificate of origin v2", ["HOLLANDHOME"])
    for body in (first, second):
        assert send(running, home, "BRIGHTWAVE", "documents.anchor", body)["status"] == "committed"
    supersede = {"doc_id": "COO-1", "by": "COO-2"}
    assert send(running, home, "BRIGHTWAVE", "documents.supersede", supersede)["status"] == (
        "committed"
    )
    with serve(running) as base, client_as(base, home.load_key("MAASHAUL").key) as anyone:
        digest = hashlib.sha256(b"certificate of origin v1").hexdigest()
        answer = anyone.get(f"/api/v1/documents/anchors/{digest}").json()
        assert answer["issuer"] == "BRIGHTWAVE" and answer["superseded_by"] == "COO-2"
        assert "grants" not in answer and "sealed_key" not in answer
        unknown = hashlib.sha256(b"never anchored").hexdigest()
        assert anyone.get(f"/api/v1/documents/anchors/{unknown}").status_code == 404


def test_who_may_do_what_and_bad_input(node: tuple[Node, Home]) -> None:
    running, home = node
    body = anchor_body(home, "PL-1", b"packing list", ["HOLLANDHOME"])
    assert send(running, home, "BRIGHTWAVE", "documents.anchor", body)["status"] == "committed"

    def failed(org: str, action: str, payload: dict[str, Any], code: int) -> None:
        outcome = send(running, home, org, action, payload)
        assert outcome["status"] == "failed", outcome
        assert (outcome["error"]["codespace"], outcome["error"]["code"]) == ("documents", code)

    grant = {"doc_id": "PL-1", "org": "NL-CUSTOMS", "sealed_key": "ab" * 80}
    failed("HOLLANDHOME", "documents.grant", grant, 3)  # a grantee is not the issuer
    failed("MERIDIAN", "documents.grant", grant, 2)  # an outsider is told it does not exist
    failed("BRIGHTWAVE", "documents.anchor", body, 1)  # the id is taken
    tampered = {**body, "doc_id": "PL-2", "ciphertext_sha256": "00" * 32}
    failed("BRIGHTWAVE", "documents.anchor", tampered, 4)
    failed(
        "BRIGHTWAVE",
        "documents.anchor",
        {**body, "doc_id": "PL-3", "grants": {"NOBODY": "ab" * 80}},
        5,
    )
    failed("BRIGHTWAVE", "documents.revoke_grant", {"doc_id": "PL-1", "org": "MERIDIAN"}, 6)
    # Failed transactions use up their sequence numbers and nothing else.
    with serve(running) as base, client_as(base, home.load_key("HOLLANDHOME").key) as client:
        record = client.get("/api/v1/documents/PL-1").json()
        assert [g["org"] for g in record["grants"]] == ["HOLLANDHOME"]
    for field, change in (
        ("body.doc_type", {"doc_type": "love_letter"}),
        ("body.media_type", {"media_type": "application/x-msdownload"}),
        ("body.ciphertext", {"ciphertext": "not base64!"}),
        ("body.size", {"size": 10**9}),
        ("body.grants", {"grants": {}}),
        ("body.plaintext_sha256", {"plaintext_sha256": "xyz"}),
    ):
        with pytest.raises(PortchainError) as refused:  # refused at admission
            send(
                running,
                home,
                "BRIGHTWAVE",
                "documents.anchor",
                {**body, "doc_id": "PL-9", **change},
            )
        assert refused.value.field.startswith(field), (field, refused.value)


# -- the blob store beside the database ------------------------------------------------------
def test_the_ciphertext_is_written_to_the_blob_store_when_its_block_commits(
    node: tuple[Node, Home],
) -> None:
    running, home = node
    body = anchor_body(home, "INV-BLOB", INVOICE, ["BRIGHTWAVE", "HOLLANDHOME"])
    assert send(running, home, "BRIGHTWAVE", "documents.anchor", body)["status"] == "committed"
    stored = (home.blobs_dir / body["ciphertext_sha256"]).read_bytes()
    assert hashlib.sha256(stored).hexdigest() == body["ciphertext_sha256"]
    assert len(stored) == len(INVOICE) + OVERHEAD
    for fragment in (INVOICE, b"BW-2026-0042", b"51,100", b'"total"'):
        assert fragment not in stored
    assert [p.name for p in home.blobs_dir.iterdir()] == [body["ciphertext_sha256"]]


def test_a_lost_or_damaged_blob_is_rebuilt_from_the_ledger_on_read(
    node: tuple[Node, Home],
) -> None:
    running, home = node
    body = anchor_body(home, "PL-BLOB", INVOICE, ["BRIGHTWAVE", "HOLLANDHOME"])
    assert send(running, home, "BRIGHTWAVE", "documents.anchor", body)["status"] == "committed"
    blob = home.blobs_dir / body["ciphertext_sha256"]
    with serve(running) as client, client_as(client, home.load_key("HOLLANDHOME").key) as importer:
        for damage in ("delete", "alter"):
            if damage == "delete":
                blob.unlink()
            else:
                blob.write_bytes(b"x" * len(blob.read_bytes()))
            answer = importer.get("/api/v1/documents/PL-BLOB/content")
            assert answer.status_code == 200
            assert hashlib.sha256(answer.content).hexdigest() == body["ciphertext_sha256"]
            assert blob.read_bytes() == answer.content  # rebuilt
        sealed = importer.get("/api/v1/documents/PL-BLOB").json()["sealed_key"]
        plain = open_document(answer.content, sealed, home.load_encryption_key("HOLLANDHOME"))
        assert plain == INVOICE
        with client_as(client, home.load_key("SZTRADEBANK").key) as outsider:
            assert outsider.get("/api/v1/documents/PL-BLOB/content").status_code == 404


def test_the_blob_store_takes_only_hashes_for_names(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    name = store.put(b"sealed bytes")
    assert store.get(name) == b"sealed bytes" and store.get("0" * 64) is None
    for bad in ("../../etc/passwd", "A" * 64, name[:-1]):
        with pytest.raises(ValueError, match="SHA-256"):
            store.get(bad)


def test_the_sdk_puts_fetches_grants_and_asks_about_a_document(node: tuple[Node, Home]) -> None:
    from portchain.sdk import Client, ClientError, documents

    running, home = node
    with serve(running) as base:
        url = str(base.base_url)
        exporter = home.load_key("BRIGHTWAVE").key
        with Client(url, key=exporter) as client:
            outcome = documents.put(
                client,
                exporter,
                "COO-7",
                "certificate_of_origin",
                "application/json",
                INVOICE,
                issuer="BRIGHTWAVE",
                to=["HOLLANDBANK"],
            )
            assert outcome["status"] == "committed"
        with Client(url, key=home.load_key("HOLLANDBANK").key) as bank:
            assert (
                documents.fetch(bank, "COO-7", home.load_encryption_key("HOLLANDBANK")) == INVOICE
            )
            assert documents.anchored(bank, INVOICE)["issuer"] == "BRIGHTWAVE"
            assert documents.anchored(bank, b"some other file") is None
        with Client(url, key=home.load_key("NL-CUSTOMS").key) as customs:
            with pytest.raises(ClientError):
                documents.fetch(customs, "COO-7", home.load_encryption_key("NL-CUSTOMS"))
            with Client(url, key=exporter) as client:
                granted = documents.grant(
                    client, exporter, "COO-7", "NL-CUSTOMS", home.load_encryption_key("BRIGHTWAVE")
                )
                assert granted["status"] == "committed"
            opened = documents.fetch(customs, "COO-7", home.load_encryption_key("NL-CUSTOMS"))
            assert opened == INVOICE
