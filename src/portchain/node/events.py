"""The event bus: every committed event, in order, to whoever follows the chain.

A subscriber gives a cursor ``(height, index)`` (the position of the last event it
has, as stored by :meth:`Storage.commit_block`) and receives every later event
exactly once, in commit order: first from storage (replay), then live from the
node's commit listener. The switch is gap-free because the subscriber attaches
to the live feed *before* its last read of storage, and duplicate-free because it
drops anything at or before its cursor.

Each subscriber has a bounded queue. The block thread only appends a reference
to the block's (shared, immutable) events and never waits: a subscriber that lets
more than ``queue_limit`` events pile up is cut off with :class:`StreamEnded`
(reason ``slow_consumer``) and may resubscribe from its cursor, so nothing is lost.

Filtering happens on the subscriber's side, so the block thread's work per block
is one append per subscriber, whatever the filters cost. The access rule is
``EventBus.may_see(event, viewer) -> bool`` (the node installs
:func:`audience_rule`); it is asked for every event, live or replayed, with the
subscriber's :class:`~portchain.kernel.access.Viewer`.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
import re
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge

if TYPE_CHECKING:
    from portchain.app.execute import BlockResult
    from portchain.engines import Engine
    from portchain.kernel.access import Viewer
    from portchain.storage.sqlite import Storage

Cursor = tuple[int, int]
"""(height, index): an event's position; a subscriber receives events strictly after it."""

START: Cursor = (0, -1)
"""Before the first event of the chain (genesis events are not in the stream)."""

END_OF_BLOCK = 2**31 - 1
"""An index after every event of its block: ``(h, END_OF_BLOCK)`` means "from block h + 1 on"."""

PAGE = 1000
"""Events read from storage at a time while catching up."""

QUEUE_LIMIT = 50_000
"""Default bound on a subscriber's unread live events (a block holds at most a few thousand)."""

CURSOR_AHEAD_MAX = 100
"""Blocks a cursor may be ahead of this node. A network's nodes lag one another by a few
blocks and a client may reconnect to another node; a cursor further ahead is taken to
be from another chain."""

FILTER_VALUES_MAX = 20
"""Most values per filter dimension (bounded input)."""

FILTER_VALUE_CHARS = 128
"""Longest filter value, the same bound as an indexed attribute."""

PARTY_ATTRIBUTES = frozenset({"org", "voter"})
"""Attribute names that name an organisation taking part in a public event (the party filter).

A confidential event names its parties in its audience (``org:<id>``), which the
party filter matches as well.
"""

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_TYPE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")


class CommittedEvent:
    """One stored event with its position. Shared between subscribers: never mutate it."""

    __slots__ = ("_json", "attributes", "audience", "height", "index", "tx", "type")

    def __init__(
        self,
        height: int,
        index: int,
        tx: str | None,
        type_: str,
        attributes: dict[str, Any],
        audience: tuple[str, ...] = (),
    ) -> None:
        self.height = height
        self.index = index
        self.tx = tx
        self.type = type_
        self.attributes = attributes
        self.audience = audience
        self._json: str | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> CommittedEvent:
        """From :meth:`Reader.events_after`'s rows."""
        return cls(
            row["height"], row["index"], row["tx"], row["type"], row["attributes"], row["audience"]
        )

    @property
    def cursor(self) -> Cursor:
        return (self.height, self.index)

    @property
    def id(self) -> str:
        """``height:index``: the SSE event id, and what a client resumes from."""
        return f"{self.height}:{self.index}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "height": self.height,
            "index": self.index,
            "tx": self.tx,
            "type": self.type,
            "attributes": self.attributes,
        }

    def json(self) -> str:
        """Compact JSON, encoded once however many subscribers send it."""
        if self._json is None:
            self._json = json.dumps(self.as_dict(), separators=(",", ":"))
        return self._json


MaySee = Callable[[CommittedEvent, "Viewer | None"], bool]
"""An access rule: may ``viewer`` (None: nobody signed in) see ``event``?"""


def audience_rule(public_modules: Iterable[str]) -> MaySee:
    """The rule of kernel/access.py: an event's audience, or its module's default.

    An event without an audience is public to members when its module's records
    are public (membership) and visible to nobody otherwise (fail closed).
    """
    public = frozenset(public_modules)

    def may_see(event: CommittedEvent, viewer: Viewer | None) -> bool:
        if viewer is None:
            return False
        if event.audience:
            return viewer.may_read(event.audience)
        return event.type.partition(".")[0] in public

    return may_see


def deny_all(event: CommittedEvent, viewer: Viewer | None) -> bool:
    """The bus's rule until the node installs the modules' rule."""
    return False


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


@dataclass(frozen=True)
class EventFilter:
    """Which events a subscriber wants: any value within a dimension, every dimension given.

    modules: module names (the type's prefix, ``membership``);
    types: full event types (``membership.key_registered``);
    objects: ``name:value`` (attribute ``name`` equals ``value``) or a bare ``value``
    (any attribute equals it), e.g. ``key:ab12...``, ``proposal:3``;
    parties: organisation ids named in a party attribute (see :data:`PARTY_ATTRIBUTES`).
    """

    modules: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    objects: tuple[str, ...] = ()
    parties: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        modules: Iterable[str] = (),
        types: Iterable[str] = (),
        objects: Iterable[str] = (),
        parties: Iterable[str] = (),
    ) -> EventFilter:
        """A validated filter; ValueError names the first bad value."""
        built = cls(*(tuple(dict.fromkeys(v)) for v in (modules, types, objects, parties)))
        for name, values in built.as_dict().items():
            if len(values) > FILTER_VALUES_MAX:
                raise ValueError(f"{name}: at most {FILTER_VALUES_MAX} values")
            for value in values:
                if not value or len(value) > FILTER_VALUE_CHARS:
                    raise ValueError(f"{name}: values are 1 to {FILTER_VALUE_CHARS} characters")
        for module in built.modules:
            if not _NAME.match(module):
                raise ValueError(f"modules: {module[:40]!r} is not a module name")
        for type_ in built.types:
            if not _TYPE.match(type_):
                raise ValueError(f"types: {type_[:40]!r} is not an event type (module.name)")
        return built

    def as_dict(self) -> dict[str, list[str]]:
        return {f.name: list(getattr(self, f.name)) for f in fields(self)}

    def matcher(self) -> Callable[[CommittedEvent], bool]:
        """A fast predicate for this filter (sets built once, not per event)."""
        if not (self.modules or self.types or self.objects or self.parties):
            return lambda event: True
        modules, types, parties = set(self.modules), set(self.types), set(self.parties)
        named: set[tuple[str, str]] = set()
        bare: set[str] = set()
        for item in self.objects:
            name, sep, value = item.partition(":")
            if sep and _NAME.match(name):
                named.add((name, value))
            else:
                bare.add(item)

        def matches(event: CommittedEvent) -> bool:
            if types and event.type not in types:
                return False
            if modules and event.type.partition(".")[0] not in modules:
                return False
            attributes = event.attributes
            if named or bare:
                texts = {name: _text(value) for name, value in attributes.items()}
                if not any((n, v) in named for n, v in texts.items()) and not (
                    bare & set(texts.values())
                ):
                    return False
            if not parties:
                return True
            if any(attributes.get(n) in parties for n in PARTY_ATTRIBUTES):
                return True
            return any(p.startswith("org:") and p[4:] in parties for p in event.audience)

        return matches


class StreamEnded(Exception):
    """A subscription ended; resubscribe from ``cursor`` to go on without losing anything.

    reason: ``slow_consumer`` (its queue overflowed), ``closed`` (by its owner) or
    ``bus_closed`` (the node is stopping).
    """

    def __init__(self, reason: str, detail: str, cursor: Cursor | None) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.cursor = cursor


class _Phase(enum.Enum):
    CATCH_UP = "catch_up"  # reading storage, not yet attached to the live feed
    SETTLE = "settle"  # attached; reading storage until it has nothing newer
    LIVE = "live"  # reading the live queue only


class Subscription:
    """One subscriber's position and queue. Use from one thread or one event loop at a time."""

    def __init__(
        self,
        bus: EventBus,
        after: Cursor | None,
        event_filter: EventFilter,
        viewer: Viewer | None,
        queue_limit: int,
    ) -> None:
        self.cursor = after
        """Position of the last event taken (delivered or filtered out)."""
        self.filter = event_filter
        self.viewer = viewer
        self.queue_limit = queue_limit
        self._bus = bus
        self._matches = event_filter.matcher()
        self._phase = _Phase.LIVE if after is None else _Phase.CATCH_UP
        self._lock = threading.Lock()
        self._queue: deque[tuple[CommittedEvent, ...]] = deque()
        self._queued = 0
        self._ended: StreamEnded | None = None
        self._ready = threading.Event()
        self._async_waiter: tuple[asyncio.AbstractEventLoop, asyncio.Event] | None = None

    @property
    def live(self) -> bool:
        """Caught up with storage: what comes now comes from the live feed."""
        return self._phase is _Phase.LIVE

    # -- the block thread's side -------------------------------------------------
    def _offer(self, batch: tuple[CommittedEvent, ...]) -> bool:
        """Queue a block's events; True if that cut this subscriber off. Never blocks."""
        with self._lock:
            overflow = bool(self._queue) and self._queued + len(batch) > self.queue_limit
            if self._ended is None and not overflow:
                self._queue.append(batch)
                self._queued += len(batch)
        if overflow:
            detail = f"more than {self.queue_limit} events waited unread; resume from the last id"
            self._end("slow_consumer", detail)
        else:
            self._wake()
        return overflow

    def _end(self, reason: str, detail: str) -> None:
        with self._lock:
            if self._ended is None:
                self._ended = StreamEnded(reason, detail, self.cursor)
                self._queue.clear()
                self._queued = 0
        self._wake()

    def _wake(self) -> None:
        self._ready.set()
        with self._lock:
            waiter, self._async_waiter = self._async_waiter, None
        if waiter is not None:
            loop, event = waiter
            # RuntimeError: the loop has closed, so nobody is waiting any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(event.set)

    # -- the subscriber's side --------------------------------------------------------
    def _take(self) -> list[CommittedEvent]:
        """The next events for this subscriber, filtered; [] if none now. May read storage."""
        if self._ended is not None:
            raise self._ending()
        if self._phase is _Phase.LIVE:
            with self._lock:
                if self._ended is not None:
                    raise self._ending()
                batches = list(self._queue)
                self._queue.clear()
                self._queued = 0
            raw: Iterable[CommittedEvent] = (event for batch in batches for event in batch)
        else:
            assert self.cursor is not None
            raw = self._bus.read_after(self.cursor, PAGE)
            if len(raw) < PAGE:
                if self._phase is _Phase.CATCH_UP:
                    # Attach before the last read of storage: any block committed from
                    # now on reaches the queue, anything before is in storage.
                    self._bus._attach(self)
                    self._phase = _Phase.SETTLE
                else:
                    self._phase = _Phase.LIVE
        return self._accept(raw)

    def _ending(self) -> StreamEnded:
        """The end, with the cursor as the subscriber's thread knows it (the block thread
        may have cut it off while it was still taking its previous events)."""
        assert self._ended is not None
        self._ended.cursor = self.cursor
        return self._ended

    def _accept(self, raw: Iterable[CommittedEvent]) -> list[CommittedEvent]:
        out: list[CommittedEvent] = []
        cursor = self.cursor
        matches, may_see, viewer = self._matches, self._bus.may_see, self.viewer
        for event in raw:
            position = (event.height, event.index)
            if cursor is not None and position <= cursor:
                continue  # already taken: the overlap between storage and the live feed
            cursor = position
            if matches(event) and may_see(event, viewer):
                out.append(event)
        self.cursor = cursor
        return out

    def get(self, timeout: float | None = None) -> list[CommittedEvent]:
        """Block until events arrive (or ``timeout`` passes: []). Raises :class:`StreamEnded`."""
        while True:
            self._ready.clear()
            events = self._take()
            if events:
                return events
            if self._phase is not _Phase.LIVE:
                continue
            if not self._ready.wait(timeout):
                return self._take()

    async def aget(self, timeout: float | None = None) -> list[CommittedEvent]:
        """:meth:`get` for an event loop: storage reads run in a worker thread."""
        loop = asyncio.get_running_loop()
        while True:
            if self._phase is not _Phase.LIVE:
                events = await asyncio.to_thread(self._take)
                if events:
                    return events
                continue
            waiter = asyncio.Event()
            with self._lock:
                self._async_waiter = (loop, waiter)
            try:
                events = self._take()
                if events:
                    return events
                await asyncio.wait_for(waiter.wait(), timeout)
            except TimeoutError:
                return self._take()
            finally:
                with self._lock:
                    self._async_waiter = None

    def close(self) -> None:
        """Stop receiving; the bus forgets this subscriber."""
        self._end("closed", "the subscription was closed")
        self._bus._detach(self)


class EventBus:
    """Fans committed events out to subscriptions; fed by the engine's commit listener."""

    def __init__(
        self,
        storage: Storage,
        engine: Engine | None = None,
        registry: CollectorRegistry | None = None,
        may_see: MaySee = deny_all,
    ) -> None:
        self.storage = storage
        self.may_see = may_see
        """The access rule applied to every event for every subscriber (replace to enforce)."""
        self._subscribers: set[Subscription] = set()
        self._lock = threading.Lock()
        self._closed = False
        self.subscribers_gauge = Gauge(
            "portchain_event_subscribers", "Live event subscriptions", registry=registry
        )
        self.published = Counter(
            "portchain_events_published", "Committed events pushed to the bus", registry=registry
        )
        self.cut_off = Counter(
            "portchain_event_subscribers_cut_off",
            "Subscriptions ended because they fell too far behind",
            registry=registry,
        )
        if engine is not None:
            engine.on_commit(self.publish)

    def publish(self, result: BlockResult) -> None:
        """Push a durable block's events (the commit listener; runs on the block thread)."""
        height = result.block.header.height
        batch: list[CommittedEvent] = []
        for tx in result.tx_results:
            tx_hash = tx.hash.hex()
            for event in tx.events:
                batch.append(
                    CommittedEvent(
                        height,
                        len(batch),
                        tx_hash,
                        event.type,
                        dict(event.attributes),
                        event.audience,
                    )
                )
        for event in result.events:
            batch.append(
                CommittedEvent(
                    height, len(batch), None, event.type, dict(event.attributes), event.audience
                )
            )
        if not batch:
            return
        self.published.inc(len(batch))
        frozen = tuple(batch)
        with self._lock:
            subscribers = tuple(self._subscribers)
        for subscription in subscribers:
            if subscription._offer(frozen):
                self.cut_off.inc()
            if subscription._ended is not None:
                self._detach(subscription)

    def subscribe(
        self,
        after: Cursor | None = None,
        event_filter: EventFilter | None = None,
        viewer: Viewer | None = None,
        queue_limit: int = QUEUE_LIMIT,
    ) -> Subscription:
        """Follow events strictly after ``after`` (None: only those committed from now on).

        Raises ValueError if ``after`` is too far beyond the chain's height (see
        :meth:`check_cursor`) and RuntimeError once the bus is closed.
        """
        if self._closed:
            raise RuntimeError("the event bus is closed")
        if after is not None:
            self.check_cursor(after)
        subscription = Subscription(self, after, event_filter or EventFilter(), viewer, queue_limit)
        if after is None:
            self._attach(subscription)
        return subscription

    def check_cursor(self, after: Cursor) -> None:
        """Refuse a cursor from another chain (it would silently skip events); ValueError."""
        height = self.storage.reader().height()
        if after[0] > height + CURSOR_AHEAD_MAX:
            raise ValueError(f"cursor {after[0]}:{after[1]} is beyond the chain's height {height}")

    def read_after(self, cursor: Cursor, limit: int = PAGE) -> list[CommittedEvent]:
        """Stored events after ``cursor`` (this thread's read connection)."""
        rows = self.storage.reader().events_after(cursor[0], cursor[1], limit)
        return [CommittedEvent.from_row(row) for row in rows]

    def head(self) -> Cursor:
        """A cursor after every committed event: subscribe from here for "from now on"."""
        return (self.storage.reader().height(), END_OF_BLOCK)

    def _attach(self, subscription: Subscription) -> None:
        with self._lock:
            if subscription._ended is not None:
                return  # closed while it was still catching up (in a worker thread)
            if self._closed:
                subscription._end("bus_closed", "the node is stopping")
                return
            self._subscribers.add(subscription)
            self.subscribers_gauge.set(len(self._subscribers))

    def _detach(self, subscription: Subscription) -> None:
        with self._lock:
            self._subscribers.discard(subscription)
            self.subscribers_gauge.set(len(self._subscribers))

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def close(self) -> None:
        """End every subscription (reason ``bus_closed``); later subscribes are refused."""
        with self._lock:
            self._closed = True
            subscribers, self._subscribers = self._subscribers, set()
            self.subscribers_gauge.set(0)
        for subscription in subscribers:
            subscription._end("bus_closed", "the node is stopping")
