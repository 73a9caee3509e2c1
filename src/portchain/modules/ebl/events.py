"""Events of the ebl module, to the document's parties (after the step: a new holder sees it)."""

from __future__ import annotations

from portchain.kernel.events import Event, index_by
from portchain.modules.ebl.store import Bill

index_by("reference")

DCSA_EVENT = {
    "drafted": "DRFT",
    "approved": "APPR",
    "issued": "ISSU",
    "surrender_requested": "SURR",
    "surrendered": "SURR",
    "voided": "VOID",
    "accomplished": "CMPL",
}
"""The DCSA shipment event code of a step, where Track & Trace has one."""


def bill_event(bill: Bill, what: str, actor: str, recipient: str | None = None) -> Event:
    """Names the document only (not its booking, which some of its parties may not read).

    ``what``: drafted, approved, issued, transferred, endorsed, endorsed_to_order,
    blank_endorsed, signed, surrender_requested, surrendered, surrender_rejected,
    accomplished, voided, reissued."""
    return Event.to(
        bill.audience,
        f"ebl.{what}",
        reference=bill.reference,
        status=bill.status,
        holder=bill.holder,
        actor=actor,
        recipient=recipient,
        dcsa=DCSA_EVENT.get(what),
    )
