"""Webhooks: an organisation's endpoint that receives committed events by HTTP POST.

Registrations live in a small SQLite file of this node (``webhooks.db`` beside the
chain database), not in the ledger's state: they are this node's delivery settings,
not facts every node must agree on. (Registering on-ledger, with authentication,
comes later; the table then becomes a cache of it.)

Delivery, per webhook, in one worker thread:

* the worker follows the event bus from the webhook's cursor with its filters and
  the organisation as viewer, so access rules apply as for any subscriber;
* events go out in batches of at most ``max_batch``, signed (see
  :mod:`portchain.sdk.webhooks`: HMAC-SHA256 over timestamp and body);
* a 2xx answer is success; anything else, a timeout or a refused connection is
  retried with exponential backoff up to ``RetryPolicy.max_attempts``; then the
  webhook is suspended (nothing skipped) until someone resumes it;
* the cursor is saved after each success, so a restarted node resumes where it
  stopped: at least once, never a gap (a crash between the POST and the save
  repeats that batch; receivers remove duplicates by event id);
* every attempt is written to the delivery log.
"""

from __future__ import annotations

import json
import logging
import random
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from portchain import __version__
from portchain.kernel.access import Viewer
from portchain.node.events import (
    CommittedEvent,
    Cursor,
    EventBus,
    EventFilter,
    StreamEnded,
    Subscription,
)
from portchain.sdk.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature

log = logging.getLogger(__name__)

URL_MAX = 2048
SECRET_MIN, SECRET_MAX = 16, 256
WEBHOOKS_PER_ORG = 20
"""Registrations one organisation may hold on this node."""
LOG_KEEP = 1000
"""Delivery attempts kept per webhook; older ones are pruned."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS webhooks (
    id TEXT PRIMARY KEY,
    org TEXT NOT NULL,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    filters TEXT NOT NULL,          -- EventFilter.as_dict() as JSON
    after_height INTEGER NOT NULL,  -- cursor: every event up to here is delivered or filtered out
    after_index INTEGER NOT NULL,
    status TEXT NOT NULL,           -- active | suspended
    last_error TEXT,
    created_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS webhooks_by_org ON webhooks (org);
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook TEXT NOT NULL,
    delivery TEXT NOT NULL,         -- one batch of events; its attempts share this id
    attempt INTEGER NOT NULL,
    first_event TEXT NOT NULL,
    last_event TEXT NOT NULL,
    events INTEGER NOT NULL,
    outcome TEXT NOT NULL,          -- delivered | failed (will retry) | gave_up
    status_code INTEGER,
    error TEXT,
    at_ms INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS deliveries_by_webhook ON deliveries (webhook, id);
"""


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff between attempts of one delivery, bounded in count."""

    max_attempts: int = 8
    first_delay: float = 0.5
    """Seconds before the second attempt; each later wait doubles, up to ``max_delay``."""
    max_delay: float = 30.0
    jitter: float = 0.1
    """Up to this fraction added at random, so failed receivers are not hit in lockstep."""

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        base = min(self.max_delay, self.first_delay * 2.0 ** (attempt - 1))
        return base * (1 + random.uniform(0, self.jitter))


@dataclass(frozen=True)
class Webhook:
    id: str
    org: str
    url: str
    filter: EventFilter
    cursor: Cursor
    status: str
    last_error: str | None
    created_ms: int

    def as_dict(self) -> dict[str, Any]:
        """The public view: everything but the secret."""
        return {
            "id": self.id,
            "org": self.org,
            "url": self.url,
            "filters": self.filter.as_dict(),
            "cursor": {"height": self.cursor[0], "index": self.cursor[1]},
            "status": self.status,
            "last_error": self.last_error,
            "created_ms": self.created_ms,
        }


def check_url(url: str) -> str:
    """``url`` if it is an http(s) URL with a host and no credentials; ValueError otherwise."""
    if len(url) > URL_MAX:
        raise ValueError(f"a webhook URL is at most {URL_MAX} characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ValueError("a webhook URL must be http or https")
    if not parts.hostname:
        raise ValueError("a webhook URL must name a host")
    if parts.username or parts.password:
        raise ValueError("a webhook URL must not carry credentials; the secret signs deliveries")
    return url


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class WebhookStore:
    """The node-local tables; one connection shared under a lock (traffic is light)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self._inserts = 0

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._conn

    @staticmethod
    def _webhook(row: tuple[Any, ...]) -> Webhook:
        event_filter = EventFilter.of(**json.loads(row[3]))
        cursor = (row[4], row[5])
        return Webhook(row[0], row[1], row[2], event_filter, cursor, row[6], row[7], row[8])

    _COLUMNS = "id, org, url, filters, after_height, after_index, status, last_error, created_ms"

    def add(
        self, org: str, url: str, secret: str, event_filter: EventFilter, cursor: Cursor
    ) -> Webhook:
        hook = Webhook(
            "wh_" + secrets.token_hex(8), org, url, event_filter, cursor, "active", None, _now_ms()
        )
        row = (hook.id, org, url, secret, json.dumps(event_filter.as_dict()), *cursor)
        with self._db() as db:
            count = db.execute("SELECT COUNT(*) FROM webhooks WHERE org = ?", (org,)).fetchone()[0]
            if count >= WEBHOOKS_PER_ORG:
                raise ValueError(f"{org} already has {WEBHOOKS_PER_ORG} webhooks on this node")
            db.execute(
                "INSERT INTO webhooks (id, org, url, secret, filters, after_height, after_index,"
                " status, last_error, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*row, hook.status, None, hook.created_ms),
            )
        return hook

    def get(self, webhook_id: str) -> Webhook | None:
        with self._db() as db:
            row = db.execute(
                f"SELECT {self._COLUMNS} FROM webhooks WHERE id = ?", (webhook_id,)
            ).fetchone()
        return None if row is None else self._webhook(row)

    def secret(self, webhook_id: str) -> str:
        with self._db() as db:
            row = db.execute("SELECT secret FROM webhooks WHERE id = ?", (webhook_id,)).fetchone()
        return "" if row is None else str(row[0])

    def find(self, org: str | None = None) -> list[Webhook]:
        with self._db() as db:
            if org is None:
                rows = db.execute(f"SELECT {self._COLUMNS} FROM webhooks ORDER BY created_ms, id")
            else:
                rows = db.execute(
                    f"SELECT {self._COLUMNS} FROM webhooks WHERE org = ? ORDER BY created_ms, id",
                    (org,),
                )
            return [self._webhook(row) for row in rows.fetchall()]

    def delete(self, webhook_id: str) -> bool:
        with self._db() as db:
            gone = db.execute("DELETE FROM webhooks WHERE id = ?", (webhook_id,)).rowcount
            db.execute("DELETE FROM deliveries WHERE webhook = ?", (webhook_id,))
        return bool(gone)

    def save_cursor(self, webhook_id: str, cursor: Cursor) -> None:
        with self._db() as db:
            db.execute(
                "UPDATE webhooks SET after_height = ?, after_index = ? WHERE id = ?",
                (*cursor, webhook_id),
            )

    def set_status(self, webhook_id: str, status: str, error: str | None) -> None:
        with self._db() as db:
            db.execute(
                "UPDATE webhooks SET status = ?, last_error = ? WHERE id = ?",
                (status, error, webhook_id),
            )

    def log_attempt(self, webhook_id: str, attempt: tuple[Any, ...]) -> None:
        """Record one attempt: (delivery, attempt, first_event, last_event, events, outcome,
        status_code, error, duration_ms)."""
        with self._db() as db:
            db.execute(
                "INSERT INTO deliveries (webhook, delivery, attempt, first_event, last_event,"
                " events, outcome, status_code, error, duration_ms, at_ms)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (webhook_id, *attempt, _now_ms()),
            )
            self._inserts += 1
            if self._inserts % 100 == 0:
                db.execute(
                    "DELETE FROM deliveries WHERE webhook = ? AND id <= (SELECT id FROM deliveries"
                    " WHERE webhook = ? ORDER BY id DESC LIMIT 1 OFFSET ?)",
                    (webhook_id, webhook_id, LOG_KEEP),
                )

    def deliveries(self, webhook_id: str, before: int | None, limit: int) -> list[dict[str, Any]]:
        """Attempts, newest first; ``before`` pages back by attempt id."""
        with self._db() as db:
            rows = db.execute(
                "SELECT id, delivery, attempt, first_event, last_event, events, outcome,"
                " status_code, error, at_ms, duration_ms FROM deliveries"
                " WHERE webhook = ? AND id < ? ORDER BY id DESC LIMIT ?",
                (webhook_id, 2**62 if before is None else before, limit),
            ).fetchall()
        names = (
            "id",
            "delivery",
            "attempt",
            "first_event",
            "last_event",
            "events",
            "outcome",
            "status_code",
            "error",
            "at_ms",
            "duration_ms",
        )
        return [dict(zip(names, row, strict=True)) for row in rows]

    def close(self) -> None:
        with self._db() as db:
            db.close()


class _Worker:
    """Delivers one webhook's events, in order, on its own thread."""

    def __init__(self, service: WebhookService, hook: Webhook) -> None:
        self.hook = hook
        self._service = service
        self._stop = threading.Event()
        self._subscription: Subscription | None = None
        self._thread = threading.Thread(target=self._run, name=f"webhook-{hook.id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, wait: bool = True) -> None:
        self._stop.set()
        if wait and self._thread is not threading.current_thread():
            self._thread.join(timeout=15)

    def _run(self) -> None:
        try:
            self._follow()
        except Exception:  # a worker must not die silently: say so and suspend
            log.exception("webhook %s stopped", self.hook.id)
            self._service.store.set_status(
                self.hook.id, "suspended", "internal error; see node log"
            )
        finally:
            if self._subscription is not None:
                self._subscription.close()

    def _follow(self) -> None:
        service, hook = self._service, self.hook
        cursor = hook.cursor
        saved_at = time.monotonic()
        with httpx.Client(
            timeout=service.http_timeout, follow_redirects=False, trust_env=False
        ) as http:
            while not self._stop.is_set():
                if self._subscription is None:
                    viewer = service.viewer_of(hook.org)
                    if viewer is None:
                        service.store.set_status(
                            hook.id, "suspended", f"{hook.org} is not an active member"
                        )
                        return
                    try:
                        self._subscription = service.bus.subscribe(cursor, hook.filter, viewer)
                    except ValueError as exc:  # the cursor is beyond this chain: a reset node
                        service.store.set_status(hook.id, "suspended", str(exc))
                        return
                    except RuntimeError:  # the bus is closed: the node is stopping
                        return
                subscription = self._subscription
                try:
                    events = subscription.get(timeout=0.5)
                except StreamEnded as end:
                    self._subscription = None
                    if end.reason == "bus_closed":
                        return
                    continue  # resubscribe from ``cursor``: nothing taken was lost
                taken = subscription.cursor
                for start in range(0, len(events), service.max_batch):
                    batch = events[start : start + service.max_batch]
                    if not self._deliver(http, batch):
                        return
                    cursor = batch[-1].cursor
                    service.store.save_cursor(hook.id, cursor)
                    saved_at = time.monotonic()
                if taken is not None and taken != cursor:
                    cursor = taken  # also past the events the filters left out
                    if time.monotonic() - saved_at > 1.0:
                        service.store.save_cursor(hook.id, cursor)
                        saved_at = time.monotonic()
            service.store.save_cursor(hook.id, cursor)

    def _pause_feed(self) -> None:
        """While the receiver fails, hold no live queue: catch up from storage afterwards."""
        if self._subscription is not None:
            self._subscription.close()
            self._subscription = None

    def _deliver(self, http: httpx.Client, events: list[CommittedEvent]) -> bool:
        """POST ``events`` until a 2xx answer; False if it gave up or the worker is stopping."""
        service, hook = self._service, self.hook
        delivery = "dl_" + secrets.token_hex(8)
        body = json.dumps(
            {"webhook": hook.id, "delivery": delivery, "events": [e.as_dict() for e in events]},
            separators=(",", ":"),
        ).encode()
        secret = service.store.secret(hook.id)
        policy = service.retry
        for attempt in range(1, policy.max_attempts + 1):
            timestamp = str(int(time.time()))
            headers = {
                "content-type": "application/json",
                "user-agent": f"portchain-webhooks/{__version__}",
                "x-portchain-webhook": hook.id,
                "x-portchain-delivery": delivery,
                "x-portchain-attempt": str(attempt),
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: signature(secret, timestamp, body),
            }
            started = time.perf_counter()
            status: int | None = None
            try:
                # Streamed so the answer's body is never read: a receiver cannot flood the node.
                with http.stream("POST", hook.url, content=body, headers=headers) as response:
                    status = response.status_code
                error = None if 200 <= status < 300 else f"HTTP {status}"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"[:300]
            duration = int((time.perf_counter() - started) * 1000)
            last = attempt == policy.max_attempts
            outcome = "delivered" if error is None else ("gave_up" if last else "failed")
            span = (events[0].id, events[-1].id, len(events))
            record = (delivery, attempt, *span, outcome, status, error, duration)
            service.store.log_attempt(hook.id, record)
            if error is None:
                return True
            if last:
                service.store.set_status(
                    hook.id, "suspended", f"gave up after {attempt} attempts: {error}"
                )
                return False
            self._pause_feed()
            if self._stop.wait(policy.delay(attempt)):
                return False
        return False


class WebhookService:
    """Registrations plus one delivery worker per active webhook."""

    def __init__(
        self,
        path: Path,
        bus: EventBus,
        retry: RetryPolicy | None = None,
        http_timeout: float = 10.0,
        max_batch: int = 100,
        viewer_of: Callable[[str], Viewer | None] | None = None,
    ) -> None:
        self.store = WebhookStore(path)
        self.bus = bus
        self.viewer_of = viewer_of or (lambda org: None)
        """The organisation as a reader (None once it is no longer an active member)."""
        self.retry = retry or RetryPolicy()
        self.http_timeout = http_timeout
        self.max_batch = max_batch
        self._workers: dict[str, _Worker] = {}
        self._lock = threading.Lock()

    def start(self) -> None:
        """Resume every active webhook from its saved cursor."""
        for hook in self.store.find():
            if hook.status == "active":
                self._spawn(hook)

    def stop(self) -> None:
        with self._lock:
            workers, self._workers = list(self._workers.values()), {}
        for worker in workers:
            worker.stop(wait=False)
        for worker in workers:
            worker.stop()
        self.store.close()

    def _spawn(self, hook: Webhook) -> None:
        worker = _Worker(self, hook)
        with self._lock:
            old = self._workers.pop(hook.id, None)
            self._workers[hook.id] = worker
        if old is not None:
            old.stop()
        worker.start()

    def register(
        self,
        org: str,
        url: str,
        event_filter: EventFilter,
        secret: str | None = None,
        after: Cursor | None = None,
    ) -> tuple[Webhook, str]:
        """Add a webhook and start delivering; returns it with its secret (shown this once).

        ``after`` None means from the next block on. Raises ValueError for a bad URL,
        secret or cursor, or when the organisation has too many webhooks.
        """
        check_url(url)
        if secret is None:
            secret = secrets.token_urlsafe(32)
        elif not SECRET_MIN <= len(secret) <= SECRET_MAX:
            raise ValueError(f"a webhook secret is {SECRET_MIN} to {SECRET_MAX} characters")
        if after is not None:
            self.bus.check_cursor(after)
        hook = self.store.add(org, url, secret, event_filter, after or self.bus.head())
        self._spawn(hook)
        return hook, secret

    def get(self, webhook_id: str) -> Webhook | None:
        return self.store.get(webhook_id)

    def find(self, org: str | None = None) -> list[Webhook]:
        """Every webhook, or those of ``org``, oldest first."""
        return self.store.find(org)

    def delete(self, webhook_id: str) -> bool:
        with self._lock:
            worker = self._workers.pop(webhook_id, None)
        if worker is not None:
            worker.stop()
        return self.store.delete(webhook_id)

    def resume(self, webhook_id: str) -> Webhook | None:
        """Restart a suspended webhook from its cursor (the batch it gave up on comes first)."""
        hook = self.store.get(webhook_id)
        if hook is None:
            return None
        self.store.set_status(webhook_id, "active", None)
        hook = self.store.get(webhook_id)
        assert hook is not None
        self._spawn(hook)
        return hook

    def deliveries(
        self, webhook_id: str, before: int | None = None, limit: int = 50
    ) -> list[dict[str, Any]]:
        return self.store.deliveries(webhook_id, before, limit)
