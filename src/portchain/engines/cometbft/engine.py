"""The engine of a node whose app CometBFT drives: the node's side of ``portchain.engines.Engine``.

In a CometBFT network the node does not cut blocks. It serves the ABCI adapter to its local
CometBFT node (on a thread of its own, so the API stays responsive while a block executes) and
hands submitted transactions to that node's mempool over RPC (``broadcast_tx_sync``), which
runs CheckTx, that is ``App.check_tx``, and gossips the transaction to the other validators.
A CheckTx refusal comes back as the very ``PortchainError`` the app raised (same class, code,
message and field), so the API answers a refused transaction the same on either engine.

Commit listeners are called by the adapter's Commit, once the block is durable in this node's
database; reads then come from the local app.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import itertools
import json
import logging
import threading
from collections.abc import Iterator
from typing import Any

import httpx

from portchain.app.app import App
from portchain.app.execute import BlockResult
from portchain.app.genesis import GenesisDoc
from portchain.engines import CommitListener
from portchain.engines.cometbft.abci_server import AbciServer
from portchain.engines.cometbft.adapter import PortchainApplication
from portchain.kernel.errors import MempoolFullError, ModuleError, PortchainError, TxError
from portchain.kernel.tx import SignedTx, decode_tx

log = logging.getLogger(__name__)

_ALREADY_KNOWN = ("tx already exists in cache",)
"""CometBFT's answer when the transaction is already in its mempool or cache: accepted before."""

_FULL = ("mempool is full",)
"""CometBFT's answer when its mempool has no room: retry later."""


class CometEngine:
    """Engine for a node process beside a CometBFT node.

    Args:
        app: the node's app (the adapter drives it on CometBFT's behalf).
        abci_address: where CometBFT's ``proxy_app`` dials, e.g. ``tcp://127.0.0.1:26658``.
        rpc_url: the local CometBFT node's RPC, e.g. ``http://127.0.0.1:26657``.
        genesis: the node's genesis; InitChain refuses another.
        crash_before_commit: see ``PortchainApplication`` (tests only).
    """

    name = "cometbft"

    def __init__(
        self,
        app: App,
        abci_address: str,
        rpc_url: str,
        *,
        genesis: GenesisDoc | None = None,
        crash_before_commit: int | None = None,
        rpc_timeout: float = 10.0,
    ) -> None:
        self.app = app
        # CometBFT's calls all come through one thread, the block thread's: checks can share
        # its cache of committed values instead of a per-thread reader emptied by each commit.
        app.check_reader = lambda: app.storage.writer
        self.abci_address = abci_address
        self.rpc_url = rpc_url
        self.adapter = PortchainApplication(
            app, genesis=genesis, on_commit=self._committed, crash_before_commit=crash_before_commit
        )
        self._http = httpx.Client(
            base_url=rpc_url, timeout=rpc_timeout, limits=httpx.Limits(max_connections=64)
        )
        self._pool = concurrent.futures.ThreadPoolExecutor(16, thread_name_prefix="broadcast")
        self._ids = itertools.count(1)
        self._listeners: list[CommitListener] = []
        self._pending: set[bytes] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: AbciServer | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None

    # -- submitting -----------------------------------------------------------------------
    def submit_many(self, raws: list[bytes]) -> list[SignedTx | PortchainError]:
        """Broadcast several; each admitted or refused on its own.

        Each signer's transactions go in one JSON-RPC batch, in order (CometBFT runs a batch's
        calls one after another, so their sequence numbers reach CheckTx in order); the
        signers' batches go in parallel, because each ``broadcast_tx_sync`` waits for
        CometBFT's flush of the ABCI connection (up to 20 ms), which parallel calls share.
        """
        out: list[SignedTx | PortchainError | None] = []
        groups: dict[str, list[tuple[int, SignedTx]]] = {}
        for raw in raws:
            try:
                stx = decode_tx(raw)
            except PortchainError as exc:
                out.append(exc)
                continue
            groups.setdefault(stx.tx.signer, []).append((len(out), stx))
            out.append(None)
        batches = list(groups.values())
        if len(batches) == 1:
            answered = [self._broadcast([stx.raw for _, stx in batches[0]])]
        else:
            answered = list(
                self._pool.map(lambda group: self._broadcast([s.raw for _, s in group]), batches)
            )
        for group, answers in zip(batches, answered, strict=True):
            for (position, stx), answer in zip(group, answers, strict=True):
                refusal = _refusal(answer)
                if refusal is None:
                    with self._lock:
                        self._pending.add(stx.hash)
                out[position] = refusal or stx
        return [item for item in out if item is not None]

    def _broadcast(self, raws: list[bytes]) -> list[dict[str, Any]]:
        """``broadcast_tx_sync`` for each of ``raws``: CheckTx's result or the RPC error."""
        body = [
            {
                "jsonrpc": "2.0",
                "id": next(self._ids),
                "method": "broadcast_tx_sync",
                "params": {"tx": base64.b64encode(raw).decode()},
            }
            for raw in raws
        ]
        try:
            answer = self._http.post("/", json=body if len(body) > 1 else body[0])
            answer.raise_for_status()
        except httpx.HTTPError as exc:
            raise MempoolFullError(
                f"the local CometBFT node is not reachable ({exc.__class__.__name__}); retry"
            ) from None
        payload = answer.json()
        items = payload if isinstance(payload, list) else [payload]
        by_id = {item.get("id"): item for item in items}
        return [by_id.get(request["id"], {"error": {"data": "no answer"}}) for request in body]

    def is_pending(self, tx_hash: bytes) -> bool:
        with self._lock:
            return tx_hash in self._pending

    @property
    def mempool_size(self) -> int:
        """Transactions submitted here and not committed yet (not the node's whole mempool:
        asking CometBFT would mean an RPC call from inside Commit)."""
        with self._lock:
            return len(self._pending)

    def on_commit(self, listener: CommitListener) -> None:
        self._listeners.append(listener)

    def _committed(self, result: BlockResult) -> None:
        with self._lock:
            for r in result.tx_results:
                self._pending.discard(r.hash)
        for listener in self._listeners:
            try:
                listener(result)
            except Exception:
                log.exception("commit listener failed")

    # -- serving ABCI ---------------------------------------------------------------------
    def start(self) -> None:
        """Serve the adapter on ``abci_address`` from a thread; returns once it listens."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._serve, name="abci", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout=30):
            raise RuntimeError(f"the ABCI server did not start on {self.abci_address}")
        if self._failure is not None:
            raise RuntimeError(f"the ABCI server failed to start: {self._failure!r}")

    def _serve(self) -> None:
        loop = self._loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._run())
        except BaseException as exc:  # the app failed: the node is unhealthy, say so loudly
            self._failure = exc
            log.critical("ABCI serving stopped: %r", exc)
        finally:
            self._ready.set()
            loop.close()

    async def _run(self) -> None:
        # App calls run inline on this thread's loop. Handing each to a worker thread would let
        # the loop read other connections meanwhile, but measured on two cores it doubles the
        # cost of a CheckTx (thread hand-offs under the GIL); inline, a consensus request waits
        # at most for the mempool requests already read (one 64 KiB read buffer).
        self._server = AbciServer(self.adapter, self.abci_address)
        await self._server.start()
        self._ready.set()
        await self._server.serve_forever()

    def close(self) -> None:
        """Nothing outlives :meth:`stop` here."""
        self.stop()

    def stop(self) -> None:
        """Stop serving ABCI (CometBFT then stops too: it cannot run without its app)."""
        thread, loop, server = self._thread, self._loop, self._server
        if thread is None:
            return
        if server is not None and loop is not None and thread.is_alive():
            asyncio.run_coroutine_threadsafe(server.stop(), loop).result(timeout=15)
        thread.join(timeout=15)
        self._thread = None
        self._pool.shutdown(wait=True)
        self._http.close()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def abci_call_stats(self) -> dict[str, tuple[int, float]]:
        """Calls and CPU seconds per ABCI method since the app started (see AbciServer)."""
        return {} if self._server is None else self._server.call_stats()

    @property
    def failure(self) -> BaseException | None:
        if self._server is not None and self._server.error is not None:
            return self._server.error
        return self._failure


def _refusal(answer: dict[str, Any]) -> PortchainError | None:
    """None if CometBFT admitted the transaction, else the refusal as a ``PortchainError``."""
    error = answer.get("error")
    if error:
        text = f"{error.get('message', '')} {error.get('data', '')}"
        if any(known in text for known in _ALREADY_KNOWN):
            return None  # resubmitting is safe: it is already on its way (invariant 9)
        if any(full in text for full in _FULL):
            return MempoolFullError("the CometBFT mempool is full; retry shortly")
        return MempoolFullError(f"the CometBFT node refused the submission: {text.strip()}")
    result = answer.get("result") or {}
    code = int(result.get("code", 0))
    if code == 0:
        return None
    try:
        info = json.loads(result.get("info") or "{}")
    except ValueError:
        info = {}
    return rebuild_error(
        str(result.get("codespace", "")), code, str(result.get("log", "")), info.get("field")
    )


def _subclasses(cls: type[PortchainError]) -> Iterator[type[PortchainError]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def rebuild_error(codespace: str, code: int, message: str, field: str | None) -> PortchainError:
    """The registered error class for ``(codespace, code)`` with ``message`` and ``field``.

    Refusals cross from the app (CheckTx) through CometBFT as numbers; the class is looked up
    among the registered ones, so ``isinstance`` checks (e.g. the API's HTTP status) still work.
    """
    for cls in _subclasses(PortchainError):
        if cls.__dict__.get("codespace") == codespace and cls.__dict__.get("code") == code:
            return cls(message, field=field)
    base = TxError if codespace == "tx" else ModuleError
    generic: type[PortchainError] = type(
        "RemoteError", (base,), {"codespace": codespace, "code": code}
    )
    return generic(message, field=field)
