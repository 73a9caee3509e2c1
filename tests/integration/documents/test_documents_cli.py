"""``portchain documents`` driven as a user types it, on a demo network home whose node runs.

The node runs in this process with its API served and its address published in the home, as
``portchain up`` does; the CLI finds it there and sends through the API, reads the home's
database and blob store, and opens documents with the keys in the home.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from portchain.cli.main import app
from portchain.engines.solo import SoloConfig
from portchain.modules.documents.sealing import OVERHEAD
from portchain.node.home import Home
from portchain.node.node import Node
from portchain.node.presets import DEMO_CAST, create_network
from served import serve

runner = CliRunner()
INVOICE = json.dumps(
    {"invoice": "BW-2026-0042", "seller": "BRIGHTWAVE", "total": "USD 51,100.00"}
).encode()


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Home]:
    """A demo network's home with its node up and its API address published."""
    target = Home(tmp_path / "net")
    create_network(target, chain_id="documents-cli", cast=DEMO_CAST)
    node = Node(target, SoloConfig(block_interval=0.05))
    node.start()
    try:
        with serve(node) as client:
            target.api_file.write_text(json.dumps({"url": str(client.base_url)}) + "\n")
            yield target
    finally:
        target.api_file.unlink(missing_ok=True)
        node.stop()


def invoke(home: Home, *args: str) -> Result:
    return runner.invoke(app, ["documents", args[0], "--home", str(home.path), *args[1:]])


def ok(home: Home, *args: str) -> Any:
    result = invoke(home, *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def refused(home: Home, *args: str) -> str:
    result = invoke(home, *args)
    assert result.exit_code == 1, result.output
    return result.output


def test_put_get_grant_revoke_supersede_and_anchored_through_the_running_node(
    home: Home, tmp_path: Path
) -> None:
    invoice = tmp_path / "invoice.json"
    invoice.write_bytes(INVOICE)
    put = ok(
        home,
        "put",
        str(invoice),
        "--type",
        "commercial_invoice",
        "--to",
        "HOLLANDBANK",
        "--to",
        "HOLLANDHOME",
        "--as",
        "BRIGHTWAVE",
        "--id",
        "INV-42",
    )
    assert put["granted"] == ["BRIGHTWAVE", "HOLLANDBANK", "HOLLANDHOME"]
    assert put["sha256"] == hashlib.sha256(INVOICE).hexdigest()

    # The running node wrote the ciphertext to its blob store when the block committed.
    record = ok(home, "show", "--as", "HOLLANDBANK", "INV-42")
    assert record["media_type"] == "application/json"  # guessed from the file's name
    blob = (home.blobs_dir / record["ciphertext_sha256"]).read_bytes()
    assert len(blob) == len(INVOICE) + OVERHEAD and INVOICE not in blob

    for org in ("HOLLANDBANK", "HOLLANDHOME", "BRIGHTWAVE"):
        out = tmp_path / f"opened-{org}.json"
        assert ok(home, "get", "INV-42", "--as", org, "--out", str(out))["bytes"] == len(INVOICE)
        assert out.read_bytes() == INVOICE

    customs_copy = tmp_path / "customs.json"
    output = refused(home, "get", "INV-42", "--as", "NL-CUSTOMS", "--out", str(customs_copy))
    assert "not granted to NL-CUSTOMS" in output and not customs_copy.exists()
    ok(home, "grant", "INV-42", "NL-CUSTOMS", "--as", "BRIGHTWAVE")
    ok(home, "get", "INV-42", "--as", "NL-CUSTOMS", "--out", str(customs_copy))
    assert customs_copy.read_bytes() == INVOICE

    ok(home, "revoke", "INV-42", "HOLLANDBANK", "--as", "BRIGHTWAVE")
    bank_copy = tmp_path / "bank-again.json"
    assert "not granted to HOLLANDBANK" in refused(
        home, "get", "INV-42", "--as", "HOLLANDBANK", "--out", str(bank_copy)
    )
    grants = ok(home, "show", "--as", "BRIGHTWAVE", "INV-42")["grants"]
    revoked = {g["org"]: g["revoked_ms"] > 0 for g in grants}
    assert revoked == {
        "BRIGHTWAVE": False,
        "HOLLANDBANK": True,
        "HOLLANDHOME": False,
        "NL-CUSTOMS": False,
    }

    # A corrected invoice replaces it; anyone holding either file learns which is current.
    corrected = tmp_path / "invoice-v2.json"
    corrected.write_bytes(INVOICE.replace(b"51,100", b"51,000"))
    ok(
        home,
        "put",
        str(corrected),
        "--type",
        "commercial_invoice",
        "--to",
        "HOLLANDHOME",
        "--as",
        "BRIGHTWAVE",
        "--id",
        "INV-42-v2",
    )
    ok(home, "supersede", "INV-42", "INV-42-v2", "--as", "BRIGHTWAVE")
    old = ok(home, "anchored", str(invoice))  # no --as: any member may ask
    assert (old["document"], old["issuer"], old["superseded_by"]) == (
        "INV-42",
        "BRIGHTWAVE",
        "INV-42-v2",
    )
    assert old["anchored_ms"] > 0
    new = ok(home, "anchored", str(corrected), "--as", "MAASHAUL")
    assert (new["document"], new["superseded_by"]) == ("INV-42-v2", None)
    other = tmp_path / "other.txt"
    other.write_text("never anchored")
    assert ok(home, "anchored", str(other)) == {
        "sha256": hashlib.sha256(b"never anchored").hexdigest(),
        "anchored": False,
    }


def test_a_deleted_blob_is_read_from_the_ledger_by_the_cli(home: Home, tmp_path: Path) -> None:
    packing = tmp_path / "packing.txt"
    packing.write_bytes(b"2400 cartons of LED panels, 18,400 kg gross")
    ok(
        home,
        "put",
        str(packing),
        "--type",
        "packing_list",
        "--to",
        "HOLLANDHOME",
        "--as",
        "BRIGHTWAVE",
        "--id",
        "PL-7",
    )
    record = ok(home, "show", "--as", "HOLLANDHOME", "PL-7")
    (home.blobs_dir / record["ciphertext_sha256"]).unlink()
    out = tmp_path / "opened.txt"
    ok(home, "get", "PL-7", "--as", "HOLLANDHOME", "--out", str(out))
    assert out.read_bytes() == packing.read_bytes()


def test_clear_refusals_that_send_nothing_or_change_nothing(home: Home, tmp_path: Path) -> None:
    paper = tmp_path / "invoice.pdf"
    paper.write_bytes(b"%PDF-1.7 invoice")

    def put(file: Path, *more: str) -> str:
        return refused(home, "put", str(file), "--as", "BRIGHTWAVE", "--to", "HOLLANDBANK", *more)

    output = put(paper, "--type", "love_letter")
    assert "--type must be one of" in output and "commercial_invoice" in output
    big = tmp_path / "big.pdf"
    big.write_bytes(b"%PDF" + b"x" * (32 * 1024))
    output = put(big, "--type", "commercial_invoice")
    assert "32 KiB" in output and str(32 * 1024 + 4) in output
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    assert "32 KiB" in put(empty, "--type", "commercial_invoice")
    program = tmp_path / "invoice.exe"
    program.write_bytes(b"MZ")
    assert "--media-type" in put(program, "--type", "other")
    assert "NOBODY is not an active member" in put(
        paper, "--type", "commercial_invoice", "--to", "NOBODY"
    )
    assert "MERIDIAN/nobody" in refused(
        home, "put", str(paper), "--as", "MERIDIAN/nobody", "--type", "other", "--to", "HOLLANDBANK"
    )
    # None of those reached the ledger.
    assert ok(home, "anchored", str(paper))["anchored"] is False
    assert not home.blobs_dir.exists() or not list(home.blobs_dir.iterdir())

    ok(
        home,
        "put",
        str(paper),
        "--type",
        "commercial_invoice",
        "--to",
        "HOLLANDBANK",
        "--as",
        "BRIGHTWAVE",
        "--id",
        "INV-9",
    )
    # A grantee is not the issuer: the ledger refuses its grant, revoke and supersede.
    for action in (
        ("grant", "INV-9", "NL-CUSTOMS"),
        ("revoke", "INV-9", "BRIGHTWAVE"),
        ("supersede", "INV-9", "INV-9"),
    ):
        result = invoke(home, *action, "--as", "HOLLANDBANK")
        assert result.exit_code == 1, result.output
        failed = json.loads(result.stdout)
        assert failed["status"] == "failed" and failed["error"]["codespace"] == "documents"
    assert "not found, or MERIDIAN holds no key" in refused(
        home, "grant", "INV-9", "NL-CUSTOMS", "--as", "MERIDIAN"
    )
    grants = ok(home, "show", "--as", "BRIGHTWAVE", "INV-9")["grants"]
    assert [(g["org"], g["revoked_ms"]) for g in grants] == [("BRIGHTWAVE", 0), ("HOLLANDBANK", 0)]
    assert ok(home, "anchored", str(paper))["superseded_by"] is None

    # A home without the organisation's private encryption key, or with another one.
    secret = home.keys_dir / "HOLLANDBANK" / "encryption.json"
    kept = secret.read_text()
    secret.unlink()
    out = tmp_path / "opened.pdf"
    output = refused(home, "get", "INV-9", "--as", "HOLLANDBANK", "--out", str(out))
    assert "no encryption key of HOLLANDBANK" in output
    secret.write_text(json.dumps({"secret": "11" * 32}))
    output = refused(home, "get", "INV-9", "--as", "HOLLANDBANK", "--out", str(out))
    assert "encryption key of HOLLANDBANK" in output and "does not open INV-9" in output
    assert not out.exists()
    secret.write_text(kept)
    ok(home, "get", "INV-9", "--as", "HOLLANDBANK", "--out", str(out))
    assert out.read_bytes() == paper.read_bytes()


def test_the_cli_and_the_sdk_share_one_running_nodes_documents(home: Home, tmp_path: Path) -> None:
    """A document put with the CLI is opened, revoked and superseded with the SDK; the CLI
    sees what the SDK did, and the SDK refuses an oversized file before sending anything."""
    from portchain.sdk import Client, ClientError, documents

    certificate = tmp_path / "origin.json"
    certificate.write_bytes(b'{"origin": "CN", "hs": "940542"}')
    ok(
        home,
        "put",
        str(certificate),
        "--type",
        "certificate_of_origin",
        "--to",
        "HOLLANDBANK",
        "--as",
        "BRIGHTWAVE",
        "--id",
        "COO-1",
    )
    url = json.loads(home.api_file.read_text())["url"]
    exporter = home.load_key("BRIGHTWAVE").key
    with Client(url, key=home.load_key("HOLLANDBANK").key) as bank:
        opened = documents.fetch(bank, "COO-1", home.load_encryption_key("HOLLANDBANK"))
        assert opened == certificate.read_bytes()
    with Client(url, key=exporter) as client:
        newer = b'{"origin": "CN", "hs": "940542", "amended": true}'
        put = documents.put(
            client,
            exporter,
            "COO-2",
            "certificate_of_origin",
            "application/json",
            newer,
            issuer="BRIGHTWAVE",
            to=["HOLLANDBANK"],
        )
        assert put["status"] == "committed"
        assert documents.supersede(client, exporter, "COO-1", "COO-2")["status"] == "committed"
        assert documents.revoke(client, exporter, "COO-1", "HOLLANDBANK")["status"] == "committed"
        again = documents.supersede(client, exporter, "COO-1", "COO-2")
        assert again["status"] == "failed" and "superseded by COO-2" in again["error"]["message"]
        with pytest.raises(ClientError, match="32 KiB"):
            documents.put(
                client,
                exporter,
                "BIG",
                "other",
                "application/pdf",
                b"x" * (32 * 1024 + 1),
                issuer="BRIGHTWAVE",
                to=[],
            )
        assert documents.anchored(client, b"x" * (32 * 1024 + 1)) is None
    with Client(url, key=home.load_key("HOLLANDBANK").key) as bank, pytest.raises(ClientError):
        documents.fetch(bank, "COO-1", home.load_encryption_key("HOLLANDBANK"))
    assert ok(home, "anchored", str(certificate))["superseded_by"] == "COO-2"
    assert "not granted to HOLLANDBANK" in refused(
        home, "get", "COO-1", "--as", "HOLLANDBANK", "--out", str(tmp_path / "x")
    )
