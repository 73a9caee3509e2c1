"""Encrypting a document for the organisations that may read it (client side only).

A document gets a fresh 32-byte content key; its bytes are encrypted with it
(XSalsa20-Poly1305, ``nacl.secret.SecretBox``, random nonce), and the content key is sealed
to each granted organisation's X25519 encryption key (``nacl.public.SealedBox``: an
ephemeral key pair per seal, so a seal shows nothing of who else holds one). Handlers never
encrypt: they only check hashes, so execution stays deterministic. The ciphertext alone
reveals its length (the plaintext's plus 40 bytes of nonce and tag) and nothing else.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import nacl.public
import nacl.secret
import nacl.utils

from portchain.kernel.crypto import EncryptionKey

OVERHEAD = nacl.secret.SecretBox.NONCE_SIZE + nacl.secret.SecretBox.MACBYTES
"""Bytes the ciphertext adds to the plaintext (24-byte nonce, 16-byte tag)."""


def seal_document(plaintext: bytes, recipients: dict[str, bytes]) -> tuple[bytes, dict[str, str]]:
    """The ciphertext and, per organisation, the content key sealed to its public key (hex)."""
    content_key = nacl.utils.random(nacl.secret.SecretBox.KEY_SIZE)
    ciphertext = bytes(nacl.secret.SecretBox(content_key).encrypt(plaintext))
    return ciphertext, {org: seal_key(content_key, public) for org, public in recipients.items()}


def anchor_body(
    doc_id: str, doc_type: str, media_type: str, plaintext: bytes, recipients: dict[str, bytes]
) -> dict[str, Any]:
    """The body of a ``documents.anchor`` transaction: ``plaintext`` sealed to ``recipients``
    (organisation -> public encryption key), with its hashes, size and one key per grantee."""
    ciphertext, sealed = seal_document(plaintext, recipients)
    return {
        "doc_id": doc_id,
        "doc_type": doc_type,
        "media_type": media_type,
        "plaintext_sha256": sha256_hex(plaintext),
        "ciphertext": base64.b64encode(ciphertext).decode(),
        "ciphertext_sha256": sha256_hex(ciphertext),
        "size": len(plaintext),
        "grants": sealed,
    }


def seal_key(content_key: bytes, public_key: bytes) -> str:
    return bytes(
        nacl.public.SealedBox(nacl.public.PublicKey(public_key)).encrypt(content_key)
    ).hex()


def open_key(sealed_key: str, private: EncryptionKey) -> bytes:
    """The content key from a seal made for ``private``'s organisation (CryptoError if not)."""
    box = nacl.public.SealedBox(nacl.public.PrivateKey(private.secret))
    return bytes(box.decrypt(bytes.fromhex(sealed_key)))


def open_document(ciphertext: bytes, sealed_key: str, private: EncryptionKey) -> bytes:
    """The plaintext, for the holder of the organisation's private encryption key."""
    return bytes(nacl.secret.SecretBox(open_key(sealed_key, private)).decrypt(ciphertext))


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
