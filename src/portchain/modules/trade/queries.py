"""Read-only views of sales contracts, as a viewer may see them."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from portchain.kernel.access import Viewer
from portchain.kernel.module import QueryReader
from portchain.modules.trade import store

MAX_PAGE = 500


def contract(reader: QueryReader, viewer: Viewer, contract_id: str) -> dict[str, Any] | None:
    found = store.get_contract(reader, contract_id)
    if found is None or not viewer.may_read(found.audience):
        return None
    return asdict(found)


def my_contracts(
    reader: QueryReader, viewer: Viewer, after: str = "", limit: int = 100
) -> list[dict[str, Any]]:
    prefix = f"{store.PARTY}{viewer.org}/"
    rows = reader.scan(prefix, after=prefix + after if after else "", limit=min(limit, MAX_PAGE))
    found = (contract(reader, viewer, key[len(prefix) :]) for key, _ in rows)
    return [c for c in found if c is not None]
