"""Lay out the CometBFT home folders of a local network: keys, one shared genesis, configs.

``cometbft init`` makes each node's keys and a default config; we then write one genesis
(every node's validator key, the caller's chain id, time and app state) to all homes, and set
each node's ports, peers and timeouts in its ``config.toml``.

``cometbft testnet`` would do the keys too, but it assumes one host per node (same ports,
different IPs); on one machine every node needs its own ports, so we assemble it ourselves.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from portchain.engines.cometbft._toml_edit import TomlScalar, set_values


@dataclass(frozen=True)
class ConsensusTimeouts:
    """Consensus timeouts as CometBFT durations; the defaults suit nodes on one machine.

    CometBFT's defaults (3 s propose, 1 s commit) are for validators across the internet; on
    loopback a round completes in milliseconds, so these keep blocks a few hundred ms apart.
    """

    propose: str = "500ms"
    propose_delta: str = "100ms"
    prevote: str = "200ms"
    prevote_delta: str = "100ms"
    precommit: str = "200ms"
    precommit_delta: str = "100ms"
    commit: str = "200ms"


@dataclass(frozen=True)
class NodeKeys:
    """Identity of one node as ``cometbft init`` made it."""

    node_id: str
    validator_address: str
    validator_pub_key: dict[str, str]


def init_home(binary: Path, home: Path) -> NodeKeys:
    """Run ``cometbft init`` in ``home`` and read back the node id and validator key.

    Raises:
        subprocess.CalledProcessError: ``cometbft`` refused (its output is in the exception).
    """
    subprocess.run([str(binary), "init", "--home", str(home)], check=True, capture_output=True)
    shown = subprocess.run(
        [str(binary), "show-node-id", "--home", str(home)],
        check=True,
        capture_output=True,
        text=True,
    )
    key = json.loads((home / "config" / "priv_validator_key.json").read_text())
    return NodeKeys(
        node_id=shown.stdout.strip(),
        validator_address=key["address"],
        validator_pub_key=key["pub_key"],
    )


def format_genesis_time(value: datetime | str | None) -> str:
    """RFC 3339 in UTC with a ``Z``; a string is passed through as the caller wrote it.

    Raises:
        ValueError: a datetime without a time zone (its instant would be ambiguous).
    """
    if value is None:
        value = datetime.now(UTC).replace(microsecond=0)
    if isinstance(value, str):
        return value
    if value.tzinfo is None:
        raise ValueError("genesis_time must carry a time zone")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def render_genesis(
    *,
    chain_id: str,
    genesis_time: str,
    validators: Sequence[tuple[str, NodeKeys, int]],
    consensus_params: Mapping[str, Any],
    app_state: bytes | None,
) -> bytes:
    """The genesis document, with ``app_state`` spliced in byte for byte.

    CometBFT hands the app the raw bytes of ``app_state`` in InitChain, so we must not
    re-encode the caller's JSON (key order, spacing and number forms would change the bytes
    the app hashes).

    Raises:
        ValueError: ``app_state`` is not UTF-8 JSON.
    """
    document = {
        "genesis_time": genesis_time,
        "chain_id": chain_id,
        "initial_height": "1",
        "consensus_params": consensus_params,
        "validators": [
            {
                "address": keys.validator_address,
                "pub_key": keys.validator_pub_key,
                "power": str(power),
                "name": name,
            }
            for name, keys, power in validators
        ],
        "app_hash": "",
    }
    text = json.dumps(document, indent=2)
    if app_state is not None:
        try:
            json.loads(app_state.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ValueError(f"app_state is not UTF-8 JSON: {exc}") from exc
        text = text[: -len("\n}")] + ',\n  "app_state": ' + app_state.decode("utf-8") + "\n}"
    return (text + "\n").encode("utf-8")


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge ``override`` into a copy of ``base`` (for consensus parameter tweaks)."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def configure_node(
    home: Path,
    *,
    moniker: str,
    p2p_port: int,
    rpc_port: int,
    abci_address: str,
    persistent_peers: Sequence[str],
    timeouts: ConsensusTimeouts,
    create_empty_blocks: bool,
    create_empty_blocks_interval: str,
    log_level: str,
) -> None:
    """Point the node at its ports, peers and app, and tune it for a single machine."""
    path = home / "config" / "config.toml"
    values: dict[tuple[str, str], TomlScalar] = {
        ("", "moniker"): moniker,
        ("", "proxy_app"): abci_address,
        ("", "abci"): "socket",
        ("", "log_level"): log_level,
        ("rpc", "laddr"): f"tcp://127.0.0.1:{rpc_port}",
        ("p2p", "laddr"): f"tcp://127.0.0.1:{p2p_port}",
        ("p2p", "persistent_peers"): ",".join(persistent_peers),
        # Peers on 127.0.0.1 are "non-routable" and share one IP; allow both on loopback.
        ("p2p", "addr_book_strict"): False,
        ("p2p", "allow_duplicate_ip"): True,
        # Gossip is batched for this long; 100 ms by default is most of a local round.
        ("p2p", "flush_throttle_timeout"): "10ms",
        ("consensus", "timeout_propose"): timeouts.propose,
        ("consensus", "timeout_propose_delta"): timeouts.propose_delta,
        ("consensus", "timeout_prevote"): timeouts.prevote,
        ("consensus", "timeout_prevote_delta"): timeouts.prevote_delta,
        ("consensus", "timeout_precommit"): timeouts.precommit,
        ("consensus", "timeout_precommit_delta"): timeouts.precommit_delta,
        ("consensus", "timeout_commit"): timeouts.commit,
        ("consensus", "create_empty_blocks"): create_empty_blocks,
        ("consensus", "create_empty_blocks_interval"): create_empty_blocks_interval,
    }
    path.write_text(set_values(path.read_text(), values))
