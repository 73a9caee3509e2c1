"""Errors as RFC 9457 problem details (``application/problem+json``) with the stable code."""

from __future__ import annotations

import math
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from portchain.kernel.errors import MempoolFullError, PortchainError, TooLargeError

PROBLEM = "application/problem+json"


class Problem(BaseModel):
    """An error, as RFC 9457 problem details; ledger refusals add their stable code."""

    model_config = ConfigDict(extra="allow")
    type: str = "about:blank"
    title: str
    status: int
    detail: str
    codespace: str | None = None
    code: int | str | None = None
    field: str | None = None


def _problem_response(description: str) -> dict[str, Any]:
    return {"description": description, "model": Problem, "content": {PROBLEM: {}}}


COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _problem_response("Malformed input: the field and the rule it breaks"),
    401: _problem_response("No live session, or the session's key is no longer active"),
    403: _problem_response("Signed in, but this way in cannot do that"),
    404: _problem_response("Not found, or not visible to the caller's organisation"),
    409: _problem_response("Well-formed, but the node's current state rules it out"),
    413: _problem_response("The request body is too large"),
    422: _problem_response("Well-formed but refused by the ledger's rules (stable code)"),
    429: _problem_response("Too many requests, sign-ins or streams (see Retry-After)"),
    503: _problem_response("The node cannot take it now (mempool full, starting, stopping)"),
}
"""Every error any route may answer, declared once for the whole OpenAPI document."""


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


class Conflict(Exception):
    """409: well-formed, but the node's current state rules it out (``field`` at fault)."""

    def __init__(self, detail: str, field: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


async def on_conflict(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Conflict)
    return problem(409, "conflict", exc.detail, field=exc.field)


class NotFound(Exception):
    def __init__(self, what: str) -> None:
        self.what = what


def status_for(exc: PortchainError) -> int:
    if isinstance(exc, MempoolFullError):
        return 503
    if isinstance(exc, TooLargeError):
        return 413
    return 400 if exc.codespace == "tx" and exc.code in (1, 2, 9) else 422


async def on_portchain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PortchainError)
    return problem(status_for(exc), exc.name, exc.describe(), **exc.as_dict())


async def on_not_found(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, NotFound)
    return problem(404, "not_found", f"{exc.what} was not found")


async def on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ()))
    return problem(400, "invalid_request", f"{where}: {first.get('msg')}", field=where)


async def on_unauthorized(request: Request, exc: Exception) -> JSONResponse:
    response = problem(401, "unauthorized", str(exc), code=getattr(exc, "code", "unauthorized"))
    response.headers["WWW-Authenticate"] = 'Bearer realm="portchain"'
    return response


async def on_forbidden(request: Request, exc: Exception) -> JSONResponse:
    return problem(403, "forbidden", str(exc))


async def on_too_many_sign_ins(request: Request, exc: Exception) -> JSONResponse:
    retry_after = max(1, math.ceil(getattr(exc, "retry_after", 1)))
    response = problem(
        429, "too_many_sign_ins", f"too many failed sign-ins; try again in {retry_after} s"
    )
    response.headers["Retry-After"] = str(retry_after)
    return response


async def on_too_many_streams(request: Request, exc: Exception) -> JSONResponse:
    response = problem(429, "too_many_streams", str(exc))
    response.headers["Retry-After"] = "5"
    return response
