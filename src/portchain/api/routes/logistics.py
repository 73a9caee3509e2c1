"""Logistics reads: vessels and calls (public to members), bookings, manifests, containers.

A booking is answered to its parties only, a call's manifest to its carrier and the customs
of the call's country, a container to its owner and its booking's parties; to anyone else
each is answered as missing (404).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from portchain.api.auth import ViewerDep
from portchain.api.deps import NodeDep
from portchain.api.errors import NotFound
from portchain.modules.logistics import queries

router = APIRouter(prefix="/api/v1/logistics", tags=["logistics"])

Limit = Annotated[int, Query(ge=1, le=queries.MAX_PAGE)]
Ident = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]


@router.get("/vessels/{imo}", summary="A registered vessel")
def vessel(
    imo: Annotated[str, Path(pattern=r"^[0-9]{7}$")], viewer: ViewerDep, node: NodeDep
) -> dict[str, Any]:
    found = queries.vessel(node.storage.reader(), imo)
    if found is None:
        raise NotFound(f"vessel {imo}")
    return found


@router.get("/calls", summary="Vessel calls, by id")
def calls(
    viewer: ViewerDep,
    node: NodeDep,
    after: Annotated[str, Query(max_length=64)] = "",
    limit: Limit = 100,
) -> dict[str, Any]:
    return {"calls": queries.vessel_calls(node.storage.reader(), after, limit)}


@router.get("/calls/{call_id}", summary="A vessel call with its transport events")
def call(call_id: Ident, viewer: ViewerDep, node: NodeDep) -> dict[str, Any]:
    found = queries.vessel_call(node.storage.reader(), call_id)
    if found is None:
        raise NotFound(f"vessel call {call_id}")
    return found


@router.get(
    "/calls/{call_id}/manifest",
    summary="The bookings and containers on a call (its carrier, the port's customs)",
)
def manifest(call_id: Ident, viewer: ViewerDep, node: NodeDep) -> dict[str, Any]:
    found = queries.manifest(node.storage.reader(), viewer, call_id)
    if found is None:
        raise NotFound(f"the manifest of vessel call {call_id}")
    return found


@router.get("/bookings", summary="The bookings the caller's organisation is party to")
def bookings(
    viewer: ViewerDep,
    node: NodeDep,
    after: Annotated[str, Query(max_length=64)] = "",
    limit: Limit = 100,
) -> dict[str, Any]:
    found = queries.my_bookings(node.storage.reader(), viewer, after, limit)
    return {"bookings": found, "next": found[-1]["reference"] if len(found) == limit else None}


@router.get("/bookings/{reference}", summary="One booking (its parties only)")
def booking(reference: Ident, viewer: ViewerDep, node: NodeDep) -> dict[str, Any]:
    found = queries.booking(node.storage.reader(), viewer, reference)
    if found is None:
        raise NotFound(f"booking {reference}")
    return found


@router.get("/containers/{number}", summary="A container (its owner, its booking's parties)")
def container(
    number: Annotated[str, Path(pattern=r"^[A-Z]{3}[UJZ][0-9]{7}$")],
    viewer: ViewerDep,
    node: NodeDep,
) -> dict[str, Any]:
    found = queries.container(node.storage.reader(), viewer, number)
    if found is None:
        raise NotFound(f"container {number}")
    return found
