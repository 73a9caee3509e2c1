"""The one error tree of portchain.

Every refusal the ledger can give is a :class:`PortchainError` with a stable
``(codespace, code)`` pair, a readable message and, where one input is to blame,
the ``field`` it names. Codes never change meaning once released: clients,
the portal and other nodes match on them.

::

    PortchainError                    (codespace, code) stable across releases
    ├── TxError                       codespace "tx": the envelope and its checks
    │     1 decode        malformed bytes or JSON, non-canonical encoding
    │     2 too_large     a transaction, field or list over its limit
    │     3 chain_id      signed for another chain
    │     4 signature     the signature does not verify
    │     5 unknown_key   the signer key is not registered or not active
    │     6 sequence      replayed or skipped sequence number
    │     7 unknown_action no module handles that action
    │     8 unauthorized  the signer may not perform that action
    │     9 invalid       a message field breaks a stateless rule
    │    10 mempool_full  the node refuses new work until blocks drain it
    │    11 duplicate     that exact transaction is already pending
    └── ModuleError                   codespace = the module's name, codes per module
          e.g. membership 1 org_not_found, 2 org_exists ... (see each module's errors.py)

A module declares its errors once, with :func:`register`, which refuses to
reuse a code, so two errors can never share a number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


class PortchainError(Exception):
    """A refusal with a stable code, a message and optionally the field at fault."""

    codespace: ClassVar[str] = "portchain"
    code: ClassVar[int] = 1
    name: ClassVar[str] = "error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.message = message
        self.field = field
        super().__init__(self.describe())

    def describe(self) -> str:
        if self.field:
            return f"{self.field}: {self.message}"
        return self.message

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "codespace": self.codespace,
            "code": self.code,
            "error": self.name,
            "message": self.describe(),
        }
        if self.field:
            out["field"] = self.field
        return out


@dataclass(frozen=True)
class ErrorInfo:
    """The registered identity of one error class."""

    codespace: str
    code: int
    name: str
    description: str


_REGISTRY: dict[tuple[str, int], ErrorInfo] = {}
_CLASSES: dict[tuple[str, int], type[PortchainError]] = {}


def register(
    base: type[PortchainError], codespace: str, code: int, name: str, description: str
) -> type[PortchainError]:
    """Create and register an error class with a stable ``(codespace, code)``.

    Raises ``ValueError`` if the pair is already taken: codes are never reused.
    """
    key = (codespace, code)
    if key in _REGISTRY:
        raise ValueError(f"error code {codespace}/{code} is already registered")
    if code < 1:
        raise ValueError("error codes start at 1; 0 means success")
    cls = type(
        "".join(part.capitalize() for part in name.split("_")) + "Error",
        (base,),
        {"codespace": codespace, "code": code, "name": name, "__doc__": description},
    )
    _REGISTRY[key] = ErrorInfo(codespace, code, name, description)
    _CLASSES[key] = cls
    return cls


def registered_errors() -> list[ErrorInfo]:
    """Every error the ledger can return, sorted by codespace and code (for docs and APIs)."""
    return [_REGISTRY[key] for key in sorted(_REGISTRY)]


def rebuild(codespace: str, code: int, message: str, field: str | None) -> PortchainError:
    """The error ``(codespace, code)`` with ``message``: a refusal crossing processes."""
    cls = _CLASSES.get((codespace, code))
    if cls is None:
        error = PortchainError(message, field=field)
        error.codespace, error.code = codespace, code  # type: ignore[misc]
        return error
    return cls(message, field=field)


class TxError(PortchainError):
    """A refusal of the transaction envelope, before or around the module's handler."""

    codespace = "tx"


class ModuleError(PortchainError):
    """A refusal by a module's handler; each module registers its own codespace."""


DecodeError = register(TxError, "tx", 1, "decode", "malformed or non-canonical encoding")
TooLargeError = register(TxError, "tx", 2, "too_large", "a size limit is exceeded")
ChainIdError = register(TxError, "tx", 3, "chain_id", "signed for another chain")
SignatureError = register(TxError, "tx", 4, "signature", "the signature does not verify")
UnknownKeyError = register(TxError, "tx", 5, "unknown_key", "signer key not registered or active")
SequenceError = register(TxError, "tx", 6, "sequence", "replayed or skipped sequence number")
UnknownActionError = register(TxError, "tx", 7, "unknown_action", "no module handles the action")
UnauthorizedError = register(TxError, "tx", 8, "unauthorized", "the signer may not do this")
InvalidError = register(TxError, "tx", 9, "invalid", "a message field breaks a rule")
MempoolFullError = register(TxError, "tx", 10, "mempool_full", "the mempool is full")
DuplicateError = register(TxError, "tx", 11, "duplicate", "the transaction is already pending")
InternalError = register(
    TxError, "tx", 12, "internal", "the handler failed unexpectedly; nothing was written"
)
