"""Who may read what the ebl module stores (kernel/access.py).

| record | key | audience |
| --- | --- | --- |
| a transport document | ``ebl/doc/<reference>`` | its parties (below) |
| an organisation's documents | ``ebl/party/<org>/...`` | that organisation |
| a container's live document | ``ebl/container/<number>`` | that document's parties |

A document's parties: its carrier, its shipper, the parties it names (consignee, to order
of, notify party, endorsee) and every party that acted on it or received it.

A past holder keeps reading the bill after passing it on: it must be able to show what it
did with the title. Nobody else learns that the bill exists.
"""

from __future__ import annotations

from portchain.kernel.access import Audience, parties
from portchain.kernel.module import QueryReader
from portchain.modules.ebl import store


def state_audience(reader: QueryReader, key: str) -> Audience | None:
    if key.startswith(store.DOC):
        bill = store.get_bill(reader, key[len(store.DOC) :])
        return None if bill is None else bill.audience
    if key.startswith(store.PARTY):
        return parties(key[len(store.PARTY) :].partition("/")[0])
    if key.startswith(store.CONTAINER):
        reference = store.container_document(reader, key[len(store.CONTAINER) :])
        bill = None if reference is None else store.get_bill(reader, reference)
        return None if bill is None else bill.audience
    return None
