"""ABCI listen addresses as CometBFT writes them: ``tcp://127.0.0.1:26658`` or ``unix://path``.

Only loopback TCP is accepted: the app and its CometBFT node always share a machine, and an
ABCI port reachable from the network would let anyone drive the state machine.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class AbciAddress:
    """A parsed address: ``host``/``port`` for TCP, ``path`` for a unix socket."""

    scheme: str
    host: str = ""
    port: int = 0
    path: Path | None = None

    def __str__(self) -> str:
        if self.scheme == "unix":
            return f"unix://{self.path}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"tcp://{host}:{self.port}"


def parse_address(address: str) -> AbciAddress:
    """Parse ``tcp://host:port``, ``host:port`` or ``unix://path``.

    Raises:
        ValueError: the address is malformed, or names a TCP host that is not loopback.
    """
    if address.startswith("unix://"):
        path = address.removeprefix("unix://")
        if not path:
            raise ValueError(f"unix socket address without a path: {address!r}")
        return AbciAddress(scheme="unix", path=Path(path))
    rest = address.removeprefix("tcp://")
    host, separator, port_text = rest.rpartition(":")
    if not separator or not port_text.isdigit():
        raise ValueError(f"ABCI address must be tcp://host:port or unix://path, got {address!r}")
    host = host.removeprefix("[").removesuffix("]")
    if not _is_loopback(host):
        raise ValueError(f"ABCI address must be on loopback (127.0.0.1), got {host!r}")
    port = int(port_text)
    if port > 65535:
        raise ValueError(f"port out of range in {address!r}")
    return AbciAddress(scheme="tcp", host=host, port=port)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
