"""State keys and records of the ebl module (every key under ``ebl/``).

::

    ebl/doc/<reference>                 Bill: the transport document, its holder and its chain
    ebl/party/<org>/<reference>         index: documents an organisation is a party to
    ebl/container/<number>              the live document (not voided) carrying a container

A document's record holds its whole endorsement chain, so one Merkle proof of
``ebl/doc/<reference>`` shows its status, its holder and how it got there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from portchain.kernel import codec
from portchain.kernel.access import Audience, parties
from portchain.kernel.module import StateReader
from portchain.kernel.state import State

DOC = "ebl/doc/"
PARTY = "ebl/party/"
CONTAINER = "ebl/container/"

DRAFT = "DRAFT"
APPROVED = "APPROVED"
ISSUED = "ISSUED"
PENDING_SURRENDER_FOR_DELIVERY = "PENDING_SURRENDER_FOR_DELIVERY"
SURRENDERED_FOR_DELIVERY = "SURRENDERED_FOR_DELIVERY"
PENDING_SURRENDER_FOR_AMENDMENT = "PENDING_SURRENDER_FOR_AMENDMENT"
SURRENDERED_FOR_AMENDMENT = "SURRENDERED_FOR_AMENDMENT"
ACCOMPLISHED = "ACCOMPLISHED"
VOIDED = "VOIDED"
CLOSED = frozenset({ACCOMPLISHED, VOIDED})

BILL_OF_LADING = "BILL_OF_LADING"
SEA_WAYBILL = "SEA_WAYBILL"


@dataclass(frozen=True, slots=True)
class Entry:
    """One link of the endorsement chain (DCSA ``actionCode``, actor, recipient, time)."""

    action: str
    actor: str
    recipient: str | None
    time_ms: int
    """Block time of the step."""
    tx: str
    """The transaction that made the step (hex)."""
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Bill:
    reference: str
    document_type: str
    form: str
    carrier: str
    shipper: str
    consignee: str | None
    to_order_of: str | None
    notify_party: str | None
    booking: str
    vessel_call: str
    port_of_loading: str
    port_of_discharge: str
    containers: tuple[str, ...]
    cargo_description: str
    packages: int
    gross_weight_kg: int
    freight: str
    status: str
    version: int
    """Goes up each time the carrier redrafts; the shipper approves one version."""
    drafted_ms: int
    approved_ms: int = 0
    issued_ms: int = 0
    shipped_on_board_ms: int = 0
    """Block time of the last LOAD of its containers onto the vessel call."""
    holder: str | None = None
    """Who controls the bill now (exactly one party from issue on); None for a draft and for
    a sea waybill, which nobody holds."""
    endorsee: str | None = None
    """To whose order the bill stands (TO_ORDER), or the named endorsee after ENDORSE; None
    when blank-endorsed or straight."""
    negotiable: bool = False
    """The endorsee (or the bearer of a blank-endorsed bill) may endorse it further."""
    blank: bool = False
    """Endorsed in blank: it goes to its bearer, by transfer of possession alone."""
    chain: tuple[Entry, ...] = ()
    surrendered_by: str | None = None
    """Who asked to surrender it (the holder before the carrier took it)."""
    replaces: str | None = None
    replaced_by: str | None = None
    void_reason: str = ""

    @property
    def is_bill(self) -> bool:
        return self.document_type == BILL_OF_LADING

    def party_orgs(self) -> tuple[str, ...]:
        """Everyone the document names or that ever acted on it or received it, in order."""
        named: list[str] = [self.carrier, self.shipper]
        for org in (self.consignee, self.to_order_of, self.notify_party, self.endorsee):
            if org:
                named.append(org)
        for entry in self.chain:
            named.append(entry.actor)
            if entry.recipient:
                named.append(entry.recipient)
        return tuple(dict.fromkeys(named))

    @property
    def audience(self) -> Audience:
        return parties(*self.party_orgs())


def _bill(data: dict[str, Any]) -> Bill:
    data["containers"] = tuple(data["containers"])
    data["chain"] = tuple(Entry(**e) for e in data["chain"])
    return Bill(**data)


def get_bill(reader: StateReader, reference: str) -> Bill | None:
    raw = reader.get(DOC + reference)
    return None if raw is None else _bill(json.loads(raw))


def put_bill(state: State, bill: Bill, before: Bill | None = None) -> None:
    """Store ``bill``; ``before`` (the record it replaces) spares rewriting the index
    entries of parties it already had."""
    state.set_json(DOC + bill.reference, codec.plain(bill))
    known = () if before is None else before.party_orgs()
    for org in bill.party_orgs():
        if org not in known:
            state.set(f"{PARTY}{org}/{bill.reference}", b"1")


def container_document(reader: StateReader, number: str) -> str | None:
    raw = reader.get(CONTAINER + number)
    return None if raw is None else raw.decode()


def claim_containers(state: State, bill: Bill) -> None:
    for number in bill.containers:
        state.set(CONTAINER + number, bill.reference.encode())


def release_containers(state: State, bill: Bill) -> None:
    for number in bill.containers:
        if container_document(state, number) == bill.reference:
            state.delete(CONTAINER + number)
