"""Engines drive the app: solo (embedded, one process) and cometbft (ABCI for a network).

Both offer the node the same small surface, :class:`Engine`, so the API, the
CLI and the SDK do not know which one runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from portchain.app.execute import BlockResult
    from portchain.kernel.errors import PortchainError
    from portchain.kernel.tx import SignedTx

CommitListener = Callable[["BlockResult"], None]


class Engine(Protocol):
    """What a node needs from its consensus engine."""

    name: str

    def submit_many(self, raws: list[bytes]) -> list[SignedTx | PortchainError]:
        """Check ``raws`` and admit each, in order, for a coming block; each is admitted
        (the decoded transaction) or refused (the error) on its own."""
        ...

    def is_pending(self, tx_hash: bytes) -> bool: ...

    @property
    def mempool_size(self) -> int: ...

    def on_commit(self, listener: CommitListener) -> None:
        """Call ``listener`` with each block's result once the block is durable."""
        ...

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def close(self) -> None:
        """Stop for good, releasing what :meth:`start` cannot bring back (worker processes)."""
        ...

    @property
    def running(self) -> bool: ...

    @property
    def failure(self) -> BaseException | None: ...
