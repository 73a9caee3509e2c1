"""Serve a node's real API with uvicorn on a free loopback port, in a background thread."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from portchain.api.server import serving
from portchain.kernel.crypto import AUTH_DOMAIN, SigningKey, auth_message
from portchain.node.node import Node


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(node: Node, **options: Any) -> Iterator[httpx.Client]:
    """The node's API on a free port, and a client of it; ``options`` go to ``create_app``."""
    with (
        serving(node, **options) as base_url,
        httpx.Client(base_url=base_url, timeout=30) as client,
    ):
        yield client


def sign_in(client: httpx.Client, key: SigningKey) -> str:
    """Open a key session for ``key`` (challenge, signature, token); later requests carry it."""
    challenge = client.post("/api/v1/auth/challenge", json={"key_id": key.key_id})
    challenge.raise_for_status()
    answer = challenge.json()
    signature = key.sign(AUTH_DOMAIN, auth_message(answer["chain_id"], answer["challenge"]))
    opened = client.post(
        "/api/v1/auth/token",
        json={"key_id": key.key_id, "challenge": answer["challenge"], "signature": signature.hex()},
    )
    opened.raise_for_status()
    token: str = opened.json()["token"]
    client.headers["Authorization"] = f"Bearer {token}"
    return token


@contextmanager
def client_as(base: httpx.Client, key: SigningKey) -> Iterator[httpx.Client]:
    """Another client on the same API, signed in with ``key`` (one per organisation)."""
    with httpx.Client(base_url=base.base_url, timeout=30) as client:
        sign_in(client, key)
        yield client
