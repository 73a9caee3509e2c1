"""What the sync and async clients share to follow the node's event stream.

The wire format is server-sent events: ``id: height:index`` and ``data: {json}``
per event, comments to keep an idle stream open, and a final ``event: end`` when
the node ends the stream (reason and cursor in its data). :class:`Follower` turns
lines into :class:`LedgerEvent` values and keeps the cursor, so a client can
reconnect after a dropped connection or a ``slow_consumer`` end without missing or
repeating anything.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from portchain.sdk.errors import StreamError

END_OF_BLOCK = 2**31 - 1
"""An index after every event of its block (as the node defines it)."""

RESUMABLE = frozenset({"slow_consumer", "bus_closed", "closed"})
"""End reasons after which reconnecting from the cursor makes sense."""

Filter = str | Sequence[str] | None
Params = list[tuple[str, str | int | float | bool | None]]


@dataclass(frozen=True)
class LedgerEvent:
    """A committed event and its position in the chain."""

    height: int
    index: int
    type: str
    attributes: dict[str, Any] = field(default_factory=dict)
    tx: str | None = None
    """Hash (hex) of the transaction that emitted it; None for a block's own events."""

    @property
    def cursor(self) -> tuple[int, int]:
        return (self.height, self.index)

    @property
    def id(self) -> str:
        return f"{self.height}:{self.index}"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LedgerEvent:
        return cls(data["height"], data["index"], data["type"], data["attributes"], data.get("tx"))


class StreamEnd(Exception):
    """The node sent ``event: end`` (internal: the clients decide whether to resume)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def _values(value: Filter) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def filter_params(module: Filter, type: Filter, object: Filter, party: Filter) -> Params:
    """The stream's filter query (each may repeat)."""
    out: Params = []
    for name, value in (("module", module), ("type", type), ("object", object), ("party", party)):
        out += [(name, item) for item in _values(value)]
    return out


class Follower:
    """Parses one SSE stream after another, remembering the cursor across reconnects."""

    def __init__(self, cursor: tuple[int, int], filters: Params, heartbeat: float):
        self.cursor = cursor
        self.filters = filters
        self.heartbeat = heartbeat
        self.failures = 0
        """Consecutive connections that ended without delivering an event."""
        self._reset()

    def _reset(self) -> None:
        self._data: list[str] = []
        self._event = ""
        self._id: str | None = None
        self._pending = ""
        self.ended: StreamEnd | None = None
        """Set once the node has ended this connection's stream."""

    def params(self) -> Params:
        """The query for the next connection: resume after the cursor."""
        self._reset()
        return [
            ("after_height", str(self.cursor[0])),
            ("after_index", str(self.cursor[1])),
            ("heartbeat", str(self.heartbeat)),
            *self.filters,
        ]

    def feed_text(self, text: str) -> list[LedgerEvent]:
        """Take a piece of the stream, split anywhere; return the events it completes.

        Whole pieces rather than lines: one call per network read keeps a client's
        cost per event low. After an ``end`` event, :attr:`ended` is set and the rest
        is ignored; the events before it are still returned, never dropped.
        """
        data = self._pending + text
        carry = ""
        if data.endswith("\r"):  # perhaps half of a CRLF: decide with the next piece
            data, carry = data[:-1], "\r"
        lines = data.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        self._pending = lines.pop() + carry
        out: list[LedgerEvent] = []
        for line in lines:
            if self.ended is not None:
                break
            try:
                event = self.feed(line)
            except StreamEnd as end:
                self.ended = end
                break
            if event is not None:
                out.append(event)
        return out

    def feed(self, line: str) -> LedgerEvent | None:
        """Take one line; return an event when one is complete. Raises StreamEnd."""
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._id = value
        return None

    def _dispatch(self) -> LedgerEvent | None:
        data, kind = "\n".join(self._data), self._event
        self._data, self._event = [], ""
        if not data:
            return None
        payload = json.loads(data)
        if kind == "end":
            raise StreamEnd(str(payload.get("reason", "")), str(payload.get("detail", "")))
        if kind:
            return None  # a kind of message this client does not know yet
        event = LedgerEvent.from_dict(payload)
        if event.cursor <= self.cursor:
            return None  # never hand out an event twice, whatever the connection did
        self.cursor = event.cursor
        self.failures = 0
        return event

    def retry_after(self, reason: str, detail: str, max_retries: int) -> float:
        """After a connection ended with ``reason``: seconds to wait before reconnecting.

        Raises :class:`StreamError` when the node ended the stream for good, or after
        ``max_retries`` reconnections in a row without an event.
        """
        if self.ended is not None:
            reason, detail = self.ended.reason, self.ended.detail
            if reason not in RESUMABLE:
                raise StreamError(reason, detail, self.cursor)
        self.failures += 1
        if self.failures > max_retries:
            raise StreamError(reason, detail, self.cursor)
        return self.backoff()

    def backoff(self) -> float:
        """Seconds to wait before reconnecting, after ``failures`` fruitless tries."""
        return float(min(5.0, 0.2 * 2 ** max(0, self.failures - 1)))
