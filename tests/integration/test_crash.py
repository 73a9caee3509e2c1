"""kill -9 during a load: the node restarts at its last durable block, losing nothing reported."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from portchain.kernel.crypto import SigningKey
from portchain.kernel.tx import Tx, sign
from portchain.node.home import Home
from portchain.node.presets import DEMO_CAST, create_network
from portchain.sdk.auth import KeyAuth
from served import free_port

pytestmark = pytest.mark.slow
LOADERS = ("BRIGHTWAVE", "HOLLANDHOME", "PEARLFWD", "MAASHAUL")


def start_node(home: Path, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "portchain.cli.main",
            "up",
            "--home",
            str(home),
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("node did not come up")


def test_kill_9_under_load_loses_no_committed_transaction(tmp_path: Path) -> None:
    home = Home(tmp_path / "home")
    create_network(home, chain_id="crash-test", cast=DEMO_CAST)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    node = start_node(home.path, port)
    committed: dict[str, int] = {}
    stop = threading.Event()

    def load(org: str) -> None:
        key = home.load_key(org).key
        seq = 0
        with httpx.Client(base_url=url, timeout=5) as client:
            while not stop.is_set():
                body = {
                    "public_key": SigningKey.generate().public_key.hex(),
                    "roles": [next(m.roles[0] for m in DEMO_CAST if m.id == org)],
                }
                raw = sign(Tx("crash-test", key.key_id, seq, "membership.register_key", body), key)
                try:
                    answer = client.post("/api/v1/txs", params={"wait": "true"}, content=raw).json()
                except httpx.HTTPError:
                    return  # the node is gone
                seq += 1
                if answer.get("status") == "committed":
                    committed[answer["hash"]] = answer["height"]

    threads = [threading.Thread(target=load, args=(org,)) for org in LOADERS]
    for t in threads:
        t.start()
    time.sleep(3.0)
    os.kill(node.pid, signal.SIGKILL)  # mid-load, at whatever point the node is
    node.wait()
    stop.set()
    for t in threads:
        t.join()
    assert len(committed) > 20, "the load should have committed transactions before the kill"

    node = start_node(home.path, port)
    try:
        reader = KeyAuth(home.load_key("MERIDIAN").key)
        with httpx.Client(base_url=url, timeout=5, auth=reader) as client:
            status = client.get("/api/v1/status").json()
            assert status["height"] >= max(committed.values())
            for tx_hash, height in committed.items():
                answer = client.get(f"/api/v1/txs/{tx_hash}").json()
                assert answer["status"] == "committed" and answer["height"] == height
            # The restarted node keeps going: a new transaction commits on top.
            key = home.load_key("NL-TAX").key
            body = {
                "public_key": SigningKey.generate().public_key.hex(),
                "roles": ["tax_authority"],
            }
            raw = sign(Tx("crash-test", key.key_id, 0, "membership.register_key", body), key)
            after = client.post("/api/v1/txs", params={"wait": "true"}, content=raw).json()
            assert after["status"] == "committed" and after["height"] == status["height"] + 1
    finally:
        node.send_signal(signal.SIGTERM)
        node.wait(30)
    verified = subprocess.run(
        [sys.executable, "-m", "portchain.cli.main", "verify", "--home", str(home.path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    summary = json.loads(verified.stdout.strip().splitlines()[-1])
    assert summary["ok"] and summary["transactions"] >= len(committed) + 1
