"""State keys and records of the trade module (every key under ``trade/``).

::

    trade/contract/<id>          Contract (its seller and buyer)
    trade/party/<org>/<id>       index: the contracts an organisation is party to
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from portchain.kernel import codec
from portchain.kernel.access import Audience, parties
from portchain.kernel.module import StateReader
from portchain.kernel.state import State

CONTRACT = "trade/contract/"
PARTY = "trade/party/"

DRAFTED = "DRAFTED"
AGREED = "AGREED"
REJECTED = "REJECTED"
CANCELLED = "CANCELLED"
IN_PERFORMANCE = "IN_PERFORMANCE"


@dataclass(frozen=True, slots=True)
class Amendment:
    terms: dict[str, Any]
    proposed_by: str
    proposed_ms: int
    outcome: str = "pending"
    """pending, agreed, refused or withdrawn."""
    decided_ms: int = 0


@dataclass(frozen=True, slots=True)
class Contract:
    id: str
    seller: str
    buyer: str
    drafted_by: str
    status: str
    terms: dict[str, Any]
    """lines, currency, incoterm, ports, latest shipment date, payment terms (messages.Terms)."""
    total: int
    """Sum over the lines of quantity x unit price, in minor units of the currency."""
    updated_ms: int
    amendments: tuple[Amendment, ...] = ()
    reason: str = ""

    @property
    def audience(self) -> Audience:
        return parties(self.seller, self.buyer)

    @property
    def pending(self) -> Amendment | None:
        last = self.amendments[-1] if self.amendments else None
        return last if last is not None and last.outcome == "pending" else None

    # Attributes other modules read (logistics, ebl): the terms' main fields.
    @property
    def currency(self) -> str:
        return str(self.terms["currency"])

    @property
    def incoterm(self) -> str:
        return str(self.terms["incoterm"])

    @property
    def port_of_loading(self) -> str:
        return str(self.terms["port_of_loading"])

    @property
    def port_of_discharge(self) -> str:
        return str(self.terms["port_of_discharge"])

    @property
    def lines(self) -> list[dict[str, Any]]:
        return list(self.terms["lines"])


def total_of(terms: dict[str, Any]) -> int:
    """Exact: each line's quantity times its unit price, summed; integers, no rounding."""
    return sum(int(line["quantity"]) * int(line["unit_price"]) for line in terms["lines"])


def get_contract(reader: StateReader, contract_id: str) -> Contract | None:
    raw = reader.get(CONTRACT + contract_id)
    if raw is None:
        return None
    data = json.loads(raw)
    data["amendments"] = tuple(Amendment(**a) for a in data["amendments"])
    return Contract(**data)


def put_contract(state: State, contract: Contract) -> None:
    state.set_json(CONTRACT + contract.id, codec.plain(contract))
    for org in (contract.seller, contract.buyer):
        state.set(f"{PARTY}{org}/{contract.id}", b"1")
