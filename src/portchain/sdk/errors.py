"""The SDK's exceptions, one tree, so a caller can catch all of them at once::

    ClientError                    anything the SDK raises on purpose
     ├── NodeError                 the node answered with problem+json (status, problem)
     ├── StreamError               an event stream ended and could not be resumed
     ├── ProofError                a proven read does not check against what the caller trusts
     └── WebhookVerificationError  a webhook delivery's signature or timestamp is not valid

Network failures surface as httpx's own exceptions (``httpx.TransportError``).
"""

from __future__ import annotations

from typing import Any


class ClientError(Exception):
    """Base of every error the SDK raises on purpose."""


class NodeError(ClientError):
    """The node refused a request; ``problem`` holds its problem+json answer."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        super().__init__(problem.get("detail") or problem.get("title") or f"HTTP {status}")


class StreamError(ClientError):
    """An event stream ended (``reason`` as the node gave it) and resuming did not help."""

    def __init__(self, reason: str, detail: str, cursor: tuple[int, int] | None) -> None:
        self.reason = reason
        self.detail = detail
        self.cursor = cursor
        super().__init__(f"{reason}: {detail}")


class WebhookVerificationError(ClientError):
    """A webhook delivery did not come from a holder of the secret, or came too late."""


class ProofError(ClientError):
    """A value read with its proof does not check against the trusted app hash or validators."""
