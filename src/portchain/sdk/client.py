"""A synchronous HTTP client for the node API (httpx)."""

from __future__ import annotations

from types import TracebackType
from typing import Any

import httpx

from portchain.kernel.crypto import SigningKey
from portchain.kernel.tx import Tx, sign


class NodeError(Exception):
    """The node refused a request; ``problem`` holds its problem+json answer."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        super().__init__(problem.get("detail") or problem.get("title") or f"HTTP {status}")


class Client:
    def __init__(self, base_url: str, timeout: float = 60.0) -> None:
        self._http = httpx.Client(base_url=base_url, timeout=timeout)

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _json(self, response: httpx.Response) -> Any:
        if response.status_code >= 400:
            try:
                problem = response.json()
            except ValueError:
                problem = {"detail": response.text}
            raise NodeError(response.status_code, problem)
        return response.json()

    def status(self) -> dict[str, Any]:
        return self._json(self._http.get("/api/v1/status"))  # type: ignore[no-any-return]

    def chain_id(self) -> str:
        return str(self.status()["chain_id"])

    def next_sequence(self, key_id: str) -> int:
        return int(self._json(self._http.get(f"/api/v1/accounts/{key_id}/sequence"))["next_sequence"])

    def submit(self, raw: bytes, wait: bool = True, timeout: float = 30.0) -> dict[str, Any]:
        response = self._http.post(
            "/api/v1/txs",
            content=raw,
            params={"wait": str(wait).lower(), "timeout": timeout},
            headers={"content-type": "application/json"},
        )
        return self._json(response)  # type: ignore[no-any-return]

    def send(
        self, key: SigningKey, action: str, body: dict[str, Any], wait: bool = True
    ) -> dict[str, Any]:
        """Sign ``action`` with ``key`` at its next sequence number, submit it, wait for the outcome."""
        tx = Tx(self.chain_id(), key.key_id, self.next_sequence(key.key_id), action, body)
        return self.submit(sign(tx, key), wait=wait)

    def tx(self, tx_hash: str) -> dict[str, Any]:
        return self._json(self._http.get(f"/api/v1/txs/{tx_hash}"))  # type: ignore[no-any-return]

    def state(self, key: str, prove: bool = False) -> dict[str, Any]:
        response = self._http.get(f"/api/v1/state/{key}", params={"prove": str(prove).lower()})
        return self._json(response)  # type: ignore[no-any-return]
