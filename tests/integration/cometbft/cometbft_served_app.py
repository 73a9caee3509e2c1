"""Serve an ABCI application in-process, on its own event loop in a background thread.

A test helper: lets a test hand a CometBFT node an app object whose state it can inspect.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading

from portchain.engines.cometbft.abci_server import AbciApplication, AbciApplicationError, AbciServer


class ServedApp:
    """An ABCI server running ``app`` on its own event loop in a background thread."""

    def __init__(self, app: AbciApplication, address: str) -> None:
        self.app = app
        self.server: AbciServer | None = None
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(address,), daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout=10) or self.server is None:
            raise RuntimeError("the ABCI server did not start")

    @property
    def address(self) -> str:
        assert self.server is not None
        return self.server.address

    def _run(self, address: str) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve(address))

    async def _serve(self, address: str) -> None:
        self.server = AbciServer(self.app, address)
        await self.server.start()
        self._ready.set()
        with contextlib.suppress(AbciApplicationError):  # the test inspects server.error
            await self.server.serve_forever()

    def stop(self) -> None:
        if self._thread.is_alive() and self.server is not None:
            asyncio.run_coroutine_threadsafe(self.server.stop(), self._loop).result(timeout=10)
        self._thread.join(timeout=10)
        self._loop.close()
