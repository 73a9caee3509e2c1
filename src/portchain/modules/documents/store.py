"""State keys and records of the documents module (every key under ``documents/``).

::

    documents/doc/<id>                 Document (the issuer and its grantees)
    documents/anchor/<plaintext sha>   the id of the first document anchoring these bytes
    documents/party/<org>/<id>         index: documents issued to or granted to an organisation
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from portchain.kernel import codec
from portchain.kernel.access import Audience, parties
from portchain.kernel.module import StateReader
from portchain.kernel.state import State

DOC = "documents/doc/"
ANCHOR = "documents/anchor/"
PARTY = "documents/party/"


@dataclass(frozen=True, slots=True)
class GrantRecord:
    org: str
    sealed_key: str
    granted_ms: int
    revoked_ms: int = 0


@dataclass(frozen=True, slots=True)
class Document:
    id: str
    issuer: str
    doc_type: str
    media_type: str
    size: int
    plaintext_sha256: str
    ciphertext_sha256: str
    tx: str
    """The anchoring transaction's hash: its body holds the ciphertext, on every node."""
    anchored_ms: int
    grants: tuple[GrantRecord, ...]
    superseded_by: str = ""

    @property
    def readers(self) -> tuple[str, ...]:
        return tuple(g.org for g in self.grants if not g.revoked_ms)

    @property
    def audience(self) -> Audience:
        return parties(self.issuer, *self.readers)

    def audience_orgs(self) -> tuple[str, ...]:
        return (self.issuer, *self.readers)


def get_document(reader: StateReader, doc_id: str) -> Document | None:
    raw = reader.get(DOC + doc_id)
    if raw is None:
        return None
    data = json.loads(raw)
    data["grants"] = tuple(GrantRecord(**g) for g in data["grants"])
    return Document(**data)


def put_document(state: State, document: Document) -> None:
    state.set_json(DOC + document.id, codec.plain(document))
    for org in (document.issuer, *document.readers):
        state.set(f"{PARTY}{org}/{document.id}", b"1")
