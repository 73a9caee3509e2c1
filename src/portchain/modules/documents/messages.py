"""The documents module's messages, validated statelessly.

The ciphertext travels in the transaction (base64), so every node holds it; a document is
at most :data:`MAX_DOCUMENT_BYTES` so that its transaction fits ``MAX_TX_BYTES``.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from portchain.kernel.errors import InvalidError
from portchain.kernel.fields import Hex32, OrgId
from portchain.kernel.module import Message

MAX_DOCUMENT_BYTES = 32 * 1024
"""Largest plaintext (32 KiB): its ciphertext in base64 stays well inside a 64 KiB transaction."""

MAX_GRANTS = 20

DocType = Literal[
    "commercial_invoice",
    "packing_list",
    "certificate_of_origin",
    "insurance_certificate",
    "inspection_report",
    "other",
]
MediaType = Literal[
    "application/pdf",
    "application/json",
    "application/xml",
    "text/plain",
    "image/png",
    "image/jpeg",
]
DocId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
SealedKey = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{160}$")]
"""A 32-byte content key sealed to an X25519 key: 80 bytes as hex."""


class Anchor(Message):
    """The issuer anchors an encrypted document and grants it to organisations."""

    doc_id: DocId
    doc_type: DocType
    media_type: MediaType
    plaintext_sha256: Hex32
    """SHA-256 of the document itself: anyone holding the file can ask about it."""
    ciphertext: Annotated[str, StringConstraints(min_length=1, max_length=48_000)]
    """The encrypted bytes, base64."""
    ciphertext_sha256: Hex32
    size: Annotated[int, Field(ge=1, le=MAX_DOCUMENT_BYTES)]
    grants: Annotated[dict[OrgId, SealedKey], Field(min_length=1, max_length=MAX_GRANTS)]

    def ciphertext_bytes(self) -> bytes:
        return base64.b64decode(self.ciphertext, validate=True)

    def check(self) -> None:
        try:
            raw = self.ciphertext_bytes()
        except (binascii.Error, ValueError):
            raise InvalidError("must be base64", field="body.ciphertext") from None
        if len(raw) != self.size + 40:
            raise InvalidError(
                "must be the size plus 40 bytes (nonce and tag)", field="body.ciphertext"
            )


class Grant(Message):
    """The issuer grants the document to one more organisation (a new sealed key)."""

    doc_id: DocId
    org: OrgId
    sealed_key: SealedKey


class RevokeGrant(Message):
    """The issuer stops an organisation's access from now on."""

    doc_id: DocId
    org: OrgId


class Supersede(Message):
    """The issuer marks a document as replaced by a newer one it anchored."""

    doc_id: DocId
    by: DocId
