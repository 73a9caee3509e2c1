"""Read-only views of membership state for the API and the CLI.

Membership is public to every member of the network: organisations, their
roles and keys' public halves, proposals and votes (DESIGN.md: public data).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from portchain.kernel.access import Viewer
from portchain.kernel.module import QueryReader
from portchain.modules.membership import store


def organisations(reader: QueryReader, after: str = "", limit: int = 100) -> list[dict[str, Any]]:
    rows = reader.scan(store.ORG, after=store.ORG + after if after else "", limit=limit)
    return [json.loads(value) for _, value in rows]


def organisation(reader: QueryReader, org_id: str) -> dict[str, Any] | None:
    org = store.get_org(reader, org_id)
    return None if org is None else asdict(org)


def keys_of(reader: QueryReader, org_id: str, limit: int = 1000) -> list[dict[str, Any]]:
    prefix = f"{store.ORG_KEY}{org_id}/"
    out = []
    for key, _ in reader.scan(prefix, limit=limit):
        record = store.get_key(reader, key[len(prefix) :])
        if record is not None:
            out.append(asdict(record))
    return out


def key(reader: QueryReader, key_id: str) -> dict[str, Any] | None:
    record = store.get_key(reader, key_id)
    return None if record is None else asdict(record)


def proposals(
    reader: QueryReader, status: str | None = None, after: int = 0, limit: int = 100
) -> list[dict[str, Any]]:
    start = f"{store.PROPOSAL}{after:012d}" if after else ""
    out = []
    for _, value in reader.scan(store.PROPOSAL, after=start, limit=10_000):
        record = json.loads(value)
        if status is None or record["status"] == status:
            out.append(record)
            if len(out) >= limit:
                break
    return out


def proposal(reader: QueryReader, proposal_id: int) -> dict[str, Any] | None:
    record = store.get_proposal(reader, proposal_id)
    return None if record is None else asdict(record)


def policy(reader: QueryReader) -> dict[str, Any]:
    return {**asdict(store.get_policy(reader)), "stewards": store.get_stewards(reader)}


def viewer(reader: QueryReader, key_id: str) -> Viewer | None:
    """The organisation reading through ``key_id``, or None if the key or its org is not active."""
    record = store.get_key(reader, key_id)
    if record is None or record.status != store.KEY_ACTIVE:
        return None
    org = store.get_org(reader, record.org)
    if org is None or org.status != store.ACTIVE:
        return None
    return Viewer(org.id, org.country, frozenset(org.roles), key_id)
