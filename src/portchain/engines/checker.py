"""Signature checks on the other core: a worker process that decodes and verifies transactions.

Python runs one thread at a time, so a node that verified signatures in the
same process as it executes blocks would leave the second core of a
two-core machine mostly idle. The worker takes the stateless, expensive part
of admitting a transaction (decoding it and verifying its Ed25519 signature
against the signer's public key, read from the committed state in the same
SQLite file) and hands back the decoded transaction. The node then does the
rest of the check (key still active, roles, sequence) under its own lock, as
before. A public key never changes for a given key id (the id is its hash),
so the worker may cache them for good.

A transaction whose signer the worker does not know yet (an application to
join signs with a key it registers, or a key registered a moment ago) comes
back undecided and the node checks it fully itself.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from portchain.kernel.crypto import TX_DOMAIN, verify
from portchain.kernel.errors import PortchainError, SignatureError, rebuild
from portchain.kernel.tx import SignedTx, decode_tx

Verdict = tuple[str, Any]
"""("verified" | "unverified", SignedTx) or ("refused", (codespace, code, message, field))."""

_state: dict[str, Any] = {}


def _init(db_path: str) -> None:
    from portchain.app.app import default_directory
    from portchain.storage.sqlite import open_reader

    _state["reader"] = open_reader(Path(db_path))
    _state["directory"] = default_directory()
    _state["keys"] = {}


def _refusal(error: PortchainError) -> Verdict:
    return ("refused", (error.codespace, error.code, error.message, error.field))


def _check(raws: list[bytes]) -> list[Verdict]:
    keys: dict[str, bytes] = _state["keys"]
    out: list[Verdict] = []
    for raw in raws:
        try:
            stx = decode_tx(raw)
        except PortchainError as exc:
            out.append(_refusal(exc))
            continue
        public_key = keys.get(stx.tx.signer)
        if public_key is None:
            signer = _state["directory"].signer(_state["reader"], stx.tx.signer)
            if signer is None:
                out.append(("unverified", stx))
                continue
            public_key = keys[stx.tx.signer] = signer.public_key
        if verify(public_key, TX_DOMAIN, stx.sign_bytes, stx.signature):
            out.append(("verified", stx))
        else:
            out.append(
                _refusal(SignatureError("does not verify against the signer's key", field="sig"))
            )
    return out


class Checker:
    """A pool of signature-checking worker processes reading the node's database."""

    def __init__(self, db_path: Path, workers: int = 1) -> None:
        context = multiprocessing.get_context("spawn")  # never fork a process that runs threads
        self._pool = ProcessPoolExecutor(
            workers, mp_context=context, initializer=_init, initargs=(str(db_path),)
        )
        self._pool.submit(len, []).result()  # start the workers now, not on the first transaction

    def check(self, raws: list[bytes]) -> list[SignedTx | Unverified | PortchainError]:
        """Decode and verify ``raws``: a verified SignedTx, an Unverified one, or the refusal."""
        verdicts = self._pool.submit(_check, raws).result()
        return [_unpack(verdict) for verdict in verdicts]

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class Unverified:
    """A decoded transaction whose signature the worker could not check."""

    __slots__ = ("stx",)

    def __init__(self, stx: SignedTx) -> None:
        self.stx = stx


def _unpack(verdict: Verdict) -> Any:
    kind, payload = verdict
    if kind == "verified":
        return payload
    if kind == "unverified":
        return Unverified(payload)
    return rebuild(*payload)
