"""The Python client of a portchain node: sign, submit, wait, read, follow events.

    from portchain.sdk import Client
    with Client("http://127.0.0.1:8545") as node:
        result = node.send(key, "membership.register_key", {...})
        for event in node.events(after=(0, -1), party="BRIGHTWAVE"):
            print(event.id, event.type)

:class:`AsyncClient` does the same in an event loop; :mod:`portchain.sdk.documents` shares
documents encrypted on the client's side; :func:`verify_webhook` checks a
webhook delivery on the receiving side. Every deliberate error is a :class:`ClientError`.
"""

from portchain.sdk import documents
from portchain.sdk._sse import LedgerEvent
from portchain.sdk.aio import AsyncClient
from portchain.sdk.client import Client
from portchain.sdk.errors import (
    ClientError,
    NodeError,
    ProofError,
    StreamError,
    WebhookVerificationError,
)
from portchain.sdk.webhooks import verify_webhook

__all__ = [
    "AsyncClient",
    "Client",
    "ClientError",
    "LedgerEvent",
    "NodeError",
    "ProofError",
    "StreamError",
    "WebhookVerificationError",
    "documents",
    "verify_webhook",
]
