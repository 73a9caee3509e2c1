"""Membership reads: organisations, keys, proposals and the policy (public to members)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from portchain.api.auth import get_viewer
from portchain.api.deps import MAX_INT, NodeDep
from portchain.api.errors import NotFound
from portchain.modules.membership import queries

router = APIRouter(
    prefix="/api/v1/membership", tags=["membership"], dependencies=[Depends(get_viewer)]
)
"""Membership is public to every member: any live session may read it."""


@router.get("/organisations", summary="Member organisations, by id")
def organisations(
    node: NodeDep, after: str = "", limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> dict[str, Any]:
    return {"organisations": queries.organisations(node.storage.reader(), after, limit)}


@router.get("/organisations/{org_id}", summary="One organisation")
def organisation(org_id: str, node: NodeDep) -> dict[str, Any]:
    found = queries.organisation(node.storage.reader(), org_id)
    if found is None:
        raise NotFound(f"organisation {org_id!r}")
    return found


@router.get("/organisations/{org_id}/keys", summary="An organisation's signing keys")
def keys_of(org_id: str, node: NodeDep) -> dict[str, Any]:
    reader = node.storage.reader()
    if queries.organisation(reader, org_id) is None:
        raise NotFound(f"organisation {org_id!r}")
    return {"keys": queries.keys_of(reader, org_id)}


@router.get("/keys/{key_id}", summary="One signing key")
def key(key_id: str, node: NodeDep) -> dict[str, Any]:
    found = queries.key(node.storage.reader(), key_id)
    if found is None:
        raise NotFound(f"key {key_id!r}")
    return found


@router.get("/proposals", summary="Proposals, oldest first")
def proposals(
    node: NodeDep,
    status: Annotated[str | None, Query(pattern="^(open|passed|rejected|expired)$")] = None,
    after: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    return {"proposals": queries.proposals(node.storage.reader(), status, after, limit)}


@router.get("/proposals/{proposal_id}", summary="One proposal and its votes")
def proposal(proposal_id: Annotated[int, Path(ge=0, le=MAX_INT)], node: NodeDep) -> dict[str, Any]:
    found = queries.proposal(node.storage.reader(), proposal_id)
    if found is None:
        raise NotFound(f"proposal {proposal_id}")
    return found


@router.get("/policy", summary="The governance policy and the stewards")
def policy(node: NodeDep) -> dict[str, Any]:
    return queries.policy(node.storage.reader())
