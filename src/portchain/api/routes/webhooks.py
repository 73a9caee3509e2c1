"""Webhook registrations and their delivery log (node-local, see :mod:`portchain.node.webhooks`).

A webhook belongs to the signed-in caller's organisation, receives only the events
that organisation may see, and is visible (listed, read, removed, resumed) to that
organisation alone; another's webhook is answered as missing. The delivery workers
run for the life of the API (this router's lifespan), so a restarted node resumes
every webhook from its saved cursor.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field

from portchain.api.auth import ViewerDep
from portchain.api.deps import MAX_INT
from portchain.api.errors import Conflict, NotFound
from portchain.kernel.access import Viewer
from portchain.modules.membership import queries
from portchain.node.events import (
    END_OF_BLOCK,
    FILTER_VALUE_CHARS,
    FILTER_VALUES_MAX,
    EventFilter,
)
from portchain.node.node import Node
from portchain.node.webhooks import SECRET_MAX, SECRET_MIN, URL_MAX, WebhookService, check_url

WEBHOOKS_FILE = "webhooks.db"
"""The node-local registrations, beside the chain database (never in consensus state)."""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start every active webhook's worker with the API; stop them when it stops."""
    node: Node = app.state.node
    reader = node.storage.reader

    def viewer_of(org: str) -> Viewer | None:
        found = queries.organisation(reader(), org)
        if found is None or found["status"] != "active":
            return None
        return Viewer(org, found["country"], frozenset(found["roles"]))

    service = WebhookService(
        node.home.db_path.with_name(WEBHOOKS_FILE), node.events, viewer_of=viewer_of
    )
    await run_in_threadpool(service.start)
    app.state.webhooks = service
    try:
        yield
    finally:
        await run_in_threadpool(service.stop)
        del app.state.webhooks


router = APIRouter(prefix="/webhooks", tags=["webhooks"], lifespan=lifespan)


async def get_webhooks(request: Request) -> WebhookService:
    service: WebhookService | None = getattr(request.app.state, "webhooks", None)
    if service is None:
        raise HTTPException(503, "webhooks are not running (the API is starting or stopping)")
    return service


ServiceDep = Annotated[WebhookService, Depends(get_webhooks)]
ModuleName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
EventType = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}\.[a-z][a-z0-9_]{0,79}$")]
FilterValue = Annotated[str, Field(min_length=1, max_length=FILTER_VALUE_CHARS)]


class FiltersIn(BaseModel):
    """Which events to deliver; empty lists mean no restriction (see the events stream)."""

    model_config = ConfigDict(extra="forbid")
    modules: Annotated[list[ModuleName], Field(max_length=FILTER_VALUES_MAX)] = []
    types: Annotated[list[EventType], Field(max_length=FILTER_VALUES_MAX)] = []
    objects: Annotated[list[FilterValue], Field(max_length=FILTER_VALUES_MAX)] = []
    parties: Annotated[list[FilterValue], Field(max_length=FILTER_VALUES_MAX)] = []


class CursorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    height: int = Field(ge=0, le=MAX_INT)
    index: int = Field(ge=-1, le=END_OF_BLOCK)


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(
        max_length=URL_MAX,
        pattern=r"^https?://[A-Za-z0-9][A-Za-z0-9.\-]{0,252}(:[0-9]{1,5})?(/[!-~]*)?$",
        description="http(s) URL that receives POSTs: a host name or IPv4 address, an "
        "optional port and path, no credentials.",
    )
    secret: str | None = Field(
        None,
        min_length=SECRET_MIN,
        max_length=SECRET_MAX,
        description="HMAC key for the signatures; the node makes one if omitted.",
    )
    filters: FiltersIn = FiltersIn()
    after: CursorIn | None = Field(
        None, description="Deliver events after this cursor; omitted: from the next block on."
    )


def _bad(field: str, message: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("body", field), "msg": message, "type": "value_error"}])


def _found(service: WebhookService, webhook_id: str, viewer: Viewer) -> dict[str, Any]:
    hook = service.get(webhook_id)
    if hook is None or hook.org != viewer.org:
        raise NotFound(f"webhook {webhook_id[:40]!r}")
    return hook.as_dict()


@router.post(
    "",
    status_code=201,
    summary="Register a webhook",
    description="Deliveries are POSTed as JSON `{webhook, delivery, events: [...]}` with "
    "`X-Portchain-Timestamp` and `X-Portchain-Signature: sha256=HMAC(secret, timestamp.body)`, "
    "at least once, retried with exponential backoff; the answer holds the secret, shown once.",
)
def register_webhook(body: WebhookIn, viewer: ViewerDep, service: ServiceDep) -> dict[str, Any]:
    try:
        event_filter = EventFilter.of(**body.filters.model_dump())
    except ValueError as exc:
        raise _bad("filters", str(exc)) from None
    try:
        check_url(body.url)
    except ValueError as exc:
        raise _bad("url", str(exc)) from None
    after = None if body.after is None else (body.after.height, body.after.index)
    try:
        hook, secret = service.register(viewer.org, body.url, event_filter, body.secret, after)
    except ValueError as exc:  # a cursor beyond the chain, or too many webhooks: the state's
        raise Conflict(str(exc), "after" if after else "url") from None
    return {**hook.as_dict(), "secret": secret}


@router.get("", summary="The caller's organisation's webhooks, oldest first")
def list_webhooks(service: ServiceDep, viewer: ViewerDep) -> dict[str, Any]:
    return {"webhooks": [hook.as_dict() for hook in service.find(viewer.org)]}


@router.get("/{webhook_id}", summary="One webhook, with its cursor and status")
def get_webhook(webhook_id: str, service: ServiceDep, viewer: ViewerDep) -> dict[str, Any]:
    return _found(service, webhook_id, viewer)


@router.delete("/{webhook_id}", status_code=204, summary="Remove a webhook and its log")
def delete_webhook(webhook_id: str, service: ServiceDep, viewer: ViewerDep) -> Response:
    _found(service, webhook_id, viewer)
    if not service.delete(webhook_id):
        raise NotFound(f"webhook {webhook_id[:40]!r}")
    return Response(status_code=204)


@router.post(
    "/{webhook_id}/resume",
    summary="Resume a suspended webhook",
    description="Delivery restarts from the webhook's cursor: the batch it gave up on comes first.",
)
def resume_webhook(webhook_id: str, service: ServiceDep, viewer: ViewerDep) -> dict[str, Any]:
    _found(service, webhook_id, viewer)
    hook = service.resume(webhook_id)
    if hook is None:
        raise NotFound(f"webhook {webhook_id[:40]!r}")
    return hook.as_dict()


@router.get(
    "/{webhook_id}/deliveries",
    summary="The delivery log: every attempt, newest first",
    description="Each attempt names its delivery (a batch), attempt number, events covered, "
    "outcome (delivered, failed and to be retried, gave_up), HTTP status or error, and timing.",
)
def list_deliveries(
    webhook_id: str,
    service: ServiceDep,
    viewer: ViewerDep,
    before: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    _found(service, webhook_id, viewer)
    rows = service.deliveries(webhook_id, before, limit)
    return {"deliveries": rows, "next": rows[-1]["id"] if len(rows) == limit else None}
