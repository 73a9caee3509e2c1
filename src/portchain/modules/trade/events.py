"""Events of the trade module: every step of a contract, to its seller and buyer."""

from __future__ import annotations

from portchain.kernel.events import Event, index_by
from portchain.modules.trade.store import Contract

index_by("contract")


def contract_event(contract: Contract, what: str, actor: str) -> Event:
    """``what``: drafted, agreed, rejected, cancelled, performance_started, amendment_*."""
    return Event.to(
        contract.audience,
        f"trade.contract_{what}",
        contract=contract.id,
        seller=contract.seller,
        buyer=contract.buyer,
        status=contract.status,
        actor=actor,
        total=contract.total,
        currency=contract.currency,
    )
