"""The ABCI socket server at the byte level, driven the way CometBFT drives it."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portchain.engines.cometbft import proto
from portchain.engines.cometbft._wire import (
    FramingError,
    encode_uvarint,
    frame,
    read_frame,
    split_frames,
)
from portchain.engines.cometbft.abci_client import AbciClient
from portchain.engines.cometbft.abci_server import AbciApplicationError, AbciServer, BaseApplication

if TYPE_CHECKING:
    from portchain.engines.cometbft._proto.tendermint.abci import types_pb2 as abci

pytestmark = pytest.mark.cometbft


def test_length_prefix_is_an_unsigned_varint() -> None:
    # CometBFT v0.38 frames with binary.PutUvarint (older Tendermint used a signed varint).
    assert encode_uvarint(0) == b"\x00"
    assert encode_uvarint(1) == b"\x01"
    assert encode_uvarint(127) == b"\x7f"
    assert encode_uvarint(128) == b"\x80\x01"
    assert encode_uvarint(300) == b"\xac\x02"
    assert frame(b"abc") == b"\x03abc"


@given(
    messages=st.lists(st.binary(max_size=300), max_size=8),
    cuts=st.lists(st.integers(min_value=0, max_value=3000), max_size=6),
)
def test_split_frames_finds_the_same_messages_however_the_bytes_arrive(
    messages: list[bytes], cuts: list[int]
) -> None:
    stream = b"".join(frame(m) for m in messages)
    found: list[bytes] = []
    received = bytearray()
    for start, end in zip([0, *sorted(cuts)], [*sorted(cuts), len(stream)], strict=True):
        received += stream[start:end]
        complete, used = split_frames(received, 1 << 20)
        found += complete
        del received[:used]
    assert found == messages
    assert not received


def test_split_frames_refuses_oversized_and_endless_prefixes() -> None:
    assert split_frames(b"\x05abc", 10) == ([], 0)  # still arriving
    with pytest.raises(FramingError, match="exceeds the limit of 10"):
        split_frames(frame(b"x" * 11), 10)
    with pytest.raises(FramingError, match="longer than ten bytes"):
        split_frames(b"\xff" * 11, 1 << 20)


def test_requests_arriving_a_byte_at_a_time_are_answered(abci_types: ModuleType) -> None:
    async def scenario() -> list[abci.Response]:
        server = AbciServer(BaseApplication(), "tcp://127.0.0.1:0")
        await server.start()
        reader, writer = await _open(server.address)
        requests = [
            abci_types.Request(echo=abci_types.RequestEcho(message="slow" * 50)),
            abci_types.Request(check_tx=abci_types.RequestCheckTx(tx=b"x" * 200)),
            abci_types.Request(flush=abci_types.RequestFlush()),
        ]
        for byte in b"".join(frame(r.SerializeToString()) for r in requests):
            writer.write(bytes([byte]))
            await writer.drain()
        answers = []
        for _ in requests:
            response = abci_types.Response()
            response.ParseFromString(await read_frame(reader, 1 << 20) or b"")
            answers.append(response)
        writer.close()
        await server.stop()
        return answers

    answers = asyncio.run(scenario())
    assert [a.WhichOneof("value") for a in answers] == ["echo", "check_tx", "flush"]
    assert answers[0].echo.message == "slow" * 50


def test_pipelined_requests_are_answered_in_order_and_flush_last(abci_types: ModuleType) -> None:
    async def scenario() -> list[str]:
        server = AbciServer(BaseApplication(), "tcp://127.0.0.1:0")
        await server.start()
        reader, writer = await _open(server.address)
        requests = [
            abci_types.Request(echo=abci_types.RequestEcho(message="one")),
            abci_types.Request(info=abci_types.RequestInfo(version="0.38")),
            abci_types.Request(check_tx=abci_types.RequestCheckTx(tx=b"x")),
            abci_types.Request(flush=abci_types.RequestFlush()),
        ]
        writer.write(b"".join(frame(r.SerializeToString()) for r in requests))
        await writer.drain()
        kinds = []
        for _ in requests:
            response = abci_types.Response()
            response.ParseFromString(await read_frame(reader, 1 << 20) or b"")
            kinds.append(response.WhichOneof("value"))
        writer.close()
        await server.stop()
        return kinds

    assert asyncio.run(scenario()) == ["echo", "info", "check_tx", "flush"]


def test_unix_socket_address(tmp_path: Path, abci_types: ModuleType) -> None:
    async def scenario() -> str:
        server = AbciServer(BaseApplication(), f"unix://{tmp_path / 'app.sock'}")
        await server.start()
        async with await AbciClient.connect(server.address) as client:
            response = await client.call(
                abci_types.Request(echo=abci_types.RequestEcho(message="hi"))
            )
        await server.stop()
        return str(response.echo.message)

    assert asyncio.run(scenario()) == "hi"
    assert not (tmp_path / "app.sock").exists()


def test_refuses_to_listen_beyond_loopback() -> None:
    with pytest.raises(ValueError, match="loopback"):
        AbciServer(BaseApplication(), "tcp://0.0.0.0:26658")


class FailingCheckTx(BaseApplication):
    def check_tx(self, request: abci.RequestCheckTx) -> abci.ResponseCheckTx:
        raise ValueError("bad validation code")


def test_app_exception_is_answered_exposed_and_stops_the_server(
    abci_types: ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario() -> tuple[str, AbciServer, BaseException | None]:
        server = AbciServer(FailingCheckTx(), "tcp://127.0.0.1:0")
        serving = asyncio.create_task(server.serve_forever())
        await server.start()
        async with await AbciClient.connect(server.address) as client:
            answer = await client.call(
                abci_types.Request(check_tx=abci_types.RequestCheckTx(tx=b"x"))
            )
        raised: BaseException | None = None
        try:
            await asyncio.wait_for(serving, timeout=5)
        except AbciApplicationError as exc:
            raised = exc
        return answer.exception.error, server, raised

    error, server, raised = asyncio.run(scenario())
    assert "check_tx" in error and "bad validation code" in error
    assert isinstance(server.error, ValueError)
    assert isinstance(raised, AbciApplicationError) and raised.__cause__ is server.error
    assert any(record.exc_info for record in caplog.records), "the traceback must be logged"


def test_after_an_app_exception_every_request_is_refused(abci_types: ModuleType) -> None:
    async def scenario() -> tuple[str | None, str | None]:
        server = AbciServer(FailingCheckTx(), "tcp://127.0.0.1:0", stop_on_error=False)
        await server.start()
        async with await AbciClient.connect(server.address) as other:
            async with await AbciClient.connect(server.address) as client:
                await client.call(abci_types.Request(check_tx=abci_types.RequestCheckTx(tx=b"x")))
            # The state machine may be half-way through a block: nothing is served after.
            later = await other.call(abci_types.Request(info=abci_types.RequestInfo()))
        await server.stop()
        return later.WhichOneof("value"), later.exception.error

    kind, error = asyncio.run(scenario())
    assert kind == "exception"
    assert error is not None and "already failed" in error


class SlowCounter(BaseApplication):
    """Records how many calls overlap; with one lock there must never be two at once."""

    def __init__(self) -> None:
        self.inside = 0
        self.most_inside = 0
        self.calls = 0
        self._guard = threading.Lock()

    def check_tx(self, request: abci.RequestCheckTx) -> abci.ResponseCheckTx:
        with self._guard:
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
        time.sleep(0.02)
        with self._guard:
            self.inside -= 1
            self.calls += 1
        return proto.abci.ResponseCheckTx(code=0)


def test_calls_from_many_connections_never_overlap(abci_types: ModuleType) -> None:
    app = SlowCounter()

    async def one_connection(address: str) -> None:
        async with await AbciClient.connect(address) as client:
            for _ in range(3):
                await client.call(abci_types.Request(check_tx=abci_types.RequestCheckTx(tx=b"k=v")))

    async def scenario() -> None:
        # A thread pool would run calls in parallel if the server did not serialize them.
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            server = AbciServer(app, "tcp://127.0.0.1:0", executor=pool)
            await server.start()
            await asyncio.gather(*(one_connection(server.address) for _ in range(4)))
            await server.stop()

    asyncio.run(scenario())
    assert app.calls == 12
    assert app.most_inside == 1


async def _open(address: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    host, port = address.removeprefix("tcp://").rsplit(":", 1)
    return await asyncio.open_connection(host, int(port))
