"""An asynchronous client for the node API (httpx), for services that live in an event loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from types import TracebackType
from typing import Any

import httpx

from portchain.kernel.crypto import SigningKey
from portchain.kernel.tx import Tx, sign
from portchain.sdk._sse import (
    END_OF_BLOCK,
    Filter,
    Follower,
    LedgerEvent,
    filter_params,
)
from portchain.sdk.auth import KeyAuth, TokenAuth
from portchain.sdk.client import problem_of


class AsyncClient:
    """The async counterpart of :class:`portchain.sdk.Client` (same methods, awaited)."""

    def __init__(
        self,
        base_url: str,
        timeout: float = 60.0,
        *,
        key: SigningKey | None = None,
        token: str | None = None,
    ) -> None:
        """``key``: sign in with this user key (challenge and signature, done when needed);
        ``token``: a session token from an earlier sign-in."""
        auth: httpx.Auth | None = (
            KeyAuth(key) if key is not None else None if token is None else TokenAuth(token)
        )
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout, auth=auth)
        self._timeout = timeout

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    def _json(self, response: httpx.Response) -> Any:
        if response.status_code >= 400:
            raise problem_of(response)
        return response.json()

    async def status(self) -> dict[str, Any]:
        return self._json(await self._http.get("/api/v1/status"))  # type: ignore[no-any-return]

    async def next_sequence(self, key_id: str) -> int:
        answer = self._json(await self._http.get(f"/api/v1/accounts/{key_id}/sequence"))
        return int(answer["next_sequence"])

    async def submit(self, raw: bytes, wait: bool = True, timeout: float = 30.0) -> dict[str, Any]:
        response = await self._http.post(
            "/api/v1/txs",
            content=raw,
            params={"wait": str(wait).lower(), "timeout": timeout},
            headers={"content-type": "application/json"},
        )
        return self._json(response)  # type: ignore[no-any-return]

    async def send(
        self, key: SigningKey, action: str, body: dict[str, Any], wait: bool = True
    ) -> dict[str, Any]:
        """Sign ``action`` with ``key`` at its next sequence, submit it, await the outcome."""
        chain_id = str(self._json(await self._http.get("/"))["chain_id"])
        tx = Tx(chain_id, key.key_id, await self.next_sequence(key.key_id), action, body)
        return await self.submit(sign(tx, key), wait=wait)

    async def tx(self, tx_hash: str) -> dict[str, Any]:
        return self._json(await self._http.get(f"/api/v1/txs/{tx_hash}"))  # type: ignore[no-any-return]

    async def events(
        self,
        after: tuple[int, int] | None = None,
        *,
        module: Filter = None,
        type: Filter = None,
        object: Filter = None,
        party: Filter = None,
        heartbeat: float = 15.0,
        max_retries: int = 5,
    ) -> AsyncGenerator[LedgerEvent, None]:
        """Committed events after ``after``, in order, each once: see :meth:`Client.events`."""
        if after is None:
            after = (int((await self.status())["height"]), END_OF_BLOCK)
        follower = Follower(after, filter_params(module, type, object, party), heartbeat)
        timeout = httpx.Timeout(self._timeout, read=heartbeat * 2 + 5)
        reason, detail = "disconnected", ""
        while True:
            try:
                async with self._http.stream(
                    "GET",
                    "/api/v1/events/stream",
                    params=follower.params(),
                    headers={"accept": "text/event-stream"},
                    timeout=timeout,
                ) as response:
                    if response.status_code >= 400:
                        await response.aread()
                        error = problem_of(response)
                        if response.status_code < 500:
                            raise error
                        reason, detail = "unavailable", str(error)
                    else:
                        async for text in response.aiter_text():
                            for event in follower.feed_text(text):
                                yield event
                            if follower.ended is not None:
                                break
            except httpx.TransportError as exc:
                reason, detail = "disconnected", str(exc)
            await asyncio.sleep(follower.retry_after(reason, detail, max_retries))
