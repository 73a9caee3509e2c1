"""A small client for a CometBFT node's JSON-RPC endpoint (the node's HTTP port).

Only the calls that tooling and tests need: status, peers, blocks, broadcasting a transaction
and ABCI queries. Binary parameters follow CometBFT's JSON encoding: transaction bytes are
base64, query data is hex, 64-bit integers travel as decimal strings.
"""

from __future__ import annotations

import base64
import itertools
from typing import Any

import httpx


class RpcError(RuntimeError):
    """The node answered with a JSON-RPC error (``code``, ``message``, ``data`` from the node)."""

    def __init__(self, method: str, code: int, message: str, data: str) -> None:
        super().__init__(f"{method}: {message} ({code}): {data}")
        self.code = code
        self.data = data


class CometRpc:
    """JSON-RPC over HTTP to one node, e.g. ``CometRpc("http://127.0.0.1:26657")``."""

    def __init__(self, url: str, *, timeout: float = 5.0) -> None:
        self._client = httpx.Client(base_url=url, timeout=timeout)
        self._ids = itertools.count(1)

    def call(self, method: str, **params: Any) -> Any:
        """Call ``method`` and return its ``result``.

        Raises:
            RpcError: the node answered with an error.
            httpx.HTTPError: the node could not be reached.
        """
        body = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params}
        answer = self._client.post("/", json=body)
        answer.raise_for_status()
        payload = answer.json()
        if payload.get("error"):
            error = payload["error"]
            raise RpcError(
                method, int(error.get("code", 0)), str(error.get("message")), str(error.get("data"))
            )
        return payload["result"]

    def status(self) -> dict[str, Any]:
        """``/status``: node info, latest block height, hash and app hash, catching-up flag."""
        result: dict[str, Any] = self.call("status")
        return result

    def net_info(self) -> dict[str, Any]:
        """``/net_info``: listening flag and the connected peers."""
        result: dict[str, Any] = self.call("net_info")
        return result

    def block(self, height: int | None = None) -> dict[str, Any]:
        """``/block``: the block at ``height`` (the latest when ``None``) with its id."""
        params = {} if height is None else {"height": str(height)}
        result: dict[str, Any] = self.call("block", **params)
        return result

    def broadcast_tx_sync(self, tx: bytes) -> dict[str, Any]:
        """Submit ``tx``; CheckTx's ``code``, ``log`` and the ``hash``, not waiting for a block."""
        result: dict[str, Any] = self.call("broadcast_tx_sync", tx=base64.b64encode(tx).decode())
        return result

    def abci_query(
        self, path: str, data: bytes, *, height: int = 0, prove: bool = False
    ) -> dict[str, Any]:
        """Run the app's Query; return its ``response`` (``code``, ``value`` in base64, ...)."""
        result = self.call(
            "abci_query", path=path, data=data.hex(), height=str(height), prove=prove
        )
        response: dict[str, Any] = result["response"]
        return response

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> CometRpc:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
