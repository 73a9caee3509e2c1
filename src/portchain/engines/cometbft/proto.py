"""The generated ABCI message classes, made on first use.

Importing this module is cheap; the first access to ``abci`` (or a ``load`` call) generates
the bindings if they are missing (see ``toolchain.ensure_bindings``) and imports them. Type
checkers see the generated modules directly, so ``proto.abci.ResponseInfo(...)`` is typed
(the bindings must have been generated before running mypy).

    from portchain.engines.cometbft import proto
    request = proto.abci.RequestInfo(version="0.38.26")
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING

from portchain.engines.cometbft.toolchain import PROTO_PACKAGE, ensure_bindings

if TYPE_CHECKING:
    from portchain.engines.cometbft._proto.tendermint.abci import types_pb2 as abci
    from portchain.engines.cometbft._proto.tendermint.crypto import keys_pb2 as crypto_keys
    from portchain.engines.cometbft._proto.tendermint.crypto import proof_pb2 as crypto_proof
    from portchain.engines.cometbft._proto.tendermint.types import canonical_pb2 as types_canonical
    from portchain.engines.cometbft._proto.tendermint.types import params_pb2 as types_params
    from portchain.engines.cometbft._proto.tendermint.types import types_pb2 as types_types
    from portchain.engines.cometbft._proto.tendermint.types import validator_pb2 as types_validator
    from portchain.engines.cometbft._proto.tendermint.version import types_pb2 as version

__all__ = [
    "abci",
    "crypto_keys",
    "crypto_proof",
    "load",
    "types_canonical",
    "types_params",
    "types_types",
    "types_validator",
    "version",
]

_MODULES = {
    "abci": "tendermint.abci.types_pb2",
    "crypto_keys": "tendermint.crypto.keys_pb2",
    "crypto_proof": "tendermint.crypto.proof_pb2",
    "types_params": "tendermint.types.params_pb2",
    "types_validator": "tendermint.types.validator_pb2",
    "types_types": "tendermint.types.types_pb2",
    "types_canonical": "tendermint.types.canonical_pb2",
    "version": "tendermint.version.types_pb2",
}
"""Short names for the generated modules that an ABCI application (or the light client) touches."""


def load(name: str) -> ModuleType:
    """Import one generated module by short name (``abci``, ``crypto_keys``, ...).

    Raises:
        AttributeError: no such short name.
        toolchain.ToolchainError: the bindings were missing and could not be generated.
    """
    try:
        relative = _MODULES[name]
    except KeyError:
        raise AttributeError(
            f"no generated module called {name!r}; known: {sorted(_MODULES)}"
        ) from None
    ensure_bindings()
    module = importlib.import_module(f"{PROTO_PACKAGE}.{relative}")
    globals()[name] = module  # later accesses skip this function and its stamp check
    return module


def __getattr__(name: str) -> ModuleType:
    """Resolve ``abci``, ``crypto_keys``, ... to the generated modules on first access."""
    if name.startswith("__"):
        raise AttributeError(name)
    return load(name)
