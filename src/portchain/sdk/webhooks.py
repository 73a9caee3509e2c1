"""Webhook signatures: how the node signs a delivery and how a receiver checks it.

The node POSTs a JSON body with two headers::

    X-Portchain-Timestamp: 1790000000              (Unix seconds when this attempt was sent)
    X-Portchain-Signature: sha256=<hex>            HMAC-SHA256(secret, timestamp + "." + body)

The timestamp is inside the MAC, so a captured delivery cannot be replayed later
with a fresh timestamp; a receiver refuses timestamps older than a few minutes and
removes duplicates by event id (delivery is at least once). The node signs with
:func:`signature` below, so the sender and :func:`verify_webhook` cannot drift apart.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

from portchain.sdk.errors import WebhookVerificationError

SIGNATURE_HEADER = "X-Portchain-Signature"
TIMESTAMP_HEADER = "X-Portchain-Timestamp"
TOLERANCE_SECONDS = 300
"""How old (or how far in the future) a delivery's timestamp may be, in seconds."""


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Portchain-Signature`` value of ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def _header(headers: Mapping[str, str] | Any, name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return str(value)
    lowered = name.lower()
    for key, item in headers.items():
        if str(key).lower() == lowered:
            return str(item)
    return None


def verify_webhook(
    body: bytes,
    headers: Mapping[str, str] | Any,
    secret: str,
    tolerance: float = TOLERANCE_SECONDS,
    now: float | None = None,
) -> dict[str, Any]:
    """Check a delivery's signature and age; return its decoded JSON payload.

    ``headers`` is any mapping with ``get`` and ``items`` (a dict, httpx or http.server
    headers). Raises :class:`WebhookVerificationError` if a header is missing, the
    signature does not match ``secret``, or the timestamp is outside ``tolerance``.
    """
    timestamp = _header(headers, TIMESTAMP_HEADER)
    given = _header(headers, SIGNATURE_HEADER)
    if timestamp is None or given is None:
        raise WebhookVerificationError(f"{TIMESTAMP_HEADER} and {SIGNATURE_HEADER} are required")
    if not timestamp.isdigit():
        raise WebhookVerificationError(f"{TIMESTAMP_HEADER} is not Unix seconds")
    expected = signature(secret, timestamp, body)
    if not hmac.compare_digest(expected.encode(), given.strip().encode()):
        raise WebhookVerificationError("the signature does not match the body and the secret")
    age = (time.time() if now is None else now) - int(timestamp)
    if abs(age) > tolerance:
        raise WebhookVerificationError(f"the delivery is {int(age)} s old; refused as a replay")
    payload: dict[str, Any] = json.loads(body)
    return payload
