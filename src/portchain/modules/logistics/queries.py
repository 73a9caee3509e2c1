"""Read-only views of logistics state for the API and the CLI, as a viewer may see them."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from portchain.kernel.access import Viewer
from portchain.kernel.module import QueryReader
from portchain.modules.logistics import store
from portchain.modules.logistics.access import manifest_audience

MAX_PAGE = 500


def vessel(reader: QueryReader, imo: str) -> dict[str, Any] | None:
    found = store.get_vessel(reader, imo)
    return None if found is None else asdict(found)


def vessel_call(reader: QueryReader, call_id: str) -> dict[str, Any] | None:
    found = store.get_call(reader, call_id)
    return None if found is None else asdict(found)


def vessel_calls(reader: QueryReader, after: str = "", limit: int = 100) -> list[dict[str, Any]]:
    start = store.CALL + after if after else ""
    rows = reader.scan(store.CALL, after=start, limit=min(limit, MAX_PAGE))
    return [c for c in (vessel_call(reader, k[len(store.CALL) :]) for k, _ in rows) if c]


def booking(reader: QueryReader, viewer: Viewer, reference: str) -> dict[str, Any] | None:
    found = store.get_booking(reader, reference)
    if found is None or not viewer.may_read(found.audience):
        return None
    return asdict(found)


def my_bookings(
    reader: QueryReader, viewer: Viewer, after: str = "", limit: int = 100
) -> list[dict[str, Any]]:
    """The bookings the viewer's organisation is party to, by reference (its own index)."""
    prefix = f"{store.PARTY}{viewer.org}/"
    rows = reader.scan(prefix, after=prefix + after if after else "", limit=min(limit, MAX_PAGE))
    out = []
    for key, _ in rows:
        found = booking(reader, viewer, key[len(prefix) :])
        if found is not None:
            out.append(found)
    return out


def manifest(reader: QueryReader, viewer: Viewer, call_id: str) -> dict[str, Any] | None:
    """The bookings and containers on a vessel call: for its carrier and the port's customs."""
    call = store.get_call(reader, call_id)
    if call is None or not viewer.may_read(manifest_audience(call)):
        return None
    prefix = f"{store.MANIFEST}{call_id}/"
    lines = []
    for key, _ in reader.scan(prefix, limit=10_000):
        found = store.get_booking(reader, key[len(prefix) :])
        if found is None or found.status not in (store.CONFIRMED, store.COMPLETED):
            continue
        containers = [store.get_container(reader, n) for n in found.containers]
        lines.append(
            {
                "reference": found.reference,
                "shipper": found.shipper,
                "consignee": found.consignee,
                "port_of_loading": found.port_of_loading,
                "port_of_discharge": found.port_of_discharge,
                "containers": [
                    {"number": c.number, "size_type": c.size_type, "seals": list(c.seals)}
                    for c in containers
                    if c is not None
                ],
            }
        )
    return {"call": asdict(call), "bookings": lines}


def container(reader: QueryReader, viewer: Viewer, number: str) -> dict[str, Any] | None:
    found = store.get_container(reader, number)
    if found is None or not viewer.may_read(found.audience):
        return None
    data = asdict(found)
    del data["audience"]
    return data
