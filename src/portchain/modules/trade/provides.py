"""What other modules may read from trade: ``contract(reader, id)`` (store.Contract)."""

from __future__ import annotations

from portchain.kernel.module import StateReader
from portchain.modules.trade import store
from portchain.modules.trade.store import Contract


def contract(reader: StateReader, contract_id: str) -> Contract | None:
    return store.get_contract(reader, contract_id)
