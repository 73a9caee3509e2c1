"""``portchain demo --engine cometbft`` and the ``portchain net`` commands, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from portchain.app.verify import verify_chain
from portchain.cli.main import app
from portchain.cli.net import PortchainNet

pytestmark = pytest.mark.cometbft

runner = CliRunner()


def run(*args: str) -> object:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    text = result.stdout.strip()
    return json.loads(text.splitlines()[-1] if args[0] == "demo" else text)


def test_demo_on_four_validators_then_net_status_kill_start_and_down(
    tmp_path: Path, cometbft_binary: Path
) -> None:
    home = str(tmp_path / "network")
    try:
        demo = run("demo", "--home", home, "--engine", "cometbft")
        # The whole scenario: governance, the contract, the trip, documents, the bill of lading.
        assert demo == {"ok": True, "steps": 38, "height": demo["height"]}  # type: ignore[index]
        status = run("net", "status", "--home", home)
        assert isinstance(status, list) and len(status) == 4
        assert len({node["app_hash"] for node in status}) <= 2  # one block apart at most
        assert all(node["running"] and node["peers"] == 3 for node in status)

        assert run("net", "kill", "--home", home, "node3") == {"node": "node3", "running": False}
        restarted = run("net", "start", "--home", home, "3")
        assert isinstance(restarted, dict) and restarted["running"]
        again = run("demo", "--home", home, "--engine", "cometbft")  # the same network, again
        assert again["ok"] and again["height"] > demo["height"]  # type: ignore[index,operator]
        up = run("net", "up", "--home", home)  # already up: nothing to create, prints the nodes
        assert isinstance(up, dict) and len(up["nodes"]) == 4
    finally:
        runner.invoke(app, ["net", "down", "--home", home])
    net = PortchainNet.load(Path(home))
    assert not any(net.localnet.is_running(i) for i in range(4))
    assert verify_chain(net.app_home(3) / "data" / "portchain.db").transactions >= 76
    # Every node wrote the same documents' ciphertexts to its blob store (3 per demo run).
    blobs = [
        sorted(p.name for p in (net.app_home(i) / "data" / "blobs").iterdir()) for i in range(4)
    ]
    assert len(blobs[0]) == 6 and all(b == blobs[0] for b in blobs)
    unknown = runner.invoke(app, ["net", "stop", "--home", home, "node9"])
    assert unknown.exit_code == 1 and "node0 to node3" in unknown.output
