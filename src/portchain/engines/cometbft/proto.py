"""The generated ABCI message classes, made on first use.

Importing this module is cheap; the first access to ``abci`` (or a ``load_*`` call) generates
the bindings if they are missing (see ``toolchain.ensure_bindings``) and imports them. Code
that only needs the names for type hints imports the generated module under ``TYPE_CHECKING``.

    from portchain.engines.cometbft import proto
    request = proto.abci.RequestInfo(version="0.38.26")
"""

from __future__ import annotations

import importlib
from types import ModuleType

from portchain.engines.cometbft.toolchain import PROTO_PACKAGE, ensure_bindings

_MODULES = {
    "abci": "tendermint.abci.types_pb2",
    "crypto_keys": "tendermint.crypto.keys_pb2",
    "crypto_proof": "tendermint.crypto.proof_pb2",
    "types_params": "tendermint.types.params_pb2",
    "types_validator": "tendermint.types.validator_pb2",
}
"""Short names for the generated modules that an ABCI application touches."""


def load(name: str) -> ModuleType:
    """Import one generated module by short name (``abci``, ``crypto_keys``, ...)."""
    try:
        relative = _MODULES[name]
    except KeyError:
        raise AttributeError(f"no generated module called {name!r}; known: {sorted(_MODULES)}") from None
    ensure_bindings()
    return importlib.import_module(f"{PROTO_PACKAGE}.{relative}")


def load_abci() -> ModuleType:
    """The ``tendermint.abci`` module: ``Request``, ``Response`` and every ``Request*``/``Response*``."""
    return load("abci")


def __getattr__(name: str) -> ModuleType:
    """Module attributes ``abci``, ``crypto_keys``, ... resolve lazily to the generated modules."""
    if name.startswith("__"):
        raise AttributeError(name)
    return load(name)
