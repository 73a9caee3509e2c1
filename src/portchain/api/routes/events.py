"""Live events: server-sent events and WebSocket streams over the node's event bus.

Both streams take the same query: a cursor (``after_height``, ``after_index``; none
means "from now on"), and filters that may repeat (``module``, ``type``,
``object`` as ``name:value``, ``party``). SSE clients resume with the standard
``Last-Event-ID`` header (every event's ``id:`` is ``height:index``), which wins
over the query's cursor, so a browser's EventSource reconnects by itself.

Access rules: both streams need a session (``Authorization: Bearer`` or, since
browsers cannot set headers there, ``access_token`` in the query), and every event
passes ``node.events.may_see(event, viewer)`` for the session's organisation. One
organisation holds at most :data:`STREAMS_PER_ORG` streams on a node at a time.

This router also carries the webhooks router, so the app registers one router.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, WebSocket
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.sse import EventSourceResponse, format_sse_event
from starlette.requests import HTTPConnection
from starlette.websockets import WebSocketDisconnect

from portchain.api.auth import Unauthorized, ViewerDep, current_session
from portchain.api.deps import MAX_INT, NodeDep
from portchain.api.routes import webhooks
from portchain.kernel.access import Viewer
from portchain.node.events import (
    END_OF_BLOCK,
    Cursor,
    EventFilter,
    StreamEnded,
    Subscription,
)
from portchain.node.node import Node

router = APIRouter(prefix="/api/v1", tags=["events"])

HEARTBEAT_SECONDS = 15.0
"""Default idle time before a keep-alive, short enough for proxies not to cut the stream."""

WS_CLOSE_CODES = {"slow_consumer": 1013, "bus_closed": 1001, "closed": 1000}
"""WebSocket close code per end reason: 1013 is "try again later", 1001 "going away"."""


STREAMS_PER_ORG = 200
"""Most event streams (SSE and WebSocket together) one organisation holds on a node."""


class TooManyStreams(Exception):
    """429: the organisation already holds :data:`STREAMS_PER_ORG` streams on this node."""


class StreamCounter:
    """Open streams per organisation on this node."""

    def __init__(self, limit: int = STREAMS_PER_ORG) -> None:
        self.limit = limit
        self._open: dict[str, int] = {}
        self._lock = threading.Lock()

    def acquire(self, org: str) -> None:
        with self._lock:
            if self._open.get(org, 0) >= self.limit:
                raise TooManyStreams(f"{org} already holds {self.limit} event streams here")
            self._open[org] = self._open.get(org, 0) + 1

    def release(self, org: str) -> None:
        with self._lock:
            left = self._open.get(org, 1) - 1
            if left:
                self._open[org] = left
            else:
                self._open.pop(org, None)


async def stream_counter(connection: HTTPConnection) -> StreamCounter:
    counter: StreamCounter = connection.app.state.streams
    return counter


def build_filter(
    modules: list[str] | None,
    types: list[str] | None,
    objects: list[str] | None,
    parties: list[str] | None,
) -> EventFilter:
    """The filter the query asks for; ValueError on a bad value (shared by SSE and WebSocket)."""
    return EventFilter.of(modules or (), types or (), objects or (), parties or ())


def query_cursor(after_height: int | None, after_index: int | None) -> Cursor | None:
    """The cursor in the query; None (from now on) when neither part is given."""
    if after_height is None and after_index is None:
        return None
    cursor = (after_height or 0, -1 if after_index is None else after_index)
    if cursor[0] < 0 or not -1 <= cursor[1] <= END_OF_BLOCK:
        raise ValueError(f"cursor {cursor[0]}:{cursor[1]} is out of range")
    return cursor


def parse_cursor(text: str) -> Cursor:
    """``"height:index"`` (an SSE ``Last-Event-ID``) as a cursor; ValueError if malformed."""
    height, sep, index = text.strip().partition(":")
    if not sep or not height.isdigit() or not index.lstrip("-").isdigit():
        raise ValueError(f"a cursor is height:index, not {text[:40]!r}")
    cursor = (int(height), int(index))
    if cursor[1] < -1 or cursor[1] > END_OF_BLOCK:
        raise ValueError(f"cursor index {cursor[1]} is out of range")
    return cursor


def end_notice(end: StreamEnded) -> str:
    """The JSON of a stream's last message: why it ended and where to resume."""
    cursor = None if end.cursor is None else {"height": end.cursor[0], "index": end.cursor[1]}
    return json.dumps({"reason": end.reason, "detail": end.detail, "cursor": cursor})


def _invalid(where: tuple[str, str], message: str) -> RequestValidationError:
    return RequestValidationError([{"loc": where, "msg": message, "type": "value_error"}])


def stream_filter(
    module: Annotated[
        list[str] | None, Query(description="Module name, e.g. membership (repeatable).")
    ] = None,
    type_: Annotated[
        list[str] | None,
        Query(alias="type", description="Event type, e.g. membership.key_registered (repeatable)."),
    ] = None,
    object_: Annotated[
        list[str] | None,
        Query(
            alias="object",
            description="An object the event is about: name:value (key:ab12...) or a bare "
            "value matching any attribute (repeatable).",
        ),
    ] = None,
    party: Annotated[
        list[str] | None, Query(description="An organisation taking part (repeatable).")
    ] = None,
) -> EventFilter:
    try:
        return build_filter(module, type_, object_, party)
    except ValueError as exc:
        raise _invalid(("query", "filter"), str(exc)) from None


FilterDep = Annotated[EventFilter, Depends(stream_filter)]


async def _subscribe(
    node: Node, cursor: Cursor | None, event_filter: EventFilter, viewer: Viewer
) -> Subscription:
    # subscribe reads the chain's height: keep SQLite off the event loop.
    return await run_in_threadpool(node.events.subscribe, cursor, event_filter, viewer)


async def _sse_body(
    subscription: Subscription, heartbeat: float, release: Callable[[], None]
) -> AsyncIterator[bytes]:
    """The stream: one write per batch of events, a comment when idle, an ``end`` event last."""
    try:
        yield b"retry: 1000\n\n"
        while True:
            try:
                events = await subscription.aget(heartbeat)
            except StreamEnded as end:
                yield format_sse_event(event="end", data_str=end_notice(end))
                return
            if not events:
                yield b": keepalive\n\n"
                continue
            yield "".join(f"id: {e.id}\ndata: {e.json()}\n\n" for e in events).encode()
    finally:
        subscription.close()
        release()


@router.get(
    "/events/stream",
    summary="Follow committed events (server-sent events)",
    description="Each event is sent as `id: height:index` and `data:` its JSON (id, height, index, "
    "tx, type, attributes), in commit order, exactly once per connection. Resume with "
    "`Last-Event-ID` (or after_height/after_index): nothing is missed or repeated. A subscriber "
    "that falls too far behind gets an `end` event (reason slow_consumer) and should reconnect "
    "from its last id. Idle streams get a keep-alive comment every `heartbeat` seconds.",
    responses={
        200: {
            "description": "The event stream",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        },
        400: {"description": "A bad cursor or filter (problem+json)"},
        401: {"description": "No live session (problem+json)"},
        429: {"description": "Too many streams for this organisation (problem+json)"},
    },
)
async def stream_events(
    request: Request,
    node: NodeDep,
    viewer: ViewerDep,
    streams: Annotated[StreamCounter, Depends(stream_counter)],
    event_filter: FilterDep,
    after_height: Annotated[
        int | None, Query(ge=0, le=MAX_INT, description="Cursor height.")
    ] = None,
    after_index: Annotated[
        int | None, Query(ge=-1, le=END_OF_BLOCK, description="Cursor index (-1: whole block).")
    ] = None,
    heartbeat: Annotated[float, Query(ge=0.2, le=60)] = HEARTBEAT_SECONDS,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> EventSourceResponse:
    try:
        cursor = query_cursor(after_height, after_index)
    except ValueError as exc:
        raise _invalid(("query", "after_height"), str(exc)) from None
    if last_event_id:
        try:
            cursor = parse_cursor(last_event_id)
        except ValueError as exc:
            raise _invalid(("header", "Last-Event-ID"), str(exc)) from None
    streams.acquire(viewer.org)
    try:
        subscription = await _subscribe(node, cursor, event_filter, viewer)
    except ValueError as exc:
        streams.release(viewer.org)
        raise _invalid(("query", "after_height"), str(exc)) from None
    return EventSourceResponse(
        _sse_body(subscription, heartbeat, lambda: streams.release(viewer.org))
    )


def _ws_params(websocket: WebSocket) -> tuple[Cursor | None, EventFilter, float]:
    params = websocket.query_params

    def number(name: str) -> int | None:
        value = params.get(name)
        if value is None:
            return None
        try:
            return int(value)
        except ValueError:
            raise ValueError(f"{name} must be an integer") from None

    event_filter = build_filter(
        params.getlist("module"),
        params.getlist("type"),
        params.getlist("object"),
        params.getlist("party"),
    )
    try:
        heartbeat = min(60.0, max(0.2, float(params.get("heartbeat", HEARTBEAT_SECONDS))))
    except ValueError:
        raise ValueError("heartbeat must be a number of seconds") from None
    return query_cursor(number("after_height"), number("after_index")), event_filter, heartbeat


@router.websocket("/events/ws")
async def events_ws(websocket: WebSocket) -> None:
    """Follow committed events over a WebSocket; the same query as the SSE stream.

    Messages are JSON text: ``{"event": {...}}`` per event, ``{"heartbeat": {...}}``
    when idle, and a last ``{"end": {reason, detail, cursor}}`` before the node closes
    (1013 for slow_consumer, 1001 when the node stops). A bad query is accepted then
    closed with 1008 and the reason. Resume with after_height/after_index.
    """
    node: Node = websocket.app.state.node
    streams: StreamCounter = websocket.app.state.streams
    await websocket.accept()
    try:
        viewer = (await run_in_threadpool(current_session, websocket))[2]
    except Unauthorized as exc:
        await websocket.close(code=1008, reason=str(exc)[:120])
        return
    try:
        streams.acquire(viewer.org)
    except TooManyStreams as exc:
        await websocket.close(code=1013, reason=str(exc)[:120])
        return
    try:
        cursor, event_filter, heartbeat = _ws_params(websocket)
        subscription = await _subscribe(node, cursor, event_filter, viewer)
    except (ValueError, RuntimeError) as exc:
        streams.release(viewer.org)
        await websocket.close(code=1008, reason=str(exc)[:120])
        return

    async def pump() -> None:
        while True:
            try:
                events = await subscription.aget(heartbeat)
            except StreamEnded as end:
                await websocket.send_text('{"end":' + end_notice(end) + "}")
                await websocket.close(code=WS_CLOSE_CODES.get(end.reason, 1011), reason=end.reason)
                return
            if not events:
                position = subscription.cursor
                last = None if position is None else f"{position[0]}:{position[1]}"
                await websocket.send_text(json.dumps({"heartbeat": {"cursor": last}}))
            for event in events:
                await websocket.send_text('{"event":' + event.json() + "}")

    async def listen() -> None:
        # Clients send nothing; reading notices a disconnect while the stream is idle.
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass

    tasks = {asyncio.create_task(pump()), asyncio.create_task(listen())}
    try:
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for task in done:
            error = task.exception()
            if error is not None and not isinstance(error, WebSocketDisconnect | OSError):
                raise error
    finally:
        for task in tasks:
            task.cancel()
        subscription.close()
        streams.release(viewer.org)


router.include_router(webhooks.router)
