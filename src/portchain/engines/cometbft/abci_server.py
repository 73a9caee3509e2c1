"""ABCI 2.0 socket server: lets a CometBFT v0.38 node drive a Python state machine.

CometBFT dials the address in its ``proxy_app`` setting and opens four connections (consensus,
mempool, query, snapshot). On each it writes length-delimited ``Request`` messages (see
``_wire``) and expects one ``Response`` per request, in the same order; a ``Flush`` request
asks us to push out everything written so far and answer ``ResponseFlush``.

The server stays thin: it decodes a request, calls the application method named after the
request's oneof field (``check_tx`` for ``Request.check_tx``...), and encodes the answer.
The application is one state machine, so calls from all connections go through one lock.

An exception in the application is never swallowed. It is logged with its traceback, answered
with ``ResponseException`` (on which CometBFT stops, loudly), kept in ``AbciServer.error``,
and every later request is refused, because the state machine may be half-way through a
block. With ``stop_on_error`` (the default) the server then shuts down and ``serve_forever``
raises ``AbciApplicationError``, so the process hosting the app exits non-zero too.

    app = MyApplication()                     # implements AbciApplication
    run_server(app, "tcp://127.0.0.1:26658")  # blocks; or ``await AbciServer(...).serve_forever()``
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import time
from typing import TYPE_CHECKING, Protocol

from google.protobuf.message import DecodeError, Message

from portchain.engines.cometbft import proto
from portchain.engines.cometbft._address import parse_address
from portchain.engines.cometbft._wire import FramingError, frame, split_frames
from portchain.engines.cometbft.base_application import BaseApplication

if TYPE_CHECKING:
    from portchain.engines.cometbft._proto.tendermint.abci import types_pb2 as abci

__all__ = [
    "AbciApplication",
    "AbciApplicationError",
    "AbciServer",
    "BaseApplication",
    "run_server",
    "serve",
]

logger = logging.getLogger(__name__)

DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024 * 1024
"""Largest request we accept, in bytes: well above a default block (21 MiB) plus its context."""

_WRITE_BUFFER_HIGH_WATER = 4 * 1024 * 1024
"""Bytes queued on a connection before we wait for the socket to take them."""

_READ_CHUNK = 1024 * 1024
"""Most bytes taken from a connection at once (a burst of requests, or part of a block)."""

APPLICATION_METHODS: tuple[str, ...] = (
    "echo",
    "info",
    "init_chain",
    "query",
    "check_tx",
    "commit",
    "list_snapshots",
    "offer_snapshot",
    "load_snapshot_chunk",
    "apply_snapshot_chunk",
    "prepare_proposal",
    "process_proposal",
    "extend_vote",
    "verify_vote_extension",
    "finalize_block",
)
"""``Request`` oneof fields that go to the application; each is also the method's name."""


class AbciApplication(Protocol):
    """What the server needs from a state machine: one method per ABCI request.

    Each takes the ``Request*`` message and returns the matching ``Response*`` message.
    Methods are called one at a time, never concurrently. See ``BaseApplication`` for defaults.
    """

    def echo(self, request: abci.RequestEcho) -> abci.ResponseEcho: ...
    def info(self, request: abci.RequestInfo) -> abci.ResponseInfo: ...
    def init_chain(self, request: abci.RequestInitChain) -> abci.ResponseInitChain: ...
    def check_tx(self, request: abci.RequestCheckTx) -> abci.ResponseCheckTx: ...
    def query(self, request: abci.RequestQuery) -> abci.ResponseQuery: ...
    def prepare_proposal(
        self, request: abci.RequestPrepareProposal
    ) -> abci.ResponsePrepareProposal: ...
    def process_proposal(
        self, request: abci.RequestProcessProposal
    ) -> abci.ResponseProcessProposal: ...
    def finalize_block(self, request: abci.RequestFinalizeBlock) -> abci.ResponseFinalizeBlock: ...
    def extend_vote(self, request: abci.RequestExtendVote) -> abci.ResponseExtendVote: ...
    def verify_vote_extension(
        self, request: abci.RequestVerifyVoteExtension
    ) -> abci.ResponseVerifyVoteExtension: ...
    def commit(self, request: abci.RequestCommit) -> abci.ResponseCommit: ...
    def list_snapshots(self, request: abci.RequestListSnapshots) -> abci.ResponseListSnapshots: ...
    def offer_snapshot(self, request: abci.RequestOfferSnapshot) -> abci.ResponseOfferSnapshot: ...
    def load_snapshot_chunk(
        self, request: abci.RequestLoadSnapshotChunk
    ) -> abci.ResponseLoadSnapshotChunk: ...
    def apply_snapshot_chunk(
        self, request: abci.RequestApplySnapshotChunk
    ) -> abci.ResponseApplySnapshotChunk: ...


class AbciApplicationError(RuntimeError):
    """The application raised while serving CometBFT; ``__cause__`` is the original exception."""


class AbciServer:
    """Serves one application on one address until stopped or until the application fails.

    Args:
        app: the state machine.
        address: ``tcp://127.0.0.1:PORT`` (port 0 picks a free one) or ``unix://PATH``.
        max_message_bytes: larger requests close the connection.
        executor: if given, application calls run there (still one at a time), keeping the
            event loop free for other work in the same process; by default they run inline.
        stop_on_error: shut the server down after the application raised.
    """

    def __init__(
        self,
        app: AbciApplication,
        address: str,
        *,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        executor: concurrent.futures.Executor | None = None,
        stop_on_error: bool = True,
    ) -> None:
        self._app = app
        self._address = parse_address(address)
        self._max_message_bytes = max_message_bytes
        self._executor = executor
        self._stop_on_error = stop_on_error
        proto.load("abci")  # generate the bindings now, not on the first request
        self._app_lock = asyncio.Lock()
        self._start_lock = asyncio.Lock()
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._stop_requested = asyncio.Event()
        self._shutdown: asyncio.Future[None] | None = None
        self._error: BaseException | None = None
        self._calls: dict[str, list[float]] = {}

    @property
    def address(self) -> str:
        """The address actually listened on (with the real port when 0 was asked for)."""
        if self._server is not None and self._address.scheme == "tcp":
            host, port = self._server.sockets[0].getsockname()[:2]
            return f"tcp://{host}:{port}"
        return str(self._address)

    @property
    def error(self) -> BaseException | None:
        """The first exception the application raised, if any."""
        return self._error

    def call_stats(self) -> dict[str, tuple[int, float]]:
        """Per application method so far: how many calls, and the CPU seconds they took
        (the calling thread's own time, so a call that waits for the CPU is not charged)."""
        return {kind: (int(calls), cpu) for kind, (calls, cpu) in list(self._calls.items())}

    async def start(self) -> None:
        """Listen; returns once the address accepts connections. Calling it again is harmless."""
        async with self._start_lock:
            if self._server is not None or self._stop_requested.is_set():
                return
            if self._address.scheme == "unix":
                assert self._address.path is not None
                if self._address.path.is_socket():  # left behind by a run that was killed
                    self._address.path.unlink()
                self._server = await asyncio.start_unix_server(
                    self._on_connection, path=self._address.path
                )
            else:
                self._server = await asyncio.start_server(
                    self._on_connection, self._address.host, self._address.port
                )
            logger.info("ABCI server listening on %s", self.address)

    async def serve_forever(self) -> None:
        """Serve until ``stop()`` is called or the application fails.

        Raises:
            AbciApplicationError: the application raised (and ``stop_on_error`` is set).
        """
        await self.start()
        try:
            await self._stop_requested.wait()
        finally:
            await self.stop()
        if self._error is not None:
            raise AbciApplicationError(
                f"the ABCI application failed: {self._error!r}"
            ) from self._error

    async def stop(self) -> None:
        """Stop listening, close every connection and wait for their handlers to end.

        Safe to call more than once and from several tasks: all wait for the same shutdown.
        """
        self._stop_requested.set()
        if self._shutdown is None:
            self._shutdown = asyncio.ensure_future(self._close())
        await asyncio.shield(self._shutdown)

    async def _close(self) -> None:
        async with self._start_lock:
            address = self.address
            server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for writer in list(self._writers):
            writer.close()
        if self._handlers:
            _, pending = await asyncio.wait(list(self._handlers), timeout=5)
            for task in pending:
                task.cancel()
        await server.wait_closed()
        if self._address.scheme == "unix" and self._address.path is not None:
            with contextlib.suppress(FileNotFoundError):
                self._address.path.unlink()
        logger.info("ABCI server on %s stopped", address)

    async def _on_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self._writers.add(writer)
        try:
            await self._serve_connection(reader, writer)
        finally:
            self._handlers.discard(task)
            self._writers.discard(writer)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """Answer requests in arrival order until the peer hangs up or a fatal answer was sent.

        Everything that has arrived is answered before the answers go out together, in one
        write when the requests run out (or at a Flush): CometBFT sends CheckTx requests in
        bursts, and one system call per answer cost as much as the checks themselves.
        """
        peer = writer.get_extra_info("peername") or "unix socket"
        logger.debug("ABCI connection from %s", peer)
        received = bytearray()
        answers: list[bytes] = []
        try:
            while True:
                payloads, used = split_frames(received, self._max_message_bytes)
                del received[:used]
                if not payloads:
                    await self._send(writer, answers)
                    chunk = await reader.read(_READ_CHUNK)
                    if not chunk:
                        if received:
                            raise asyncio.IncompleteReadError(bytes(received), None)
                        break
                    received += chunk
                    continue
                for payload in payloads:
                    request = proto.abci.Request()
                    request.ParseFromString(payload)
                    response = await self._respond(request)
                    answers.append(frame(response.SerializeToString()))
                    if response.WhichOneof("value") == "exception":
                        # deliver it before we hang up, as CometBFT's own server does
                        await self._send(writer, answers, drain=True)
                        if self._error is not None and self._stop_on_error:
                            self._stop_requested.set()
                        return
                    if request.WhichOneof("value") == "flush":
                        await self._send(writer, answers)
        except (ConnectionError, asyncio.IncompleteReadError):
            logger.debug("ABCI connection from %s dropped", peer)
        except (FramingError, DecodeError) as exc:
            logger.error(
                "ABCI connection from %s sent a malformed message, closing it: %s", peer, exc
            )
        finally:
            logger.debug("ABCI connection from %s closed", peer)

    @staticmethod
    async def _send(
        writer: asyncio.StreamWriter, answers: list[bytes], drain: bool = False
    ) -> None:
        """Write the answers so far in one go; wait for the socket only when much is queued."""
        if answers:
            writer.write(b"".join(answers))
            answers.clear()
        if drain or _buffered(writer) > _WRITE_BUFFER_HIGH_WATER:
            await writer.drain()

    async def _respond(self, request: abci.Request) -> abci.Response:
        """Turn one request into its response; application calls are serialized by the lock."""
        kind = request.WhichOneof("value")
        if kind == "flush":
            return proto.abci.Response(flush=proto.abci.ResponseFlush())
        async with self._app_lock:
            if self._error is not None:
                return self._exception_response(f"the application already failed: {self._error!r}")
            if kind not in APPLICATION_METHODS:
                return self._fail(
                    kind or "unknown", TypeError(f"unsupported ABCI request {kind!r}")
                )
            try:
                result = await self._call(kind, getattr(request, kind))
                response = proto.abci.Response()
                getattr(response, kind).CopyFrom(result)
            except Exception as exc:  # any failure of the app must reach CometBFT
                return self._fail(kind, exc)
            return response

    async def _call(self, kind: str, message: Message) -> Message:
        if self._executor is None:
            return self._timed(kind, message)
        return await asyncio.get_running_loop().run_in_executor(
            self._executor, self._timed, kind, message
        )

    def _timed(self, kind: str, message: Message) -> Message:
        started = time.thread_time()
        result: Message = getattr(self._app, kind)(message)
        stats = self._calls.get(kind)
        if stats is None:
            stats = self._calls[kind] = [0, 0.0]
        stats[0] += 1
        stats[1] += time.thread_time() - started
        return result

    def _fail(self, kind: str, exc: Exception) -> abci.Response:
        """Record the application's failure, log it with its traceback, and answer it."""
        logger.error("ABCI application failed in %s", kind, exc_info=exc)
        if self._error is None:
            self._error = exc
        return self._exception_response(f"{kind}: {type(exc).__name__}: {exc}")

    def _exception_response(self, text: str) -> abci.Response:
        return proto.abci.Response(exception=proto.abci.ResponseException(error=text))


def _buffered(writer: asyncio.StreamWriter) -> int:
    return writer.transport.get_write_buffer_size()


async def serve(
    app: AbciApplication,
    address: str,
    *,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    executor: concurrent.futures.Executor | None = None,
) -> None:
    """Serve ``app`` on ``address`` until cancelled or until the application fails.

    Raises:
        AbciApplicationError: the application raised.
    """
    server = AbciServer(app, address, max_message_bytes=max_message_bytes, executor=executor)
    await server.serve_forever()


def run_server(
    app: AbciApplication,
    address: str,
    *,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    executor: concurrent.futures.Executor | None = None,
) -> None:
    """Blocking entry point for a process that hosts the app (``portchain node``, test fixtures).

    Raises:
        AbciApplicationError: the application raised; the process should exit non-zero.
    """
    asyncio.run(serve(app, address, max_message_bytes=max_message_bytes, executor=executor))
