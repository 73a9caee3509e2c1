"""Sharing trade documents through a node, on the client's side of the encryption.

    from portchain.sdk import Client, documents
    with Client(url, key=signing_key) as node:
        documents.put(node, signing_key, "INV-42", "commercial_invoice", "application/pdf",
                      pdf_bytes, issuer="BRIGHTWAVE", to=["HOLLANDBANK"])
        pdf = documents.fetch(node, "INV-42", my_encryption_key)

``grant`` (later, to one more organisation), ``revoke``, ``supersede`` and ``anchored`` (is
this file anchored, from its hash alone) complete it. The document is encrypted here, under a
fresh key sealed to the issuer and to each organisation granted it (their encryption keys as
the ledger publishes them); the node never sees the plaintext or a key that opens it.
"""

from __future__ import annotations

import hashlib
from typing import Any

from portchain.kernel.crypto import EncryptionKey, SigningKey
from portchain.modules.documents.messages import MAX_DOCUMENT_BYTES
from portchain.modules.documents.sealing import anchor_body, open_document, open_key, seal_key
from portchain.sdk.client import Client
from portchain.sdk.errors import ClientError


def encryption_key(client: Client, org: str) -> bytes:
    """``org``'s public encryption key, from its membership record on the ledger."""
    record = client.get(f"/api/v1/membership/organisations/{org}")
    return bytes.fromhex(record["encryption_key"])


def put(
    client: Client,
    key: SigningKey,
    doc_id: str,
    doc_type: str,
    media_type: str,
    data: bytes,
    *,
    issuer: str,
    to: list[str],
) -> dict[str, Any]:
    """Encrypt ``data``, seal its key to ``issuer`` and each of ``to``, and anchor it."""
    if not 0 < len(data) <= MAX_DOCUMENT_BYTES:
        raise ClientError(
            f"{doc_id} is {len(data)} bytes; a document is 1 byte to "
            f"{MAX_DOCUMENT_BYTES // 1024} KiB"
        )
    recipients = {org: encryption_key(client, org) for org in dict.fromkeys([issuer, *to])}
    body = anchor_body(doc_id, doc_type, media_type, data, recipients)
    return client.send(key, "documents.anchor", body)


def fetch(client: Client, doc_id: str, private: EncryptionKey) -> bytes:
    """The document, opened with the caller organisation's private encryption key and checked
    against the hash anchored on the ledger."""
    record = client.get(f"/api/v1/documents/{doc_id}")
    if record.get("sealed_key") is None:
        raise ClientError(f"no key to {doc_id} is sealed to this organisation")
    ciphertext = client.get_bytes(f"/api/v1/documents/{doc_id}/content")
    data = open_document(ciphertext, record["sealed_key"], private)
    if hashlib.sha256(data).hexdigest() != record["plaintext_sha256"]:
        raise ClientError(f"{doc_id} does not match the hash anchored on the ledger")
    return data


def grant(
    client: Client, key: SigningKey, doc_id: str, org: str, private: EncryptionKey
) -> dict[str, Any]:
    """As the issuer, seal the document's key (opened from the issuer's own seal) to ``org``."""
    record = client.get(f"/api/v1/documents/{doc_id}")
    if record.get("sealed_key") is None:
        raise ClientError(f"no key to {doc_id} is sealed to this organisation")
    content_key = open_key(record["sealed_key"], private)
    sealed = seal_key(content_key, encryption_key(client, org))
    return client.send(key, "documents.grant", {"doc_id": doc_id, "org": org, "sealed_key": sealed})


def revoke(client: Client, key: SigningKey, doc_id: str, org: str) -> dict[str, Any]:
    """As the issuer, stop ``org``'s grant: from now on the node serves it nothing of the
    document (what it fetched before, it keeps)."""
    return client.send(key, "documents.revoke_grant", {"doc_id": doc_id, "org": org})


def supersede(client: Client, key: SigningKey, doc_id: str, by: str) -> dict[str, Any]:
    """As the issuer of both, mark ``doc_id`` superseded by the newer document ``by``."""
    return client.send(key, "documents.supersede", {"doc_id": doc_id, "by": by})


def anchored(client: Client, data: bytes) -> dict[str, Any] | None:
    """Whether a file is anchored (from its hash): by whom, when, superseded; None if not."""
    from portchain.sdk.errors import NodeError

    try:
        found: dict[str, Any] = client.get(
            f"/api/v1/documents/anchors/{hashlib.sha256(data).hexdigest()}"
        )
        return found
    except NodeError as exc:
        if exc.status == 404:
            return None
        raise
