"""A synchronous HTTP client for the node API (httpx)."""

from __future__ import annotations

import json
import time
from collections.abc import Generator
from types import TracebackType
from typing import Any

import httpx

from portchain.app.genesis import GenesisDoc
from portchain.app.proofs import ProofError as BundleError
from portchain.app.proofs import check_bundle
from portchain.kernel.crypto import SigningKey
from portchain.kernel.smt import Proof, verify_proof
from portchain.kernel.tx import Tx, sign
from portchain.sdk._sse import (
    END_OF_BLOCK,
    Filter,
    Follower,
    LedgerEvent,
    filter_params,
)
from portchain.sdk.auth import KeyAuth, TokenAuth
from portchain.sdk.errors import NodeError, ProofError

__all__ = ["Client", "NodeError"]


def problem_of(response: httpx.Response) -> NodeError:
    """The node's problem+json answer as an exception (the body must have been read)."""
    try:
        problem = response.json()
    except ValueError:
        problem = {"detail": response.text}
    return NodeError(response.status_code, problem)


class Client:
    def __init__(
        self,
        base_url: str,
        timeout: float = 60.0,
        *,
        key: SigningKey | None = None,
        token: str | None = None,
    ) -> None:
        """``key``: sign in with this user key (challenge and signature, done when needed);
        ``token``: a session token from an earlier sign-in."""
        auth: httpx.Auth | None = (
            KeyAuth(key) if key is not None else None if token is None else TokenAuth(token)
        )
        self._http = httpx.Client(base_url=base_url, timeout=timeout, auth=auth)
        self._timeout = timeout

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _json(self, response: httpx.Response) -> Any:
        if response.status_code >= 400:
            raise problem_of(response)
        return response.json()

    def status(self) -> dict[str, Any]:
        return self._json(self._http.get("/api/v1/status"))  # type: ignore[no-any-return]

    def chain_id(self) -> str:
        """The node's chain id (open: a client needs it to sign, before any sign-in)."""
        return str(self._json(self._http.get("/"))["chain_id"])

    def login(self, username: str, password: str) -> dict[str, Any]:
        """Open a password session; the node then signs :meth:`act` calls for this user."""
        opened = self._json(
            self._http.post("/api/v1/auth/login", json={"username": username, "password": password})
        )
        self._http.auth = TokenAuth(opened["token"])
        return opened  # type: ignore[no-any-return]

    def logout(self) -> None:
        """End the session on the node (a later request must sign in again)."""
        response = self._http.post("/api/v1/auth/logout")
        if response.status_code >= 400:
            raise problem_of(response)

    def session(self) -> dict[str, Any]:
        """The current session and the organisation it reads as."""
        return self._json(self._http.get("/api/v1/auth/session"))  # type: ignore[no-any-return]

    def act(self, action: str, body: dict[str, Any], wait: bool = True) -> dict[str, Any]:
        """Have the node sign ``action`` for the signed-in user (a password session)."""
        module, _, verb = action.partition(".")
        response = self._http.post(
            f"/api/v1/actions/{module}/{verb}", json=body, params={"wait": str(wait).lower()}
        )
        return self._json(response)  # type: ignore[no-any-return]

    def get(self, path: str, **params: Any) -> Any:
        """GET any route of the node's API (``/api/v1/...``) as JSON; errors raise NodeError."""
        return self._json(self._http.get(path, params=params or None))

    def get_bytes(self, path: str) -> bytes:
        """GET a route that answers raw bytes (a document's ciphertext)."""
        response = self._http.get(path)
        if response.status_code >= 400:
            raise problem_of(response)
        return response.content

    def next_sequence(self, key_id: str) -> int:
        return int(
            self._json(self._http.get(f"/api/v1/accounts/{key_id}/sequence"))["next_sequence"]
        )

    def submit(self, raw: bytes, wait: bool = True, timeout: float = 30.0) -> dict[str, Any]:
        response = self._http.post(
            "/api/v1/txs",
            content=raw,
            params={"wait": str(wait).lower(), "timeout": timeout},
            headers={"content-type": "application/json"},
        )
        return self._json(response)  # type: ignore[no-any-return]

    def send(
        self, key: SigningKey, action: str, body: dict[str, Any], wait: bool = True
    ) -> dict[str, Any]:
        """Sign ``action`` with ``key`` at its next sequence, submit it, wait for the outcome."""
        tx = Tx(self.chain_id(), key.key_id, self.next_sequence(key.key_id), action, body)
        return self.submit(sign(tx, key), wait=wait)

    def tx(self, tx_hash: str) -> dict[str, Any]:
        return self._json(self._http.get(f"/api/v1/txs/{tx_hash}"))  # type: ignore[no-any-return]

    def verified_state(
        self,
        key: str,
        *,
        genesis: GenesisDoc | None = None,
        trusted_app_hash: bytes | None = None,
    ) -> Any:
        """``key``'s value (None if absent), proven, without trusting this node.

        With ``genesis``: the proof bundle is checked offline against the genesis validators
        (more than 2/3 of the voting power signed the app hash the Merkle proof leads to).
        With ``trusted_app_hash``: the bundle must be at that app hash and the Merkle proof must
        lead to it. Raises :class:`ProofError` otherwise.
        """
        if genesis is None and trusted_app_hash is None:
            raise ValueError("give the genesis or a trusted app hash to verify against")
        bundle = self.state(key, prove=True)["proof_bundle"]
        if bundle.get("key") != key:
            raise ProofError(f"the node proved {bundle.get('key')!r}, not {key!r}")
        if genesis is not None:
            try:
                checked = check_bundle(bundle, genesis)
            except BundleError as exc:
                raise ProofError(str(exc)) from None
            app_hash = bytes.fromhex(checked["app_hash"])
        elif bundle.get("engine") == "cometbft":  # CometBFT's header carries the app hash
            app_hash = bytes.fromhex(bundle["header"]["app_hash"])
        else:
            app_hash = bytes.fromhex(bundle.get("commit", {}).get("app_hash", ""))
        if trusted_app_hash is not None and app_hash != trusted_app_hash:
            raise ProofError("the proof is not at the trusted app hash")
        value = None if bundle["value"] is None else bytes.fromhex(bundle["value"])
        if not verify_proof(app_hash, key.encode(), value, Proof.from_dict(bundle["proof"])):
            raise ProofError("the Merkle proof does not lead to the app hash")
        return None if value is None else json.loads(value)

    def state(self, key: str, prove: bool = False) -> dict[str, Any]:
        response = self._http.get(f"/api/v1/state/{key}", params={"prove": str(prove).lower()})
        return self._json(response)  # type: ignore[no-any-return]

    def events(
        self,
        after: tuple[int, int] | None = None,
        *,
        module: Filter = None,
        type: Filter = None,
        object: Filter = None,
        party: Filter = None,
        heartbeat: float = 15.0,
        max_retries: int = 5,
    ) -> Generator[LedgerEvent, None, None]:
        """Committed events after ``after`` (None: from now on), in order, each exactly once.

        Filters (each a value or a list) are those of ``GET /api/v1/events/stream``:
        ``module``, ``type``, ``object`` (``name:value``), ``party``. The iterator never
        ends by itself: break out of it (or close it) to stop. A dropped connection or
        a ``slow_consumer`` end is resumed from the last event received; after
        ``max_retries`` reconnections in a row without an event it raises
        :class:`StreamError`. A refused query raises :class:`NodeError`.
        """
        if after is None:
            after = (int(self.status()["height"]), END_OF_BLOCK)
        follower = Follower(after, filter_params(module, type, object, party), heartbeat)
        timeout = httpx.Timeout(self._timeout, read=heartbeat * 2 + 5)
        reason, detail = "disconnected", ""
        while True:
            try:
                with self._http.stream(
                    "GET",
                    "/api/v1/events/stream",
                    params=follower.params(),
                    headers={"accept": "text/event-stream"},
                    timeout=timeout,
                ) as response:
                    if response.status_code >= 400:
                        response.read()
                        error = problem_of(response)
                        if response.status_code < 500:
                            raise error
                        reason, detail = "unavailable", str(error)
                    else:
                        for text in response.iter_text():
                            yield from follower.feed_text(text)
                            if follower.ended is not None:
                                break
            except httpx.TransportError as exc:
                reason, detail = "disconnected", str(exc)
            time.sleep(follower.retry_after(reason, detail, max_retries))
