"""A shipment ready for its bill of lading, on the real app: a vessel calling at Shekou, a
confirmed booking of BRIGHTWAVE with MERIDIAN, two containers gated in and loaded."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from port_world import World, container_number, new_world, ok

IMO = "9321483"
CARRIER = "MERIDIAN"
SHIPPER = "BRIGHTWAVE"
BANK = "HOLLANDBANK"
IMPORTER = "HOLLANDHOME"


@dataclass
class Shipment:
    world: World
    booking: str
    call: str
    containers: tuple[str, ...]

    @property
    def chain(self) -> Any:
        return self.world.chain

    def run(self, who: str, verb: str, **body: Any) -> Any:
        return self.attempt(who, f"ebl.{verb}", body)

    def attempt(self, who: str, action: str, body: dict[str, Any]) -> Any:
        """Run one transaction; a refusal before the handler (``tx`` codespace) does not use
        up the signer's sequence number, so the next one reuses it."""
        result = self.chain.run(who, action, body)
        if result.codespace == "tx":
            key = self.chain.key(who).key_id
            self.chain.seqs[key] -= 1
        return result

    def draft_body(self, reference: str, **changes: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "reference": reference,
            "booking": self.booking,
            "containers": list(self.containers),
            "cargo_description": "LED panels, 2,400 cartons",
            "packages": 2400,
            "gross_weight_kg": 18_400,
        }
        body.update(changes)
        return {k: v for k, v in body.items() if v is not None}

    def draft(self, reference: str, **changes: Any) -> Any:
        return ok(self.chain.run(CARRIER, "ebl.draft", self.draft_body(reference, **changes)))

    def issued(self, reference: str, **changes: Any) -> dict[str, Any]:
        """Drafted, approved by the shipper and issued by the carrier; the stored record."""
        self.draft(reference, **changes)
        version = self.bill(reference)["version"]
        ok(self.run(SHIPPER, "approve", reference=reference, version=version))
        ok(self.run(CARRIER, "issue", reference=reference))
        return self.bill(reference)

    def bill(self, reference: str) -> dict[str, Any]:
        found = self.chain.state(f"ebl/doc/{reference}")
        assert found is not None, reference
        return dict(found)

    def load_all(self) -> None:
        for number in self.containers:
            ok(
                self.world.move(
                    "SHEKOU-CT",
                    "load",
                    container=number,
                    terminal="CNSHK-SCT",
                    empty_indicator="LADEN",
                    call_id=self.call,
                )
            )


def new_shipment(path: Any, *, loaded: bool = True, count: int = 2) -> Shipment:
    world = new_world(path)
    world.vessel(IMO, "Meridian Star")
    call = world.call(IMO, "CNSHK-SCT")
    world.call(IMO, "NLRTM-DDT")
    booking = world.booking(call_id=call)
    numbers = tuple(container_number() for _ in range(count))
    for number in numbers:
        world.container(number, booking)
        ok(
            world.move(
                "SHEKOU-CT",
                "gate_in",
                container=number,
                terminal="CNSHK-SCT",
                empty_indicator="LADEN",
            )
        )
    shipment = Shipment(world, booking, call, numbers)
    if loaded:
        shipment.load_all()
    return shipment
