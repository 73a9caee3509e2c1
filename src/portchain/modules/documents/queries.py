"""Read-only views of documents, as a viewer may see them."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from portchain.kernel.access import Viewer
from portchain.kernel.module import QueryReader
from portchain.modules.documents import store
from portchain.modules.documents.messages import Anchor


def document(reader: QueryReader, viewer: Viewer, doc_id: str) -> dict[str, Any] | None:
    """The record without other organisations' sealed keys (each sees its own)."""
    found = store.get_document(reader, doc_id)
    if found is None or not viewer.may_read(found.audience):
        return None
    data = asdict(found)
    mine = next((g for g in found.grants if g.org == viewer.org and not g.revoked_ms), None)
    data["grants"] = [
        {"org": g.org, "granted_ms": g.granted_ms, "revoked_ms": g.revoked_ms} for g in found.grants
    ]
    data["sealed_key"] = mine.sealed_key if mine else None
    return data


def anchored(reader: QueryReader, plaintext_sha256: str) -> dict[str, Any] | None:
    """Whether a file with this SHA-256 is anchored: by whom, when, and whether superseded."""
    raw = reader.get(store.ANCHOR + plaintext_sha256)
    if raw is None:
        return None
    found = store.get_document(reader, raw.decode())
    if found is None:
        return None
    return {
        "sha256": plaintext_sha256,
        "document": found.id,
        "issuer": found.issuer,
        "doc_type": found.doc_type,
        "anchored_ms": found.anchored_ms,
        "superseded_by": found.superseded_by or None,
    }


def ciphertext(reader: Any, viewer: Viewer, doc_id: str) -> bytes | None:
    """The ciphertext, from the anchoring transaction every node holds."""
    found = store.get_document(reader, doc_id)
    if found is None or not viewer.may_read(found.audience):
        return None
    stored = reader.tx(bytes.fromhex(found.tx))
    if stored is None:
        return None
    body = json.loads(stored.raw)["tx"]["body"]
    return Anchor.model_validate(body).ciphertext_bytes()
