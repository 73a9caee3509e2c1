"""ASGI middleware of the API: request ids, body size limits, request rate limits.

Pure ASGI (not ``BaseHTTPMiddleware``) so that event streams pass through untouched
and a body is counted as it arrives, not after it was read whole.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


@dataclass(frozen=True)
class Limits:
    """The API's limits; ``portchain up`` takes them from its options."""

    body_bytes: int = 4 * 1024 * 1024
    """Largest request body, except the batch submission (413 above it)."""
    batch_body_bytes: int = 80 * 1024 * 1024
    """Largest body of POST /api/v1/txs/batch (which also caps its number of lines)."""
    requests_per_second: float = 500.0
    """Sustained requests per client (a session's token, or else an address)."""
    burst: int = 1000
    """Requests a client may make at once before the rate applies (429 beyond)."""


async def _problem(
    send: Send, status: int, title: str, detail: str, headers: list[tuple[bytes, bytes]]
) -> None:
    body = json.dumps(
        {"type": "about:blank", "title": title, "status": status, "detail": detail}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class Guard:
    """Request ids on every answer, then the rate limit, then the body size limit."""

    def __init__(self, app: ASGIApp, limits: Limits | None = None) -> None:
        self.app = app
        self.limits = limits or Limits()
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def _client(self, scope: Scope) -> str:
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                return "t:" + hashlib.sha256(value).hexdigest()[:32]
        client = scope.get("client")
        return "a:" + (client[0] if client else "unknown")

    def _wait(self, client: str) -> float:
        """0 if ``client`` may go on now, else seconds until it may (token bucket)."""
        rate, burst = self.limits.requests_per_second, float(self.limits.burst)
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(client, (burst, now))
            tokens = min(burst, tokens + (now - last) * rate)
            if tokens < 1.0:
                self._buckets[client] = (tokens, now)
                return (1.0 - tokens) / rate
            if len(self._buckets) > 100_000:
                self._buckets.clear()
            self._buckets[client] = (tokens - 1.0, now)
        return 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = ""
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                candidate = value.decode("latin-1")
                if REQUEST_ID.fullmatch(candidate):
                    request_id = candidate
                break
        request_id = request_id or uuid.uuid4().hex
        id_header = (b"x-request-id", request_id.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), id_header]}
            await send(message)

        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        wait = self._wait(self._client(scope))
        if wait:
            retry = str(max(1, int(wait + 0.999))).encode()
            await _problem(
                send_with_id,
                429,
                "too_many_requests",
                "request rate limit reached; slow down",
                [(b"retry-after", retry)],
            )
            return
        path: str = scope.get("path", "")
        limit = (
            self.limits.batch_body_bytes if path == "/api/v1/txs/batch" else self.limits.body_bytes
        )
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await _problem(
                    send_with_id, 413, "too_large", f"a request body is at most {limit} bytes", []
                )
                return
        seen = 0
        answered = False

        async def counted_receive() -> Message:
            # Past the limit: answer 413 ourselves and tell the app the client has gone, so
            # whatever the app was parsing, nothing of the body reaches a handler.
            nonlocal seen, answered
            if answered:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    answered = True
                    await _problem(
                        send_with_id,
                        413,
                        "too_large",
                        f"a request body is at most {limit} bytes",
                        [],
                    )
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not answered:
                await send_with_id(message)

        await self.app(scope, counted_receive, guarded_send)
