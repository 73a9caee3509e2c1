"""The block environment handed explicitly to every handler.

Nothing in the state machine reads a clock, a random source or a global: what
a handler may know about "now" is this record, which is part of the block and
identical on every node (DESIGN.md invariant 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True, slots=True)
class BlockEnv:
    """Height, time and hash of the block being executed, and the chain it belongs to."""

    chain_id: str
    height: int
    time_ms: int
    """Block time in milliseconds since the Unix epoch (UTC), as proposed and agreed."""
    block_hash: bytes
    """Hash of the block header; the only source of randomness a handler may use."""
    proposer: str = ""

    @property
    def time_iso(self) -> str:
        """Block time as RFC 3339 UTC with milliseconds, e.g. ``2026-11-23T10:00:00.000Z``."""
        return format_time_ms(self.time_ms)


def format_time_ms(time_ms: int) -> str:
    """RFC 3339 UTC rendering of an epoch-milliseconds timestamp (no float arithmetic)."""
    seconds, millis = divmod(time_ms, 1000)
    stamp = datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{millis:03d}Z"
