"""What other modules may read from logistics (they declare it as a Protocol of their own).

``vessel_call``, ``booking`` and ``container`` return the stored records: frozen
dataclasses (store.py) with the attributes the port and ebl modules name.
"""

from __future__ import annotations

from portchain.kernel.module import StateReader
from portchain.modules.logistics import store
from portchain.modules.logistics.store import Booking, Container, VesselCall


def vessel_call(reader: StateReader, call_id: str) -> VesselCall | None:
    return store.get_call(reader, call_id)


def booking(reader: StateReader, reference: str) -> Booking | None:
    return store.get_booking(reader, reference)


def container(reader: StateReader, number: str) -> Container | None:
    return store.get_container(reader, number)
