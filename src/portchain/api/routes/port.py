"""Port reads: terminals, berth schedules, containers at a terminal, a container's moves.

Terminals and berth schedules are public to members. A terminal's containers and gate
records are for its side (the terminal, its port operator, the customs of its country);
a container's history shows the moves the caller may read, and a container none of whose
moves it may read is answered 404, like one that does not exist.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from portchain.api.auth import ViewerDep
from portchain.api.deps import NodeDep
from portchain.api.errors import NotFound
from portchain.modules.port import queries

router = APIRouter(prefix="/api/v1/port", tags=["port"])

Limit = Annotated[int, Query(ge=1, le=queries.MAX_PAGE)]


@router.get("/terminals", summary="Registered terminals, by id")
def terminals(
    viewer: ViewerDep, node: NodeDep, after: str = "", limit: Limit = 100
) -> dict[str, Any]:
    return {"terminals": queries.terminals(node.storage.reader(), viewer, after, limit)}


@router.get("/terminals/{terminal_id}", summary="One terminal")
def terminal(terminal_id: str, viewer: ViewerDep, node: NodeDep) -> dict[str, Any]:
    found = queries.terminal(node.storage.reader(), viewer, terminal_id)
    if found is None:
        raise NotFound(f"terminal {terminal_id!r}")
    return found


@router.get(
    "/terminals/{terminal_id}/containers",
    summary="Containers at the terminal now, by number (the terminal's side only)",
)
def containers_at(
    terminal_id: str, viewer: ViewerDep, node: NodeDep, after: str = "", limit: Limit = 100
) -> dict[str, Any]:
    found = queries.containers_at(node.storage.reader(), viewer, terminal_id, after, limit)
    if found is None:
        raise NotFound(f"terminal {terminal_id!r}")
    return {
        "terminal": terminal_id,
        "containers": found,
        "next": found[-1]["container"] if len(found) == limit else None,
    }


@router.get(
    "/terminals/{terminal_id}/gates",
    summary="The terminal's gate-in and gate-out records, oldest first (its side only)",
)
def gates(
    terminal_id: str,
    viewer: ViewerDep,
    node: NodeDep,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Limit = 100,
) -> dict[str, Any]:
    found = queries.gates(node.storage.reader(), viewer, terminal_id, after, limit)
    if found is None:
        raise NotFound(f"terminal {terminal_id!r}")
    return {
        "terminal": terminal_id,
        "gates": found,
        "next": found[-1]["n"] if len(found) == limit else None,
    }


@router.get(
    "/terminals/{terminal_id}/berths", summary="The terminal's berth schedule, by start time"
)
def berth_schedule(
    terminal_id: str, viewer: ViewerDep, node: NodeDep, after: str = "", limit: Limit = 100
) -> dict[str, Any]:
    found = queries.berth_schedule(node.storage.reader(), viewer, terminal_id, after, limit)
    if found is None:
        raise NotFound(f"terminal {terminal_id!r}")
    return {
        "terminal": terminal_id,
        "berths": found,
        "next": found[-1]["cursor"] if len(found) == limit else None,
    }


@router.get("/containers/{number}", summary="Where a container is and the moves you may see")
def history(
    number: str,
    viewer: ViewerDep,
    node: NodeDep,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Limit = 100,
) -> dict[str, Any]:
    found = queries.history(node.storage.reader(), viewer, number, after, limit)
    if found is None:
        raise NotFound(f"container {number!r}")
    return found
