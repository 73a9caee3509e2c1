"""A minimal ABCI socket client: speaks to an ABCI server the way CometBFT does.

For tests of an ABCI application or of the server without a CometBFT node: send a request,
flush, read the answer. It is not a CometBFT replacement (no pipelining, one connection).

    async with await AbciClient.connect("tcp://127.0.0.1:26658") as client:
        info = await client.call(proto.abci.Request(info=proto.abci.RequestInfo()))
"""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType
from typing import TYPE_CHECKING

from portchain.engines.cometbft import proto
from portchain.engines.cometbft._address import parse_address
from portchain.engines.cometbft._wire import frame, read_frame

if TYPE_CHECKING:
    from portchain.engines.cometbft._proto.tendermint.abci import types_pb2 as abci

_MAX_RESPONSE_BYTES = 256 * 1024 * 1024


class AbciClient:
    """One connection to an ABCI server; use ``connect`` to make one."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    @classmethod
    async def connect(cls, address: str) -> AbciClient:
        """Open a connection to ``tcp://127.0.0.1:PORT`` or ``unix://PATH``."""
        parsed = parse_address(address)
        if parsed.scheme == "unix":
            reader, writer = await asyncio.open_unix_connection(str(parsed.path))
        else:
            reader, writer = await asyncio.open_connection(parsed.host, parsed.port)
        return cls(reader, writer)

    async def call(self, request: abci.Request) -> abci.Response:
        """Send ``request`` and a Flush; return the request's response.

        Raises:
            ConnectionError: the server closed the connection without answering.
            ValueError: the server answered Flush where the request's answer was expected.
        """
        self._writer.write(frame(request.SerializeToString()))
        self._writer.write(
            frame(proto.abci.Request(flush=proto.abci.RequestFlush()).SerializeToString())
        )
        await self._writer.drain()
        response = await self._read()
        if response.WhichOneof("value") == "exception":
            return response  # the server hangs up after an exception; there is no flush answer
        flushed = await self._read()
        if flushed.WhichOneof("value") != "flush":
            raise ValueError(f"expected ResponseFlush, got {flushed.WhichOneof('value')}")
        return response

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(ConnectionError):
            await self._writer.wait_closed()

    async def _read(self) -> abci.Response:
        payload = await read_frame(self._reader, _MAX_RESPONSE_BYTES)
        if payload is None:
            raise ConnectionError("the ABCI server closed the connection")
        response = proto.abci.Response()
        response.ParseFromString(payload)
        return response

    async def __aenter__(self) -> AbciClient:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        await self.close()
