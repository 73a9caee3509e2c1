"""Helpers for tests that run portchain on a local CometBFT network (``portchain net``).

Clients sign with the demo cast's keys kept in the network's home and talk to the nodes'
portchain APIs, as any client would; CometBFT's RPC is read only to compare nodes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from portchain.cli.net import PortchainNet
from portchain.kernel.crypto import SigningKey
from portchain.kernel.tx import Tx, sign
from portchain.node.home import Home
from portchain.sdk.auth import KeyAuth
from portchain.sdk.client import Client


def wait_until(what: str, check: Callable[[], Any], timeout: float = 30.0) -> Any:
    """Poll ``check`` until it returns something truthy; fail with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except httpx.HTTPError as exc:
            last = exc
        if last:
            return last
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def api(net: PortchainNet, index: int, org: str = "MERIDIAN") -> Client:
    """An SDK client of node ``index``'s API, signed in with ``org``'s admin key."""
    return Client(net.nodes[index].api_url, key=Home(net.home).load_key(org).key)


def height(net: PortchainNet, index: int) -> int:
    return net.localnet.status(index).height


def app_height(net: PortchainNet, index: int) -> int:
    """Height of the node's portchain app, from its API."""
    with api(net, index) as client:
        return int(client.status()["height"])


def app_hashes(net: PortchainNet, index: int, upto: int) -> list[str]:
    """The node app's stored app hash after each block 1..upto (its API)."""
    out = []
    key = Home(net.home).load_key("MERIDIAN").key
    with httpx.Client(base_url=net.nodes[index].api_url, timeout=10, auth=KeyAuth(key)) as http:
        for h in range(1, upto + 1):
            out.append(http.get(f"/api/v1/blocks/{h}").json()["app_hash_after"])
    return out


def assert_agree(net: PortchainNet, nodes: list[int], upto: int | None = None) -> int:
    """Every node's app reports the same app hash at every height up to the lowest common one,
    and each matches the app hash CometBFT's next header carries. Returns that height."""
    top = upto if upto is not None else min(app_height(net, i) for i in nodes)
    reference = app_hashes(net, nodes[0], top)
    for index in nodes[1:]:
        assert app_hashes(net, index, top) == reference, f"node {index} disagrees"
    with net.localnet.rpc(nodes[0]) as rpc:
        for h in range(max(1, top - 5), top):
            header = rpc.block(h + 1)["block"]["header"]
            assert header["app_hash"].lower() == reference[h - 1]
    return top


class Submitter:
    """Signs register_key transactions for one organisation and submits them at one node."""

    def __init__(self, net: PortchainNet, index: int, org: str) -> None:
        self.client = api(net, index, org)
        self.key = Home(net.home).load_key(org).key
        self.chain_id = self.client.chain_id()
        self.seq = self.client.next_sequence(self.key.key_id)
        record = self.client.state(f"membership/key/{self.key.key_id}")["value"]
        self.roles = list(record["roles"])[:1]
        self.hashes: list[str] = []

    def send(
        self,
        wait: bool = False,
        action: str = "membership.register_key",
        body: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        if body is None:
            body = {"public_key": SigningKey.generate().public_key.hex(), "roles": self.roles}
        raw = sign(Tx(self.chain_id, self.key.key_id, self.seq, action, body), self.key)
        self.seq += 1
        outcome = self.client.submit(raw, wait=wait)
        self.hashes.append(outcome["hash"])
        return outcome

    def close(self) -> None:
        self.client.close()


class Load:
    """Background submissions from several organisations at several nodes, until stopped."""

    def __init__(self, submitters: list[Submitter], rate: float) -> None:
        self.submitters = submitters
        self.interval = 1.0 / rate
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        n = 0
        while not self.stop.is_set():
            try:
                self.submitters[n % len(self.submitters)].send()
            except Exception as exc:  # a refused submission is a test failure, reported later
                self.errors.append(exc)
            n += 1
            time.sleep(self.interval)

    def finish(self) -> list[str]:
        """Stop; every hash submitted."""
        self.stop.set()
        self.thread.join()
        return [h for s in self.submitters for h in s.hashes]
