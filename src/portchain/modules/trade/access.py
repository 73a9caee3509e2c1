"""Who may read what the trade module stores (kernel/access.py).

| record | key | audience |
| --- | --- | --- |
| sales contract | ``trade/contract/<id>`` | its seller and its buyer |
| an organisation's contracts | ``trade/party/<org>/<id>`` | that organisation |
"""

from __future__ import annotations

from portchain.kernel.access import Audience, parties
from portchain.kernel.module import QueryReader
from portchain.modules.trade import store


def state_audience(reader: QueryReader, key: str) -> Audience | None:
    if key.startswith(store.CONTRACT):
        contract = store.get_contract(reader, key[len(store.CONTRACT) :])
        return None if contract is None else contract.audience
    if key.startswith(store.PARTY):
        return parties(key[len(store.PARTY) :].partition("/")[0])
    return None
