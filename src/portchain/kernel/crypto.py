"""Ed25519 signing keys, key ids and domain-separated signatures (libsodium via PyNaCl).

Every signature portchain makes is over ``DOMAIN || message`` where ``DOMAIN``
names what is signed (a transaction, a block commit, a sign-in challenge).
A signature made for one purpose can therefore never be replayed as another.

A key id is the first 20 bytes of SHA-256 of the 32-byte public key, written as
40 lowercase hex digits: short enough to read, long enough never to collide.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import nacl.exceptions
import nacl.public
import nacl.signing

from portchain.kernel.codec import sha256

TX_DOMAIN = b"portchain/tx/v1\x00"
"""Prefix of the bytes signed for a transaction."""

COMMIT_DOMAIN = b"portchain/commit/v1\x00"
"""Prefix of the bytes a validator signs to commit a block (solo engine)."""

AUTH_DOMAIN = b"portchain/auth/v1\x00"
"""Prefix of a sign-in: a user key signs ``AUTH_DOMAIN || chain_id || 0x00 || challenge``."""


def auth_message(chain_id: str, challenge: str) -> bytes:
    """What a key signs (after :data:`AUTH_DOMAIN`) to answer a node's sign-in ``challenge``."""
    return chain_id.encode() + b"\x00" + challenge.encode()


PUBLIC_KEY_BYTES = 32
SIGNATURE_BYTES = 64
KEY_ID_HEX_LEN = 40


def key_id(public_key: bytes) -> str:
    """The key id of an Ed25519 public key: 40 hex digits of its SHA-256."""
    return sha256(public_key)[:20].hex()


def verify(public_key: bytes, domain: bytes, message: bytes, signature: bytes) -> bool:
    """True when ``signature`` is ``public_key``'s signature of ``domain || message``.

    Never raises for bad input: a malformed key or signature simply does not verify.
    libsodium releases the GIL while it works, so threads verify in parallel.
    """
    if len(public_key) != PUBLIC_KEY_BYTES or len(signature) != SIGNATURE_BYTES:
        return False
    try:
        nacl.signing.VerifyKey(public_key).verify(domain + message, signature)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, ValueError):
        return False
    return True


@dataclass(frozen=True)
class SigningKey:
    """An Ed25519 private key with its public half and key id."""

    seed: bytes
    # libsodium's expanded key, derived once: deriving it (a scalar multiplication) costs
    # about as much as a signature, and a client signs many transactions with one key.
    _nacl: nacl.signing.SigningKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_nacl", nacl.signing.SigningKey(self.seed))

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(bytes(nacl.signing.SigningKey.generate()))

    @classmethod
    def from_seed(cls, seed: bytes) -> SigningKey:
        if len(seed) != 32:
            raise ValueError("an Ed25519 seed is 32 bytes")
        return cls(seed)

    @property
    def public_key(self) -> bytes:
        return bytes(self._nacl.verify_key)

    @property
    def key_id(self) -> str:
        return key_id(self.public_key)

    def sign(self, domain: bytes, message: bytes) -> bytes:
        """Signature of ``domain || message`` (64 bytes)."""
        return self._nacl.sign(domain + message).signature

    def __repr__(self) -> str:  # never print the seed
        return f"SigningKey(key_id={self.key_id})"


@dataclass(frozen=True)
class EncryptionKey:
    """An X25519 key pair used to seal document keys to an organisation."""

    secret: bytes

    @classmethod
    def generate(cls) -> EncryptionKey:
        return cls(bytes(nacl.public.PrivateKey.generate()))

    @property
    def public_key(self) -> bytes:
        return bytes(nacl.public.PrivateKey(self.secret).public_key)

    def __repr__(self) -> str:
        return "EncryptionKey(...)"
