"""The node's HTTP API: FastAPI, versioned under /api/v1, problem+json errors, Prometheus metrics.

Each module contributes a router; the API never changes state itself, it
submits signed transactions and reads.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI, Response
from fastapi.exceptions import RequestValidationError
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from portchain import __version__
from portchain.api import auth, errors
from portchain.api.access import ReadRules
from portchain.api.middleware import Guard, Limits
from portchain.api.routes import (
    chain,
    documents,
    ebl,
    events,
    logistics,
    membership,
    port,
    trade,
)
from portchain.kernel.errors import PortchainError
from portchain.node.node import Node


def create_app(
    node: Node, limits: Limits | None = None, clock: Callable[[], float] = time.time
) -> FastAPI:
    """The API of ``node``; ``clock`` (wall time, seconds) dates sessions and their expiry."""
    app = FastAPI(
        title="portchain node API",
        version=__version__,
        description="Submit signed transactions and read the ledger of a portchain node. "
        "Sign in first (POST /api/v1/auth/challenge then /api/v1/auth/token, or "
        "/api/v1/auth/login); every read then carries `Authorization: Bearer <token>` and "
        "shows only what the caller's organisation may see.",
        responses=errors.COMMON_RESPONSES,
    )
    app.state.node = node
    app.add_middleware(Guard, limits=limits or Limits())
    app.state.auth = auth.AuthState(node, clock=clock)
    app.state.rules = ReadRules(node)
    app.state.streams = events.StreamCounter()
    app.add_exception_handler(PortchainError, errors.on_portchain_error)
    app.add_exception_handler(errors.NotFound, errors.on_not_found)
    app.add_exception_handler(errors.Conflict, errors.on_conflict)
    app.add_exception_handler(RequestValidationError, errors.on_validation)
    app.add_exception_handler(auth.Unauthorized, errors.on_unauthorized)
    app.add_exception_handler(auth.Forbidden, errors.on_forbidden)
    app.add_exception_handler(auth.TooManySignIns, errors.on_too_many_sign_ins)
    app.add_exception_handler(events.TooManyStreams, errors.on_too_many_streams)
    app.include_router(auth.router)
    app.include_router(auth.actions)
    app.include_router(chain.router)
    app.include_router(membership.router)
    app.include_router(trade.router)
    app.include_router(logistics.router)
    app.include_router(port.router)
    app.include_router(documents.router)
    app.include_router(ebl.router)
    app.include_router(events.router)

    @app.get(
        "/healthz",
        tags=["node"],
        summary="Liveness: the block loop is running",
        responses={
            200: {"description": "Running", "content": {"application/json": {}}},
            503: {"description": "Failing", "content": {"application/json": {}}},
        },
    )
    def healthz() -> Response:
        ok = node.engine.running and node.engine.failure is None
        return Response(
            '{"status":"ok"}' if ok else '{"status":"failing"}',
            status_code=200 if ok else 503,
            media_type="application/json",
        )

    @app.get(
        "/metrics",
        tags=["node"],
        summary="Prometheus metrics",
        responses={
            200: {
                "description": "Metrics in Prometheus' text format",
                "content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}},
            }
        },
    )
    def metrics() -> Response:
        node.metrics.mempool.set(node.engine.mempool_size)
        return Response(generate_latest(node.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/", include_in_schema=False)
    def root() -> dict[str, Any]:
        return {
            "name": "portchain",
            "version": __version__,
            "chain_id": node.chain_id,
            "api": "/api/v1",
            "docs": "/docs",
            "sign_in": "/api/v1/auth/challenge",
        }

    return app


@contextmanager
def serving(node: Node, **options: Any) -> Iterator[str]:
    """The node's API served by uvicorn on a free loopback port in a background thread (for
    benchmarks and tests); yields its base URL and stops the server on leaving.
    ``options`` go to :func:`create_app` (limits, clock)."""
    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    config = uvicorn.Config(
        create_app(node, **options),
        host="127.0.0.1",
        port=port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=3,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the API did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)
