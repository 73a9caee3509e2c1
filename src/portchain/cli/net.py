"""``portchain net``: a local network of CometBFT validators, each with its portchain app and API.

    portchain net up --home DIR --validators 4    # create (if DIR is empty) and start
    portchain net status --home DIR               # heights, app hashes, peers
    portchain net stop|kill|start NODE --home DIR
    portchain net down --home DIR

Layout of DIR::

    DIR/genesis.json        the portchain genesis (its validators are the CometBFT validators)
    DIR/keys/               the demo cast's signing keys (clients sign with these)
    DIR/net/localnet.json   the CometBFT processes (see engines/cometbft/localnet.py)
    DIR/net/portchain-net.json   each node's organisation and API port
    DIR/net/nodeI/          node I's CometBFT home (config/, data/, logs)
    DIR/net/nodeI/app/      node I's portchain home (genesis.json, data/portchain.db)

One genesis feeds both sides: the portchain genesis document is CometBFT's ``app_state``, and
it names CometBFT's validator keys and powers (see ``engines/cometbft/adapter.py``). Each
validator is run by one of the founding organisations (the port operators, the carrier,
customs, a bank...). Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import socket
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from portchain.cli.output import emit
from portchain.node.home import Home

app = typer.Typer(
    help="A local CometBFT network: one validator and one portchain app (with its API) per node.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

NET_DIR = "net"
STATE_FILE = "portchain-net.json"
VALIDATOR_POWER = 10
OPERATORS = (
    "SHEKOU-PORT",
    "RTM-PORT",
    "MERIDIAN",
    "CN-CUSTOMS",
    "SZTRADEBANK",
    "NL-CUSTOMS",
    "HOLLANDBANK",
    "RTM-DELTA",
    "SHEKOU-CT",
)
"""Demo organisations that run validators, in node order: the stewards first, then a bank."""

LAN_CONFIG: dict[tuple[str, str], str | int | bool] = {
    ("rpc", "max_request_batch_size"): 5000,  # the engine batches broadcast_tx_sync calls
    ("rpc", "max_body_bytes"): 32_000_000,
    ("mempool", "size"): 50_000,
    ("mempool", "cache_size"): 200_000,
    ("mempool", "recheck"): False,
    ("tx_index", "indexer"): "null",  # portchain indexes its own results
    ("consensus", "peer_gossip_sleep_duration"): "10ms",
}
"""config.toml settings beyond LocalNet's LAN timeouts: room for load, no duplicate indexing.

Re-checking the whole mempool after every block costs one ABCI round trip per waiting
transaction (seconds under load, while consensus waits). Without it a transaction whose
sequence number a block used up stays in some mempool until proposed, then fails in its block
with ``tx/6 sequence``, changing nothing; the adapter still answers a re-check if enabled."""


@dataclass
class NetNode:
    """One node of the network as the state file records it."""

    index: int
    org: str
    api_port: int
    validator: bool

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"


class PortchainNet:
    """A network's files and processes: CometBFT through ``LocalNet``, apps through their API."""

    def __init__(self, home: Path, nodes: list[NetNode]) -> None:
        from portchain.engines.cometbft.localnet import LocalNet

        self.home = home.resolve()
        self.nodes = nodes
        self.localnet = LocalNet.load(self.home / NET_DIR)

    # -- creating -------------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        home: Path,
        validators: int,
        *,
        full_nodes: int = 0,
        chain_id: str = "portchain-net",
        cast: Sequence[Any] | None = None,
        operators: Sequence[str] = OPERATORS,
        config: Mapping[tuple[str, str], str | int | bool] | None = None,
        timeouts: Any = None,
        consensus_params: Mapping[str, Any] | None = None,
        log_level: str = "info",
    ) -> PortchainNet:
        """Make keys, one genesis and a home per node under the empty folder ``home``.

        ``full_nodes`` more nodes follow the validators: they sync and serve the API but do not
        sign until governance makes them validators. ``config`` (config.toml), ``timeouts`` and
        ``consensus_params`` (genesis) adjust CometBFT beyond the LAN defaults.
        """
        from portchain.app.genesis import GenesisDoc, Validator
        from portchain.engines.cometbft._toml_edit import set_values
        from portchain.engines.cometbft.localnet import LocalNet
        from portchain.node.presets import DEMO_CAST, create_network

        target = Home(home)
        if not target.is_empty():
            raise ValueError(f"{home} is not empty; choose a new directory")
        time_ms = time.time_ns() // 1_000_000
        solo = create_network(
            target, chain_id=chain_id, cast=tuple(cast or DEMO_CAST), genesis_time_ms=time_ms
        )
        (target.keys_dir / "validator.json").unlink()  # a CometBFT network has no solo validator
        total = validators + full_nodes
        localnet = LocalNet.create(
            home.resolve() / NET_DIR,
            total,
            chain_id=chain_id,
            genesis_time=datetime.fromtimestamp(time_ms / 1000, tz=UTC),
            app_state=b"{}",
            log_level=log_level,
            consensus_params=consensus_params,
            **({"timeouts": timeouts} if timeouts is not None else {}),
        )
        org_ids = [o["id"] for o in solo.app_state["membership"]["organisations"]]
        runners = [o for o in operators if o in org_ids] or org_ids
        keys = [_validator_key(localnet.node_home(i)) for i in range(total)]
        orgs = [runners[i % len(runners)] for i in range(total)]
        seats = [(keys[i], orgs[i]) for i in range(validators)]
        membership = {
            **solo.app_state["membership"],
            "validators": [
                {"public_key": key, "power": VALIDATOR_POWER, "org": org} for key, org in seats
            ],
        }
        genesis = GenesisDoc(
            chain_id=chain_id,
            genesis_time_ms=time_ms,
            validators=[
                Validator(name=f"{org} node{i}", public_key=key, power=VALIDATOR_POWER)
                for i, (key, org) in enumerate(seats)
            ],
            app_state={**solo.app_state, "membership": membership},
        )
        target.write_genesis(genesis)
        settings = {**LAN_CONFIG, **(config or {})}
        for i in range(total):
            node_home = localnet.node_home(i)
            Home(node_home / "app").write_genesis(genesis)
            comet_genesis_path = node_home / "config" / "genesis.json"
            comet_genesis = json.loads(comet_genesis_path.read_text())
            comet_genesis["validators"] = comet_genesis["validators"][:validators]
            comet_genesis["app_state"] = genesis.model_dump()
            comet_genesis_path.write_text(json.dumps(comet_genesis, indent=2) + "\n")
            config_path = node_home / "config" / "config.toml"
            config_path.write_text(set_values(config_path.read_text(), settings))
        nodes = [
            NetNode(i, orgs[i], _api_port(localnet.nodes[i].p2p_port + 3), i < validators)
            for i in range(total)
        ]
        _save(home.resolve(), nodes)
        return cls(home, nodes)

    @classmethod
    def load(cls, home: Path) -> PortchainNet:
        """Open the network that ``create`` made in ``home``.

        Raises:
            FileNotFoundError: there is none.
        """
        path = home.resolve() / NET_DIR / STATE_FILE
        if not path.exists():
            raise FileNotFoundError(f"no portchain network in {home}; run portchain net up")
        state = json.loads(path.read_text())
        return cls(home, [NetNode(**raw) for raw in state["nodes"]])

    @staticmethod
    def exists(home: Path) -> bool:
        return (home / NET_DIR / STATE_FILE).exists()

    # -- processes ------------------------------------------------------------------------
    def app_home(self, index: int) -> Path:
        return self.localnet.node_home(index) / "app"

    def validator_key(self, index: int) -> bytes:
        """Node ``index``'s CometBFT validator key (Ed25519 public key), validator or not yet."""
        return bytes.fromhex(_validator_key(self.localnet.node_home(index)))

    def app_command(self, index: int) -> list[str]:
        """The command that runs node ``index``'s portchain app (ABCI + API)."""
        return [
            sys.executable,
            "-m",
            "portchain.engines.cometbft.node_process",
            "--home",
            str(self.app_home(index)),
            "--api-port",
            str(self.nodes[index].api_port),
            "--rpc-url",
            self.localnet.nodes[index].rpc_url,
        ]

    def start(
        self, index: int, *, env: Mapping[str, str] | None = None, timeout: float = 60.0
    ) -> None:
        """Start node ``index`` (its app, then CometBFT) and wait until its API answers."""
        if self.localnet.is_running(index):
            self.localnet.stop_node(index)
        self.localnet.start_node(
            index, self.app_command(index), app_env=dict(env or {}), timeout=timeout
        )
        self.wait_for_api(index, timeout=timeout)

    def start_all(self, *, env: Mapping[str, str] | None = None) -> None:
        for index in range(len(self.nodes)):
            if not self.localnet.is_running(index):
                self.start(index, env=env)

    def stop(self, index: int) -> None:
        """Stop node ``index`` gracefully: CometBFT, then its app."""
        self.localnet.stop_node(index)

    def kill(self, index: int) -> None:
        """SIGKILL node ``index``'s CometBFT and app, as a power cut would."""
        self.localnet.kill_node(index)

    def down(self) -> None:
        self.localnet.stop_all()

    def wait_for_api(self, index: int, *, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(self.nodes[index].api_url + "/healthz", timeout=2).is_success:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"the API of node {index} did not answer in {timeout}s")
            time.sleep(0.1)

    # -- reading --------------------------------------------------------------------------
    def status(self) -> list[dict[str, Any]]:
        """Per node: running, height, app hash, peers, API (from CometBFT's RPC)."""
        out = []
        for node in self.nodes:
            entry: dict[str, Any] = {
                "node": f"node{node.index}",
                "org": node.org,
                "api": node.api_url,
                "rpc": self.localnet.nodes[node.index].rpc_url,
                "running": self.localnet.is_running(node.index),
            }
            if entry["running"]:
                try:
                    status = self.localnet.status(node.index)
                    entry.update(
                        height=status.height,
                        app_hash=status.app_hash,
                        peers=status.peers,
                        catching_up=status.catching_up,
                    )
                except httpx.HTTPError as exc:
                    entry["error"] = f"RPC not answering: {exc.__class__.__name__}"
            out.append(entry)
        return out

    def summary(self) -> dict[str, Any]:
        return {
            "home": str(self.home),
            "chain_id": self.localnet.chain_id,
            "nodes": [
                {
                    "node": f"node{n.index}",
                    "org": n.org,
                    "validator_at_genesis": n.validator,
                    "api": n.api_url,
                    "rpc": self.localnet.nodes[n.index].rpc_url,
                    "app_home": str(self.app_home(n.index)),
                }
                for n in self.nodes
            ],
        }


def _validator_key(node_home: Path) -> str:
    """Node's CometBFT validator public key (Ed25519) as hex."""
    import base64

    key = json.loads((node_home / "config" / "priv_validator_key.json").read_text())
    return base64.b64decode(key["pub_key"]["value"]).hex()


def _api_port(preferred: int) -> int:
    """``preferred`` (beside the node's CometBFT ports) if free, else any free loopback port."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", preferred))
            return preferred
        except OSError:
            probe.bind(("127.0.0.1", 0))
            return int(probe.getsockname()[1])


def _save(home: Path, nodes: list[NetNode]) -> None:
    path = home / NET_DIR / STATE_FILE
    scratch = path.with_suffix(".tmp")
    scratch.write_text(json.dumps({"nodes": [dataclasses.asdict(n) for n in nodes]}, indent=2))
    os.replace(scratch, path)


def bring_up(home: Path, validators: int, chain_id: str) -> PortchainNet:
    """Create the network in ``home`` if it is empty, then start every node that is not running."""
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per RPC poll is noise here
    net = (
        PortchainNet.load(home)
        if PortchainNet.exists(home)
        else PortchainNet.create(home, validators, chain_id=chain_id)
    )
    net.start_all()
    for index in range(len(net.nodes)):
        net.localnet.wait_for_height(index, 1, timeout=60)
    return net


# -- commands -----------------------------------------------------------------------------
HomeOpt = Annotated[Path, typer.Option("--home", help="The network's directory.")]
NodeArg = Annotated[str, typer.Argument(help="The node: its index (0, 1...) or name (node0...).")]


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def _open(home: Path) -> PortchainNet:
    try:
        return PortchainNet.load(home)
    except FileNotFoundError as exc:
        _fail(str(exc))
        raise  # unreachable: _fail exits


def _index(net: PortchainNet, node: str) -> int:
    text = node.removeprefix("node")
    if not text.isdigit() or int(text) >= len(net.nodes):
        _fail(f"no node {node!r}; the network has node0 to node{len(net.nodes) - 1}")
    return int(text)


@app.command()
def up(
    home: HomeOpt,
    validators: Annotated[int, typer.Option(help="Number of validators (1-9).", min=1, max=9)] = 4,
    chain_id: Annotated[str, typer.Option(help="Chain id of a new network.")] = "portchain-net",
) -> None:
    """Create a local network in HOME (if empty) and start every node; prints each node's API.

    Each validator is a CometBFT node with its own portchain app and HTTP API, on 127.0.0.1.
    Needs the pinned CometBFT (built with Go on first use).
    """
    from portchain.engines.cometbft.localnet import LocalNetError
    from portchain.engines.cometbft.toolchain import ToolchainError

    try:
        net = bring_up(home, validators, chain_id)
    except (ValueError, ToolchainError, LocalNetError, TimeoutError) as exc:
        _fail(str(exc))
    emit(net.summary())


@app.command()
def status(home: HomeOpt) -> None:
    """Each node: running or not, height, app hash, peers, API and RPC addresses."""
    emit(_open(home).status())


@app.command()
def stop(home: HomeOpt, node: NodeArg) -> None:
    """Stop NODE gracefully (SIGTERM to CometBFT, then to its app)."""
    net = _open(home)
    net.stop(_index(net, node))
    emit({"node": f"node{_index(net, node)}", "running": False})


@app.command()
def kill(home: HomeOpt, node: NodeArg) -> None:
    """Crash NODE: SIGKILL its CometBFT and its app, as a power cut would."""
    net = _open(home)
    net.kill(_index(net, node))
    emit({"node": f"node{_index(net, node)}", "running": False})


@app.command()
def start(home: HomeOpt, node: NodeArg) -> None:
    """Start NODE again (app, then CometBFT); it replays and catches up with the others."""
    from portchain.engines.cometbft.localnet import LocalNetError

    net = _open(home)
    index = _index(net, node)
    try:
        net.start(index)
    except (LocalNetError, TimeoutError) as exc:
        _fail(str(exc))
    emit(net.status()[index])


@app.command()
def down(home: HomeOpt) -> None:
    """Stop every node of the network (its files stay; net up starts it again)."""
    net = _open(home)
    net.down()
    emit({"home": str(net.home), "running": False})


@contextmanager
def demo_gateway(home: Home, chain_id: str = "portchain-demo") -> Iterator[Any]:
    """A gateway to node 0's API of the 4-validator network in ``home``, brought up if needed."""
    from portchain.node.gateway import RemoteGateway
    from portchain.sdk.client import Client

    net = bring_up(home.path, 4, chain_id)
    with Client(net.nodes[0].api_url) as client:
        yield RemoteGateway(client)
