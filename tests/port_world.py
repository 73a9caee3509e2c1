"""A small port world on the real app: terminals, vessels and calls, bookings and containers.

The logistics steps use that module's own actions, so these tests run the real wiring.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from portchain.modules.port.messages import iso6346_check_digit
from support import TRADE_CAST, Chain, make_genesis

TERMINALS = {
    "CNSHK-SCT": ("SHEKOU-PORT", "SHEKOU-CT"),
    "CNSHK-MCT": ("SHEKOU-PORT", "SHEKOU-CT"),
    "NLRTM-DDT": ("RTM-PORT", "RTM-DELTA"),
}
"""terminal id -> (port operator that registers it, terminal organisation that runs it)."""

_serials = itertools.count(1)


def container_number(owner: str = "PTCU") -> str:
    """A fresh ISO 6346 number with a correct check digit."""
    first = f"{owner}{next(_serials):06d}"
    return first + str(iso6346_check_digit(first))


def ok(result: Any) -> Any:
    assert result.ok, result.log
    return result


def attr(result: Any, event_type: str, name: str) -> Any:
    for e in result.events:
        if e.type == event_type:
            return e.get(name)
    raise AssertionError(f"no {event_type} in {[e.type for e in result.events]}")


@dataclass
class World:
    chain: Chain
    calls: dict[str, tuple[str, str]] = field(default_factory=dict)
    """call id -> (vessel IMO, terminal)."""

    # -- port --------------------------------------------------------------------------
    def register_terminals(self) -> None:
        for terminal, (operator, org) in TERMINALS.items():
            ok(
                self.chain.run(
                    operator,
                    "port.register_terminal",
                    {"terminal_id": terminal, "name": f"Terminal {terminal}", "org": org},
                )
            )

    def move(self, who: str, verb: str, **body: Any) -> Any:
        return self.chain.run(who, f"port.{verb}", body)

    # -- logistics ---------------------------------------------------------------------
    def vessel(self, imo: str, name: str, carrier: str = "MERIDIAN") -> None:
        ok(
            self.chain.run(
                carrier, "logistics.register_vessel", {"imo": imo, "name": name, "flag": "SG"}
            )
        )

    def call(self, imo: str, terminal: str, carrier: str = "MERIDIAN") -> str:
        call_id = f"C{next(_serials):05d}"
        ok(
            self.chain.run(
                carrier,
                "logistics.schedule_call",
                {
                    "call_id": call_id,
                    "imo": imo,
                    "terminal": terminal,
                    "voyage": "001E",
                    "planned_arrival_ms": 1_790_000_000_000,
                    "planned_departure_ms": 1_790_100_000_000,
                },
            )
        )
        self.calls[call_id] = (imo, terminal)
        return call_id

    def booking(
        self,
        shipper: str = "BRIGHTWAVE",
        carrier: str = "MERIDIAN",
        call_id: str = "",
        forwarder: str | None = None,
        consignee: str | None = "HOLLANDHOME",
    ) -> str:
        reference = f"BK{next(_serials):06d}"
        port = self.calls[call_id][1].partition("-")[0]
        ok(
            self.chain.run(
                forwarder or shipper,
                "logistics.request_booking",
                {
                    "reference": reference,
                    "carrier": carrier,
                    "shipper": shipper,
                    "consignee": consignee,
                    "vessel_call": call_id,
                    "port_of_loading": port,
                    "port_of_discharge": "USNYC" if port != "USNYC" else "NLRTM",
                    "equipment": [{"size_type": "22G1", "count": 1}],
                },
            )
        )
        ok(self.chain.run(carrier, "logistics.confirm", {"reference": reference}))
        return reference

    def container(self, number: str, booking: str | None, carrier: str = "MERIDIAN") -> None:
        ok(
            self.chain.run(
                carrier, "logistics.register_container", {"number": number, "size_type": "22G1"}
            )
        )
        if booking is not None:
            ok(
                self.chain.run(
                    carrier, "logistics.assign_container", {"number": number, "reference": booking}
                )
            )


def new_world(path: Any) -> World:
    world = World(Chain(path, genesis=make_genesis(TRADE_CAST)))
    world.register_terminals()
    return world
