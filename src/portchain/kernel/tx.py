"""The transaction envelope: who signs what, for which chain, in which order.

On the wire a transaction is the canonical JSON (RFC 8785) of::

    {"sig": "<128 hex: Ed25519 signature>",
     "tx":  {"action": "module.verb", "body": {...}, "chain_id": "...",
             "seq": <signer's next sequence number>, "signer": "<key id>"}}

The signature covers ``TX_DOMAIN || canonical(tx)``. Because the wire form must
itself be canonical there is exactly one byte string per signed transaction, and
its id, SHA-256 of those bytes, is stable: resubmitting the same transaction is
recognised, never executed twice (DESIGN.md invariants 5 and 9).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from portchain.kernel import codec
from portchain.kernel.crypto import KEY_ID_HEX_LEN, TX_DOMAIN, SigningKey
from portchain.kernel.errors import DecodeError, InvalidError

MAX_TX_BYTES = 64 * 1024
"""Largest encoded transaction accepted, in bytes. Documents travel by hash, not inline."""

ACTION_RE = re.compile(r"[a-z][a-z0-9_]{0,31}\.[a-z][a-z0-9_]{0,47}")
CHAIN_ID_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,47}")
_SIG_RE = re.compile(r"[0-9a-f]{128}")
KEY_ID_RE = re.compile(rf"[0-9a-f]{{{KEY_ID_HEX_LEN}}}")
_SIG_PREFIX = b'{"sig":"'
_TX_OFFSET = len(_SIG_PREFIX) + 128 + len(b'","tx":')


@dataclass(frozen=True, slots=True)
class Tx:
    """The signed content of a transaction."""

    chain_id: str
    signer: str
    seq: int
    action: str
    body: dict[str, Any]

    @property
    def module(self) -> str:
        return self.action.split(".", 1)[0]

    def as_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "body": self.body,
            "chain_id": self.chain_id,
            "seq": self.seq,
            "signer": self.signer,
        }

    def sign_bytes(self) -> bytes:
        return codec.canonical(self.as_dict())

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled by the checker processes for every transaction: by position, not field by
        # field through dataclasses.fields (which a frozen, slotted dataclass does otherwise).
        return (Tx, (self.chain_id, self.signer, self.seq, self.action, self.body))


@dataclass(frozen=True, slots=True)
class SignedTx:
    """A decoded transaction with its wire bytes, id and the bytes its signature covers."""

    tx: Tx
    signature: bytes
    raw: bytes
    hash: bytes
    sign_bytes: bytes

    @property
    def hash_hex(self) -> str:
        return self.hash.hex()

    def __reduce__(self) -> tuple[Any, ...]:
        return (SignedTx, (self.tx, self.signature, self.raw, self.hash, self.sign_bytes))


def sign(tx: Tx, key: SigningKey) -> bytes:
    """Sign ``tx`` with ``key`` and return its wire bytes."""
    sig = key.sign(TX_DOMAIN, tx.sign_bytes())
    return codec.canonical({"sig": sig.hex(), "tx": tx.as_dict()})


def tx_hash(raw: bytes) -> bytes:
    """The id of a signed transaction: SHA-256 of its wire bytes."""
    return codec.sha256(raw)


def _field(obj: dict[str, Any], name: str, kind: type, path: str) -> Any:
    if name not in obj:
        raise DecodeError("is required", field=f"{path}{name}")
    value = obj[name]
    if type(value) is not kind:
        raise DecodeError(f"must be a {kind.__name__}", field=f"{path}{name}")
    return value


def decode_tx(raw: bytes) -> SignedTx:
    """Decode and check the shape of a signed transaction, statelessly.

    Raises :class:`TooLargeError` over :data:`MAX_TX_BYTES`, :class:`DecodeError`
    for non-canonical bytes or missing fields and :class:`InvalidError` for a
    malformed action, chain id, key id or sequence. The signature itself is
    checked against the signer's registered key by the app.
    """
    doc = codec.decode_canonical(raw, max_bytes=MAX_TX_BYTES, what="transaction")
    if type(doc) is not dict or set(doc) != {"sig", "tx"}:
        raise DecodeError("a transaction is an object with exactly 'sig' and 'tx'")
    sig_hex = _field(doc, "sig", str, "")
    if not _SIG_RE.fullmatch(sig_hex):
        raise DecodeError("must be 128 lowercase hex digits (an Ed25519 signature)", field="sig")
    body = _field(doc, "tx", dict, "")
    extra = set(body) - {"action", "body", "chain_id", "seq", "signer"}
    if extra:
        raise DecodeError(f"unknown field {sorted(extra)[0]!r}", field="tx")
    action = _field(body, "action", str, "tx.")
    chain_id = _field(body, "chain_id", str, "tx.")
    seq = _field(body, "seq", int, "tx.")
    signer = _field(body, "signer", str, "tx.")
    msg = _field(body, "body", dict, "tx.")
    if not ACTION_RE.fullmatch(action):
        raise InvalidError("must look like module.verb (lowercase)", field="tx.action")
    if not CHAIN_ID_RE.fullmatch(chain_id):
        raise InvalidError("must be 1-48 of a-z, 0-9, '-', '_'", field="tx.chain_id")
    if not KEY_ID_RE.fullmatch(signer):
        raise InvalidError("must be a 40-hex-digit key id", field="tx.signer")
    if seq < 0:
        raise InvalidError("must not be negative", field="tx.seq")
    # The wire form is canonical, so the signed bytes are the slice after "tx":.
    sign_bytes = raw[_TX_OFFSET:-1]
    return SignedTx(
        tx=Tx(chain_id=chain_id, signer=signer, seq=seq, action=action, body=msg),
        signature=bytes.fromhex(sig_hex),
        raw=raw,
        hash=codec.sha256(raw),
        sign_bytes=sign_bytes,
    )
