"""A local network of N CometBFT validators on 127.0.0.1, for development, tests and demos.

Every node gets its own home folder, ports (p2p, RPC, ABCI), keys and the same genesis; all
nodes are each other's persistent peers. Each node's ABCI app is a separate process that the
caller names (``app_command``) or serves itself before starting the node.

The network's state (ports, node ids, pids, app commands) lives in ``localnet.json`` in the
network's home, so a later CLI invocation can ``LocalNet.load(home)`` and stop, kill, restart or
inspect the processes that an earlier one started.

    net = LocalNet.create(home, validators=4, chain_id="portchain-local")
    net.start_all(app_command=["portchain", "node", "abci"])  # hypothetical: one app per node
    net.wait_for_height(0, 5)
    net.broadcast_tx_sync(0, tx_bytes)
    net.stop_all()

The app process is given its node's details in its environment: ``PORTCHAIN_ABCI_ADDRESS``,
``PORTCHAIN_NODE_HOME``, ``PORTCHAIN_NODE_INDEX`` and ``PORTCHAIN_CHAIN_ID``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from portchain.engines.cometbft import _process
from portchain.engines.cometbft._address import parse_address
from portchain.engines.cometbft._homes import (
    ConsensusTimeouts,
    configure_node,
    format_genesis_time,
    init_home,
    merge,
    render_genesis,
)
from portchain.engines.cometbft._process import ProcessRef
from portchain.engines.cometbft.rpc import CometRpc
from portchain.engines.cometbft.toolchain import ensure_cometbft

__all__ = ["ConsensusTimeouts", "LocalNet", "LocalNetError", "NodeRecord", "NodeStatus"]

LAN_TIMEOUTS = ConsensusTimeouts()
"""Default consensus timeouts for nodes on one machine (see ``ConsensusTimeouts``)."""

STATE_FILE = "localnet.json"
"""Name of the state file in the network's home folder."""

_UNIX_SOCKET_PATH_LIMIT = 100
"""Unix socket paths longer than about 104-108 bytes (by OS) cannot be bound."""


class LocalNetError(RuntimeError):
    """A node or its app failed to start, or the network's files are not as expected."""


@dataclass
class NodeRecord:
    """One node as recorded in the state file. Paths are relative to the network's home."""

    index: int
    moniker: str
    home: str
    node_id: str
    validator_address: str
    p2p_port: int
    rpc_port: int
    abci_port: int
    abci_address: str
    cometbft: ProcessRef | None = None
    app: ProcessRef | None = None
    app_command: list[str] | None = None
    app_env: dict[str, str] = field(default_factory=dict)

    @property
    def rpc_url(self) -> str:
        return f"http://127.0.0.1:{self.rpc_port}"


@dataclass(frozen=True)
class NodeStatus:
    """What a node reports about itself through RPC."""

    height: int
    block_hash: str
    app_hash: str
    block_time: str
    catching_up: bool
    peers: int
    node_id: str


class LocalNet:
    """Handle on a local network's files and processes; make one with ``create`` or ``load``."""

    def __init__(self, home: Path, chain_id: str, binary: Path, nodes: list[NodeRecord]) -> None:
        self.home = home
        self.chain_id = chain_id
        self.binary = binary
        self.nodes = nodes

    # --- creating and loading ------------------------------------------------------------

    @classmethod
    def create(
        cls,
        home: Path,
        validators: int,
        *,
        chain_id: str,
        genesis_time: datetime | str | None = None,
        app_state: bytes | None = None,
        powers: Sequence[int] | None = None,
        consensus_params: Mapping[str, Any] | None = None,
        timeouts: ConsensusTimeouts = LAN_TIMEOUTS,
        create_empty_blocks: bool = True,
        create_empty_blocks_interval: str = "0s",
        abci_transport: str = "tcp",
        base_port: int | None = None,
        log_level: str = "info",
        binary: Path | None = None,
    ) -> LocalNet:
        """Make the homes of a new ``validators``-node network under ``home`` (which must be empty).

        Args:
            genesis_time: RFC 3339 string or aware datetime; now by default.
            app_state: the genesis ``app_state`` as JSON bytes, kept byte for byte.
            powers: voting power of each validator (10 each by default).
            consensus_params: deep-merged over CometBFT's defaults, e.g.
                ``{"abci": {"vote_extensions_enable_height": "2"}}``.
            abci_transport: ``"tcp"`` (a loopback port per node) or ``"unix"`` (a socket
                in the node's home).
            base_port: node i uses base_port + 10*i + 0/1/2 for p2p/RPC/ABCI; free ports by default.

        Raises:
            LocalNetError: ``home`` is not empty, or ports or sockets cannot be had.
        """
        if validators < 1:
            raise ValueError("a network needs at least one validator")
        home = home.resolve()
        if home.exists() and any(home.iterdir()):
            raise LocalNetError(f"{home} is not empty; pick a new folder or remove it")
        if abci_transport not in ("tcp", "unix"):
            raise ValueError(f"abci_transport must be 'tcp' or 'unix', not {abci_transport!r}")
        powers = list(powers) if powers is not None else [10] * validators
        if len(powers) != validators:
            raise ValueError(f"{validators} validators but {len(powers)} powers")
        binary = binary or ensure_cometbft()
        base = base_port if base_port is not None else _free_port_base(validators)
        home.mkdir(parents=True, exist_ok=True)

        keys = [init_home(binary, home / f"node{i}") for i in range(validators)]
        default_genesis = json.loads((home / "node0" / "config" / "genesis.json").read_text())
        genesis = render_genesis(
            chain_id=chain_id,
            genesis_time=format_genesis_time(genesis_time),
            validators=[(f"node{i}", keys[i], powers[i]) for i in range(validators)],
            consensus_params=merge(default_genesis["consensus_params"], consensus_params or {}),
            app_state=app_state,
        )
        nodes = []
        for i in range(validators):
            p2p, rpc, abci_port = base + 10 * i, base + 10 * i + 1, base + 10 * i + 2
            nodes.append(
                NodeRecord(
                    index=i,
                    moniker=f"node{i}",
                    home=f"node{i}",
                    node_id=keys[i].node_id,
                    validator_address=keys[i].validator_address,
                    p2p_port=p2p,
                    rpc_port=rpc,
                    abci_port=abci_port,
                    abci_address=_abci_address(home / f"node{i}", abci_port, abci_transport),
                )
            )
        for node in nodes:
            node_home = home / node.home
            (node_home / "config" / "genesis.json").write_bytes(genesis)
            configure_node(
                node_home,
                moniker=node.moniker,
                p2p_port=node.p2p_port,
                rpc_port=node.rpc_port,
                abci_address=node.abci_address,
                persistent_peers=[
                    f"{p.node_id}@127.0.0.1:{p.p2p_port}" for p in nodes if p is not node
                ],
                timeouts=timeouts,
                create_empty_blocks=create_empty_blocks,
                create_empty_blocks_interval=create_empty_blocks_interval,
                log_level=log_level,
            )
        net = cls(home, chain_id, binary, nodes)
        net.save()
        return net

    @classmethod
    def load(cls, home: Path) -> LocalNet:
        """Open a network that ``create`` made, with the pids its last user recorded.

        Raises:
            LocalNetError: there is no network at ``home``.
        """
        home = home.resolve()
        try:
            state = json.loads((home / STATE_FILE).read_text())
        except FileNotFoundError:
            raise LocalNetError(f"no local network at {home} (missing {STATE_FILE})") from None
        nodes = []
        for raw in state["nodes"]:
            for name in ("cometbft", "app"):
                raw[name] = ProcessRef(**raw[name]) if raw.get(name) else None
            nodes.append(NodeRecord(**raw))
        return cls(home, state["chain_id"], Path(state["binary"]), nodes)

    def save(self) -> None:
        """Write the state file atomically, so a crash never leaves half of it."""
        state = {
            "chain_id": self.chain_id,
            "binary": str(self.binary),
            "nodes": [dataclasses.asdict(node) for node in self.nodes],
        }
        scratch = self.home / f".{STATE_FILE}.tmp"
        scratch.write_text(json.dumps(state, indent=2) + "\n")
        os.replace(scratch, self.home / STATE_FILE)

    # --- processes ----------------------------------------------------------------------------

    def node_home(self, index: int) -> Path:
        return self.home / self.nodes[index].home

    def cometbft_log(self, index: int) -> Path:
        return self.node_home(index) / "cometbft.log"

    def app_log(self, index: int) -> Path:
        return self.node_home(index) / "app.log"

    def is_running(self, index: int) -> bool:
        """True while the node's CometBFT process runs."""
        return _process.is_alive(self.nodes[index].cometbft)

    def start_node(
        self,
        index: int,
        app_command: Sequence[str] | None = None,
        *,
        app_env: Mapping[str, str] | None = None,
        timeout: float = 60.0,
    ) -> None:
        """Start node ``index``: its app (if ``app_command`` is given), then CometBFT.

        Without ``app_command`` the node's ABCI address must already be served (by the caller,
        or by an app process that is still running). Returns once the node answers RPC, which
        CometBFT does only after its handshake with the app (and any replay) is done.

        Raises:
            LocalNetError: the app or CometBFT exited or did not come up within ``timeout``.
        """
        node = self.nodes[index]
        if self.is_running(index):
            raise LocalNetError(
                f"node {index} is already running; stop it first (see {self.cometbft_log(index)})"
            )
        deadline = time.monotonic() + timeout
        if app_command is not None:
            node.app_command = list(app_command)
            node.app_env = dict(app_env or {})
            _process.end(node.app, graceful=True)
            node.app = _process.spawn(
                node.app_command, log_path=self.app_log(index), env=self._app_environment(node)
            )
            self.save()
        try:
            self._wait_for_abci(index, deadline)
            node.cometbft = _process.spawn(
                [str(self.binary), "start", "--home", str(self.node_home(index))],
                log_path=self.cometbft_log(index),
            )
            self.save()
            self._wait_for_rpc(index, deadline)
        except LocalNetError:
            self.kill_node(index)  # leave nothing half-started behind
            raise

    def stop_node(self, index: int, *, timeout: float = 15.0) -> None:
        """Stop node ``index`` gracefully (SIGTERM): CometBFT first, then its app."""
        node = self.nodes[index]
        _process.end(node.cometbft, graceful=True, timeout=timeout)
        _process.end(node.app, graceful=True, timeout=timeout)
        node.cometbft = node.app = None
        self.save()

    def kill_node(self, index: int) -> None:
        """Crash node ``index`` (SIGKILL to CometBFT and its app), as a power cut would."""
        node = self.nodes[index]
        _process.end(node.cometbft, graceful=False)
        _process.end(node.app, graceful=False)
        node.cometbft = node.app = None
        self.save()

    def restart_node(
        self, index: int, app_command: Sequence[str] | None = None, *, timeout: float = 60.0
    ) -> None:
        """Stop node ``index`` if it runs; start it with ``app_command`` or the one it last had."""
        node = self.nodes[index]
        command = app_command if app_command is not None else node.app_command
        self.stop_node(index)
        self.start_node(index, command, app_env=node.app_env, timeout=timeout)

    def start_all(
        self, app_command: Sequence[str] | None = None, *, app_env: Mapping[str, str] | None = None
    ) -> None:
        """Start every node that is not running, each with its own copy of ``app_command``."""
        for index in range(len(self.nodes)):
            if not self.is_running(index):
                self.start_node(index, app_command, app_env=app_env)

    def stop_all(self) -> None:
        """Stop every node that runs."""
        for index in range(len(self.nodes)):
            self.stop_node(index)

    # --- RPC ----------------------------------------------------------------------------------

    def rpc(self, index: int) -> CometRpc:
        """A JSON-RPC client for node ``index`` (close it, or use it in a ``with``)."""
        return CometRpc(self.nodes[index].rpc_url)

    def status(self, index: int) -> NodeStatus:
        """Height, hashes and peer count of node ``index``."""
        with self.rpc(index) as rpc:
            status = rpc.status()
            peers = int(rpc.net_info()["n_peers"])
        sync = status["sync_info"]
        return NodeStatus(
            height=int(sync["latest_block_height"]),
            block_hash=sync["latest_block_hash"],
            app_hash=sync["latest_app_hash"],
            block_time=sync["latest_block_time"],
            catching_up=bool(sync["catching_up"]),
            peers=peers,
            node_id=status["node_info"]["id"],
        )

    def broadcast_tx_sync(self, index: int, tx: bytes) -> dict[str, Any]:
        """Submit ``tx`` at node ``index``; CheckTx's ``code`` and ``log``, and the ``hash``."""
        with self.rpc(index) as rpc:
            return rpc.broadcast_tx_sync(tx)

    def wait_for_height(self, index: int, height: int, *, timeout: float = 30.0) -> NodeStatus:
        """Poll node ``index`` until it has committed ``height``.

        Raises:
            LocalNetError: not reached within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        last: NodeStatus | None = None
        while time.monotonic() < deadline:
            try:
                last = self.status(index)
                if last.height >= height:
                    return last
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise LocalNetError(
            f"node {index} did not reach height {height} in {timeout}s (last: {last})"
        )

    # --- helpers ------------------------------------------------------------------------------

    def _app_environment(self, node: NodeRecord) -> dict[str, str]:
        return {
            **os.environ,
            **node.app_env,
            "PORTCHAIN_ABCI_ADDRESS": node.abci_address,
            "PORTCHAIN_NODE_HOME": str(self.home / node.home),
            "PORTCHAIN_NODE_INDEX": str(node.index),
            "PORTCHAIN_CHAIN_ID": self.chain_id,
        }

    def _wait_for_abci(self, index: int, deadline: float) -> None:
        node = self.nodes[index]
        address = parse_address(node.abci_address)
        while time.monotonic() < deadline:
            if node.app is not None and not _process.is_alive(node.app):
                raise LocalNetError(f"app of node {index} exited:\n{_tail(self.app_log(index))}")
            try:
                if address.scheme == "unix":
                    with socket.socket(socket.AF_UNIX) as probe:
                        probe.connect(str(address.path))
                else:
                    socket.create_connection((address.host, address.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise LocalNetError(f"nothing serves ABCI at {node.abci_address} for node {index}")

    def _wait_for_rpc(self, index: int, deadline: float) -> None:
        while time.monotonic() < deadline:
            if not self.is_running(index):
                raise LocalNetError(
                    f"cometbft of node {index} exited:\n{_tail(self.cometbft_log(index))}"
                )
            try:
                with self.rpc(index) as rpc:
                    rpc.status()
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise LocalNetError(
            f"node {index} did not answer RPC in time:\n{_tail(self.cometbft_log(index))}"
        )


def _abci_address(node_home: Path, port: int, transport: str) -> str:
    if transport == "tcp":
        return f"tcp://127.0.0.1:{port}"
    path = node_home / "app.sock"
    if len(str(path)) > _UNIX_SOCKET_PATH_LIMIT:
        raise LocalNetError(
            f"unix socket path too long for the OS ({len(str(path))} bytes): {path}"
        )
    return f"unix://{path}"


def _free_port_base(validators: int, attempts: int = 50) -> int:
    """A base port whose 10-port blocks are all free, below the OS's ephemeral range.

    Ports from the ephemeral range could be handed to some outgoing connection before the node
    listens, so we pick from 20000-29999, which Linux does not use for outgoing connections.
    """
    for _ in range(attempts):
        base = random.randrange(20000, 30000 - 10 * validators, 10)
        ports = [base + 10 * i + k for i in range(validators) for k in range(3)]
        if all(_port_free(port) for port in ports):
            return base
    raise LocalNetError("no free block of loopback ports found in 20000-29999")


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"
