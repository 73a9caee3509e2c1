"""Transport documents: a party's list, one document with its endorsement chain, its DCSA
export, and a proof bundle of its holder and status that an outsider checks offline
(``portchain check-proof``). A document is answered 404 to whoever is not one of its parties.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from portchain.api.auth import ViewerDep
from portchain.api.deps import NodeDep
from portchain.api.errors import NotFound
from portchain.api.routes.chain import proof_bundle
from portchain.modules.ebl import queries, store

router = APIRouter(prefix="/api/v1/ebl", tags=["ebl"])

Reference = Annotated[str, Path(pattern=r"^[A-Z0-9][A-Z0-9_-]{2,19}$")]
Limit = Annotated[int, Query(ge=1, le=queries.MAX_PAGE)]


@router.get("", summary="Transport documents the caller's organisation is a party to")
def bills(
    viewer: ViewerDep,
    node: NodeDep,
    holding: Annotated[bool, Query(description="Only the bills it holds now.")] = False,
    after: Annotated[str, Query(max_length=20)] = "",
    limit: Limit = 100,
) -> dict[str, Any]:
    rows = queries.bills(node.storage.reader(), viewer, after, limit, holding)
    return {"documents": rows, "next": rows[-1]["reference"] if len(rows) == limit else None}


@router.get("/{reference}", summary="One transport document with its endorsement chain")
def bill(reference: Reference, viewer: ViewerDep, node: NodeDep) -> dict[str, Any]:
    found = queries.bill(node.storage.reader(), viewer, reference)
    if found is None:
        raise NotFound(f"transport document {reference}")
    return found


@router.get("/{reference}/dcsa", summary="The document and its chain as DCSA eBL 3.0 JSON")
def dcsa(reference: Reference, viewer: ViewerDep, node: NodeDep) -> dict[str, Any]:
    found = queries.dcsa(node.storage.reader(), viewer, reference)
    if found is None:
        raise NotFound(f"transport document {reference}")
    return found


@router.get(
    "/{reference}/proof",
    summary="A proof bundle of the document's holder and status, checked offline by anyone",
)
def proof(reference: Reference, viewer: ViewerDep, node: NodeDep) -> dict[str, Any]:
    reader = node.storage.reader()
    if queries.readable(reader, viewer, reference) is None:
        raise NotFound(f"transport document {reference}")
    return proof_bundle(node, reader, store.DOC + reference)
