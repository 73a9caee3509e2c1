"""Trade reads: sales contracts, to their seller and buyer only (others get 404)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from portchain.api.auth import ViewerDep
from portchain.api.deps import NodeDep
from portchain.api.errors import NotFound
from portchain.modules.trade import queries

router = APIRouter(prefix="/api/v1/trade", tags=["trade"])

ContractId = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]


@router.get("/contracts", summary="The contracts the caller's organisation is party to")
def contracts(
    viewer: ViewerDep,
    node: NodeDep,
    after: Annotated[str, Query(max_length=64)] = "",
    limit: Annotated[int, Query(ge=1, le=queries.MAX_PAGE)] = 100,
) -> dict[str, Any]:
    found = queries.my_contracts(node.storage.reader(), viewer, after, limit)
    return {"contracts": found, "next": found[-1]["id"] if len(found) == limit else None}


@router.get("/contracts/{contract_id}", summary="One contract with its amendments")
def contract(contract_id: ContractId, viewer: ViewerDep, node: NodeDep) -> dict[str, Any]:
    found = queries.contract(node.storage.reader(), viewer, contract_id)
    if found is None:
        raise NotFound(f"contract {contract_id}")
    return found
