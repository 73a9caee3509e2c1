"""Signing in to a node, as an ``httpx.Auth`` so every request (and every retry) carries it.

:class:`KeyAuth` answers the node's sign-in challenge with the client's own key the
first time a request needs a session, and again whenever the node says the session
is over (401), then replays the request once. The private key never leaves the
process. :class:`TokenAuth` carries a token from a password sign-in.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncGenerator, Generator

import httpx

from portchain.kernel.crypto import AUTH_DOMAIN, SigningKey, auth_message


def _own(request: httpx.Request) -> bool:
    return request.url.path in ("/api/v1/auth/challenge", "/api/v1/auth/token")


class KeyAuth(httpx.Auth):
    """Only the sign-in's own answers are read whole here: the request being authenticated
    may be an endless event stream, whose body must stay unread."""

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        flow = self.auth_flow(request)
        outgoing = next(flow)
        while True:
            response = yield outgoing
            if _own(outgoing):
                response.read()
            try:
                outgoing = flow.send(response)
            except StopIteration:
                return

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        flow = self.auth_flow(request)
        outgoing = next(flow)
        while True:
            response = yield outgoing
            if _own(outgoing):
                await response.aread()
            try:
                outgoing = flow.send(response)
            except StopIteration:
                return

    def __init__(self, key: SigningKey) -> None:
        self.key = key
        self.token: str | None = None
        self._lock = threading.Lock()

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self.token is not None:
            request.headers["Authorization"] = f"Bearer {self.token}"
            response = yield request
            if response.status_code != 401:
                return
        challenge = yield httpx.Request(
            "POST",
            request.url.copy_with(path="/api/v1/auth/challenge", query=None),
            json={"key_id": self.key.key_id},
        )
        if challenge.status_code != 200:
            request.headers.pop("Authorization", None)
            yield request
            return
        answer = challenge.json()
        signature = self.key.sign(
            AUTH_DOMAIN, auth_message(answer["chain_id"], answer["challenge"])
        )
        opened = yield httpx.Request(
            "POST",
            request.url.copy_with(path="/api/v1/auth/token", query=None),
            json={
                "key_id": self.key.key_id,
                "challenge": answer["challenge"],
                "signature": signature.hex(),
            },
        )
        if opened.status_code == 200:
            with self._lock:
                self.token = str(opened.json()["token"])
            request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


class TokenAuth(httpx.Auth):
    """A bearer token (from :meth:`Client.login`)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self.token}"
        yield request
