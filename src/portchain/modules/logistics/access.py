"""Who may read what the logistics module stores (kernel/access.py).

| record | key | audience |
| --- | --- | --- |
| vessel | ``logistics/vessel/<imo>`` | every member (a fleet list is public) |
| vessel call | ``logistics/call/<id>`` | every member (ports publish their schedules) |
| booking | ``logistics/booking/<ref>`` | its carrier, shipper, forwarder and consignee |
| container | ``logistics/container/<number>`` | its owner and its booking's parties |
| a call's manifest | ``logistics/manifest/<call>/...`` | the carrier; customs of the port |
| an organisation's bookings | ``logistics/party/<org>/...`` | that organisation |
"""

from __future__ import annotations

from portchain.kernel.access import PUBLIC, Audience, audience, authority, parties
from portchain.kernel.module import QueryReader
from portchain.modules.logistics import store


def manifest_audience(call: store.VesselCall) -> Audience:
    """The carrier of the call and the customs of the country of its port."""
    return audience(parties(call.carrier), authority("customs", call.port[:2]))


def state_audience(reader: QueryReader, key: str) -> Audience | None:
    """Who may read the raw state entry ``key``; None hides it."""
    if key.startswith((store.VESSEL, store.CALL)):
        return PUBLIC
    if key.startswith(store.BOOKING):
        booking = store.get_booking(reader, key[len(store.BOOKING) :])
        return None if booking is None else booking.audience
    if key.startswith(store.CONTAINER):
        container = store.get_container(reader, key[len(store.CONTAINER) :])
        return None if container is None else container.audience
    if key.startswith(store.PARTY):
        return parties(key[len(store.PARTY) :].partition("/")[0])
    if key.startswith(store.MANIFEST):
        call = store.get_call(reader, key[len(store.MANIFEST) :].partition("/")[0])
        return None if call is None else manifest_audience(call)
    return None
