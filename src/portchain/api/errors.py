"""Errors as RFC 9457 problem details (``application/problem+json``) with the stable code."""

from __future__ import annotations

import math
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from portchain.kernel.errors import MempoolFullError, PortchainError, TooLargeError

PROBLEM = "application/problem+json"


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


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
