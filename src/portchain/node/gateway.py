"""One way for the CLI and the demo to reach the ledger of a home, running or not.

If a node is running on the home (it holds the home's lock), requests go to its
API. Otherwise a node is started in this process for the duration of the
command, and stopped (after committing what was admitted) when it ends.
Either way, :func:`send` answers with the transaction's outcome: committed,
failed (with code and message), refused before the mempool, or pending.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from portchain.kernel.crypto import SigningKey
from portchain.kernel.errors import PortchainError
from portchain.kernel.tx import Tx, sign
from portchain.node.home import Home, HomeError
from portchain.node.node import Node
from portchain.sdk.client import Client, NodeError


class Gateway(Protocol):
    chain_id: str

    def next_sequence(self, key_id: str) -> int: ...

    def submit(self, raw: bytes, wait: bool = True) -> dict[str, Any]: ...


class LocalGateway:
    def __init__(self, node: Node) -> None:
        self.node = node
        self.chain_id = node.chain_id

    def next_sequence(self, key_id: str) -> int:
        return self.node.next_sequence(key_id)

    def submit(self, raw: bytes, wait: bool = True) -> dict[str, Any]:
        try:
            return self.node.submit(raw, wait=wait)
        except PortchainError as exc:
            return {"status": "refused", "error": exc.as_dict()}


class RemoteGateway:
    def __init__(self, client: Client) -> None:
        self.client = client
        self.chain_id = client.chain_id()

    def next_sequence(self, key_id: str) -> int:
        return self.client.next_sequence(key_id)

    def submit(self, raw: bytes, wait: bool = True) -> dict[str, Any]:
        try:
            return self.client.submit(raw, wait=wait)
        except NodeError as exc:
            problem = exc.problem
            error = {
                k: problem[k]
                for k in ("codespace", "code", "error", "message", "field")
                if k in problem
            }
            return {"status": "refused", "error": error or {"message": str(exc)}}


def api_url(home: Home) -> str | None:
    if not home.api_file.exists():
        return None
    return str(json.loads(home.api_file.read_text())["url"])


@contextmanager
def connect(home: Home) -> Iterator[Gateway]:
    """A gateway to the ledger of ``home``: the running node's API, or a node of our own."""
    if home.is_locked():
        url = api_url(home)
        if url is None:
            raise HomeError(f"a node runs on {home.path} but has not published its API address")
        with Client(url) as client:
            yield RemoteGateway(client)
        return
    node = Node(home)
    node.start()
    try:
        yield LocalGateway(node)
    finally:
        node.stop()


def send(
    gateway: Gateway, key: SigningKey, action: str, body: dict[str, Any], wait: bool = True
) -> dict[str, Any]:
    """Sign ``action`` at the key's next sequence number and submit it."""
    tx = Tx(gateway.chain_id, key.key_id, gateway.next_sequence(key.key_id), action, body)
    return gateway.submit(sign(tx, key), wait=wait)
