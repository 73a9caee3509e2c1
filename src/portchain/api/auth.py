"""Signing in, and who is asking: bearer tokens bound to a registered user key.

Routes (under /api/v1/auth):

- ``POST /challenge`` then ``POST /token``: a key session. The caller signs the
  challenge with its own key; the node never sees the private key.
- ``POST /login``: a password session for people (node/keystore.py); the node
  signs on the user's behalf (``POST /api/v1/actions/{module}/{verb}``).
- ``POST /logout`` ends the session; ``GET /session`` describes it.

Every other read route depends on :func:`get_viewer`, which accepts the session's
token only while the session is live *and* its key is active in committed state,
so revoking a key (or suspending its organisation) on the ledger locks it out at
the next request. Failed sign-ins are limited per account and per client (429).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Request, Response, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import HTTPConnection

from portchain.api.deps import get_node
from portchain.kernel.access import Viewer
from portchain.kernel.crypto import AUTH_DOMAIN, auth_message, verify
from portchain.kernel.tx import Tx, sign
from portchain.modules.membership import queries
from portchain.node.keystore import Keystore, WrongPassword
from portchain.node.node import Node
from portchain.node.sessions import (
    KEY_SESSION_TTL_S,
    PASSWORD_SESSION_TTL_S,
    Session,
    Sessions,
    SignInLimiter,
)

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
NodeDep = Annotated[Node, Depends(get_node)]

KEY_ID = r"^[0-9a-f]{40}$"


class Unauthorized(Exception):
    """401: no token, a token that is not (or no longer) live, or a wrong answer."""

    def __init__(self, detail: str, code: str = "unauthorized") -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code


class TooManySignIns(Exception):
    """429: too many failed sign-ins for this account or client."""

    def __init__(self, retry_after: float) -> None:
        super().__init__("too many failed sign-ins")
        self.retry_after = retry_after


class Forbidden(Exception):
    """403: signed in, but this way in cannot do that (a key session asking the node to sign)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class AuthState:
    """What the API keeps about sign-ins: sessions, the limiter and the keystore."""

    def __init__(
        self,
        node: Node,
        limiter: SignInLimiter | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.sessions = Sessions(clock)
        self.limiter = limiter or SignInLimiter()
        self.keystore = Keystore(node.home.keystore_path)


async def auth_state(connection: HTTPConnection) -> AuthState:
    state: AuthState = connection.app.state.auth
    return state


AuthDep = Annotated[AuthState, Depends(auth_state)]


def bearer_token(connection: HTTPConnection) -> str | None:
    """The token from ``Authorization: Bearer``, or ``access_token`` for event streams.

    Browsers cannot set headers on EventSource or WebSocket, so the stream routes
    also take the token as a query parameter.
    """
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    if connection.url.path.startswith("/api/v1/events/"):
        return connection.query_params.get("access_token") or None
    return None


def current_session(connection: HTTPConnection) -> tuple[str, Session, Viewer]:
    """The live session and the viewer it stands for, or :class:`Unauthorized`."""
    token = bearer_token(connection)
    if token is None:
        raise Unauthorized("sign in first: send 'Authorization: Bearer <token>'")
    auth: AuthState = connection.app.state.auth
    session = auth.sessions.get(token)
    if session is None:
        raise Unauthorized("the session has expired or was signed out", "session_expired")
    node: Node = connection.app.state.node
    viewer = queries.viewer(node.storage.reader(), session.key_id)
    if viewer is None:
        auth.sessions.close_key(session.key_id)
        raise Unauthorized(
            "the session's key is revoked or its organisation suspended", "key_inactive"
        )
    return token, session, viewer


BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="session",
    description="A session token from POST /api/v1/auth/token (a signed challenge) or "
    "POST /api/v1/auth/login (a password).",
)
"""Declares the bearer token in the OpenAPI document; :func:`current_session` checks it."""

Credentials = Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)]


def get_viewer(connection: HTTPConnection, credentials: Credentials = None) -> Viewer:
    """The organisation asking (FastAPI dependency of every read route)."""
    return current_session(connection)[2]


async def get_session(connection: HTTPConnection, credentials: Credentials = None) -> Session:
    return current_session(connection)[1]


ViewerDep = Annotated[Viewer, Depends(get_viewer)]
SessionDep = Annotated[Session, Depends(get_session)]


def _client(request: Request) -> str:
    return "client:" + (request.client.host if request.client else "unknown")


class ChallengeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key_id: str = Field(pattern=KEY_ID, description="The signing key's id (40 hex digits).")


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key_id: str = Field(pattern=KEY_ID)
    challenge: str = Field(min_length=1, max_length=128)
    signature: str = Field(
        pattern=r"^[0-9a-f]{128}$",
        description="Ed25519 signature (hex) of AUTH_DOMAIN || chain_id || 0x00 || challenge.",
    )


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


def _opened(token: str, session: Session, viewer: Viewer) -> dict[str, Any]:
    return {
        "token": token,
        "session": session.as_dict(),
        "viewer": {"org": viewer.org, "country": viewer.country, "roles": sorted(viewer.roles)},
    }


@router.post("/challenge", summary="A one-time challenge to sign with a user key")
def challenge(body: ChallengeRequest, node: NodeDep, auth: AuthDep) -> dict[str, Any]:
    value, expires = auth.sessions.challenge(body.key_id)
    return {
        "challenge": value,
        "chain_id": node.chain_id,
        "expires_at_ms": int(expires * 1000),
        "domain": AUTH_DOMAIN.decode().rstrip("\x00"),
    }


@router.post("/token", summary="Open a key session by answering a challenge")
def token(body: TokenRequest, request: Request, node: NodeDep, auth: AuthDep) -> dict[str, Any]:
    client = _client(request)
    wait = auth.limiter.retry_after(body.key_id, client)
    if wait:
        raise TooManySignIns(wait)
    reader = node.storage.reader()
    viewer = queries.viewer(reader, body.key_id)
    key = queries.key(reader, body.key_id)
    fresh = auth.sessions.take_challenge(body.key_id, body.challenge)
    valid = (
        fresh
        and key is not None
        and verify(
            bytes.fromhex(key["public_key"]),
            AUTH_DOMAIN,
            auth_message(node.chain_id, body.challenge),
            bytes.fromhex(body.signature),
        )
    )
    if not valid or viewer is None:
        auth.limiter.failed(body.key_id, client)
        raise Unauthorized(
            "the signature does not answer a live challenge for an active key", "bad_signature"
        )
    auth.limiter.succeeded(body.key_id)
    token_value, session = auth.sessions.open(body.key_id, viewer.org, "key", KEY_SESSION_TTL_S)
    return _opened(token_value, session, viewer)


@router.post("/login", summary="Open a password session (the node signs for the user)")
async def login(
    body: LoginRequest, request: Request, node: NodeDep, auth: AuthDep
) -> dict[str, Any]:
    client = _client(request)
    account = "user:" + body.username
    wait = auth.limiter.retry_after(account, client)
    if wait:
        raise TooManySignIns(wait)
    try:
        user, key = await run_in_threadpool(auth.keystore.unlock, body.username, body.password)
    except WrongPassword:
        auth.limiter.failed(account, client)
        raise Unauthorized("the user name or the password is wrong", "bad_password") from None
    viewer = queries.viewer(node.storage.reader(), user.key_id)
    if viewer is None:
        raise Unauthorized(
            "the user's key is revoked or its organisation suspended", "key_inactive"
        )
    auth.limiter.succeeded(account)
    token_value, session = auth.sessions.open(
        user.key_id, viewer.org, "password", PASSWORD_SESSION_TTL_S, user.username, key
    )
    return _opened(token_value, session, viewer)


@router.post("/logout", status_code=204, summary="End this session")
def logout(connection: Request, auth: AuthDep, credentials: Credentials = None) -> Response:
    token_value, _, _ = current_session(connection)
    auth.sessions.close(token_value)
    return Response(status_code=204)


@router.get("/session", summary="The current session and the organisation it reads as")
def session_info(connection: Request, credentials: Credentials = None) -> dict[str, Any]:
    _, session, viewer = current_session(connection)
    return {
        "session": session.as_dict(),
        "viewer": {"org": viewer.org, "country": viewer.country, "roles": sorted(viewer.roles)},
    }


actions = APIRouter(prefix="/api/v1/actions", tags=["auth"])

NAME = r"^[a-z][a-z0-9_]{0,39}$"


@actions.post(
    "/{module}/{verb}",
    summary="Have the node sign an action for the signed-in user (password sessions)",
    description="The node signs `module.verb` with the user's key from its keystore at the "
    "key's next sequence number and submits it; the answer is the transaction's outcome, as "
    "from POST /api/v1/txs. A key session signs its own transactions instead (403 here).",
)
async def act(
    module: Annotated[str, Path(pattern=NAME)],
    verb: Annotated[str, Path(pattern=NAME)],
    body: Annotated[dict[str, Any], Body(description="The action's body.")],
    session: SessionDep,
    node: NodeDep,
    wait: bool = True,
) -> dict[str, Any]:
    key = session.signing_key
    if key is None:
        raise Forbidden("a key session signs its own transactions: POST /api/v1/txs")

    def sign_and_submit() -> dict[str, Any]:
        # One action at a time per session, so each takes the next sequence number.
        with session.lock:
            seq = node.next_sequence(session.key_id)
            raw = sign(Tx(node.chain_id, session.key_id, seq, f"{module}.{verb}", body), key)
            return node.submit(raw, wait=wait)

    return await run_in_threadpool(sign_and_submit)
