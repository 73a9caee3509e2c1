"""Local CometBFT networks of real nodes driving the key-value fixture app over ABCI."""

from __future__ import annotations

import base64
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from cometbft_kv_app import KeyValueApp, state_hash
from cometbft_served_app import ServedApp

from portchain.engines.cometbft.abci_server import AbciApplication, BaseApplication
from portchain.engines.cometbft.localnet import LocalNet, LocalNetError

if TYPE_CHECKING:
    from portchain.engines.cometbft._proto.tendermint.abci import types_pb2 as abci

pytestmark = pytest.mark.cometbft

ServeApp = Callable[[AbciApplication, str], ServedApp]


def wait_for_value(net: LocalNet, index: int, key: bytes, *, timeout: float = 20.0) -> bytes:
    """Poll node ``index``'s app through RPC until ``key`` is committed; return its value."""
    deadline = time.monotonic() + timeout
    answer: dict[str, Any] = {}
    while time.monotonic() < deadline:
        with net.rpc(index) as rpc:
            answer = rpc.abci_query("", key)
        if answer["code"] == 0:
            return base64.b64decode(answer["value"])
        time.sleep(0.1)
    raise AssertionError(f"{key!r} not visible at node {index}: {answer}")


def assert_same_block_everywhere(net: LocalNet, nodes: list[int], height: int) -> None:
    """Every node holds the same block, hence the same app hash, at ``height``."""
    seen = set()
    for index in nodes:
        with net.rpc(index) as rpc:
            block = rpc.block(height)
        seen.add((block["block_id"]["hash"], block["block"]["header"]["app_hash"]))
    assert len(seen) == 1, seen


def test_single_node_commits_blocks_and_transactions(
    make_localnet: Callable[..., LocalNet], serve_app: ServeApp
) -> None:
    app_state = (
        b'{ "greeting" :  "hello",\n "n": 1}'  # odd spacing: the bytes must reach the app as is
    )
    net = make_localnet(1, chain_id="portchain-test-1", app_state=app_state)
    app = KeyValueApp()
    serve_app(app, net.nodes[0].abci_address)
    net.start_node(0)

    net.wait_for_height(0, 3)
    assert app.init_chain_request is not None
    assert app.init_chain_request.chain_id == "portchain-test-1"
    assert app.init_chain_request.app_state_bytes == app_state
    assert wait_for_value(net, 0, b"greeting") == b"hello"

    answer = net.broadcast_tx_sync(0, b"colour=blue")
    assert answer["code"] == 0
    refused = net.broadcast_tx_sync(0, b"no separator")
    assert refused["code"] != 0
    assert wait_for_value(net, 0, b"colour") == b"blue"

    # A header carries the app hash of the block before it: two blocks on, the node reports
    # the app's commitment to its whole state, which nothing else has changed since.
    latest = net.wait_for_height(0, net.status(0).height + 2)
    expected = {b"greeting": b"hello", b"n": b"1", b"colour": b"blue"}
    assert latest.app_hash == state_hash(expected).hex().upper()


def test_four_validators_agree_survive_a_crash_and_catch_up(
    make_localnet: Callable[..., LocalNet], app_env: dict[str, str], fixture_app: Path
) -> None:
    net = make_localnet(4, chain_id="portchain-test-4")
    command = [sys.executable, str(fixture_app)]  # each node's app is its own process
    net.start_all(command, app_env=app_env)
    for index in range(4):
        net.wait_for_height(index, 2)
    assert all(net.status(index).peers == 3 for index in range(4))

    assert net.broadcast_tx_sync(0, b"container=MSCU1234565")["code"] == 0
    assert wait_for_value(net, 3, b"container") == b"MSCU1234565"
    common = min(net.status(index).height for index in range(4))
    assert_same_block_everywhere(net, [0, 1, 2, 3], common)

    # A separate invocation finds the processes through the state file.
    reopened = LocalNet.load(net.home)
    assert all(reopened.is_running(index) for index in range(4))

    reopened.kill_node(3)  # SIGKILL from the other handle, as `portchain` CLI would send it
    assert not reopened.is_running(3) and not net.is_running(3)
    before = net.status(0).height
    net.wait_for_height(0, before + 3)  # 3 of 4 equal validators hold > 2/3 of the power
    assert net.broadcast_tx_sync(1, b"vessel=MAERSK-EMMA")["code"] == 0
    assert wait_for_value(net, 2, b"vessel") == b"MAERSK-EMMA"

    net.restart_node(3)  # same app command; the fresh app is replayed from the node's blocks
    target = net.status(0).height
    net.wait_for_height(3, target, timeout=60)
    assert wait_for_value(net, 3, b"vessel") == b"MAERSK-EMMA"
    assert wait_for_value(net, 3, b"container") == b"MSCU1234565"
    assert_same_block_everywhere(net, [0, 1, 2, 3], target)


class FailsAtHeightThree(BaseApplication):
    def finalize_block(self, request: abci.RequestFinalizeBlock) -> abci.ResponseFinalizeBlock:
        if request.height >= 3:
            raise RuntimeError("state machine bug at height 3")
        return super().finalize_block(request)


def test_an_app_exception_stops_the_node_loudly(
    make_localnet: Callable[..., LocalNet], serve_app: ServeApp
) -> None:
    net = make_localnet(1, chain_id="portchain-test-crash", abci_transport="unix")
    served = serve_app(FailsAtHeightThree(), net.nodes[0].abci_address)
    net.start_node(0)

    deadline = time.monotonic() + 30
    while net.is_running(0) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not net.is_running(0), "CometBFT kept running after the app failed"
    assert served.server is not None
    assert isinstance(served.server.error, RuntimeError)
    assert "state machine bug" in net.cometbft_log(0).read_text()


def test_an_app_that_does_not_come_up_is_reported_with_its_output(
    make_localnet: Callable[..., LocalNet],
) -> None:
    net = make_localnet(1, chain_id="portchain-test-no-app")
    broken = [sys.executable, "-c", "import sys; sys.exit('cannot open the ledger database')"]
    with pytest.raises(LocalNetError, match="cannot open the ledger database"):
        net.start_node(0, broken, timeout=10)
    assert not net.is_running(0)
