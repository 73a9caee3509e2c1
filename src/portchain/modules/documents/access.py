"""Who may read what the documents module stores (kernel/access.py).

| record | key | audience |
| --- | --- | --- |
| a document's record and its ciphertext | ``documents/doc/<id>`` | its issuer and its grantees |
| a file hash's anchor | ``documents/anchor/<sha256>`` | every member (the hash means the file) |
| an organisation's documents | ``documents/party/<org>/...`` | that organisation |
"""

from __future__ import annotations

from portchain.kernel.access import PUBLIC, Audience, parties
from portchain.kernel.module import QueryReader
from portchain.modules.documents import store


def state_audience(reader: QueryReader, key: str) -> Audience | None:
    if key.startswith(store.DOC):
        document = store.get_document(reader, key[len(store.DOC) :])
        return None if document is None else document.audience
    if key.startswith(store.ANCHOR):
        return PUBLIC
    if key.startswith(store.PARTY):
        return parties(key[len(store.PARTY) :].partition("/")[0])
    return None
