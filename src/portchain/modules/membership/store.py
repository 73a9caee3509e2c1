"""Where membership keeps its records in state, and the records themselves.

Keys::

    membership/policy                     the governance policy
    membership/org/<org id>               an organisation
    membership/key/<key id>               a signing key
    membership/orgkey/<org id>/<key id>   marker: lists an org's keys by prefix
    membership/proposal/<id>              a proposal and its votes
    membership/open                       ids of open proposals (bounded list)
    membership/stewards                   ids of active steward organisations, sorted
    membership/next_proposal              the next proposal id
    membership/validators                 the consensus validator set: key -> org and power
    membership/validator_proposal/<id>    what a set_validator proposal would change
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from portchain.kernel.module import StateReader
from portchain.kernel.state import State

PREFIX = "membership/"
ORG = "membership/org/"
KEY = "membership/key/"
ORG_KEY = "membership/orgkey/"
PROPOSAL = "membership/proposal/"
POLICY = "membership/policy"
OPEN = "membership/open"
STEWARDS = "membership/stewards"
NEXT_PROPOSAL = "membership/next_proposal"
VALIDATORS = "membership/validators"
VALIDATOR_PROPOSAL = "membership/validator_proposal/"

# Organisation statuses.
APPLICANT = "applicant"
ACTIVE = "active"
SUSPENDED = "suspended"
REJECTED = "rejected"

# Key statuses.
KEY_ACTIVE = "active"
KEY_REVOKED = "revoked"
KEY_ROTATED = "rotated"


@dataclass(frozen=True)
class Policy:
    """A proposal passes when yes votes exceed ``threshold_num/threshold_den`` of the stewards."""

    threshold_num: int = 2
    threshold_den: int = 3
    voting_period_ms: int = 7 * 24 * 3600 * 1000
    """How long a proposal stays open, in milliseconds of block time."""
    max_open_proposals: int = 256

    def passes(self, yes: int, stewards: int) -> bool:
        return yes * self.threshold_den > self.threshold_num * stewards

    def cannot_pass(self, no: int, stewards: int) -> bool:
        return not self.passes(stewards - no, stewards)


@dataclass(frozen=True)
class Org:
    id: str
    name: str
    country: str
    roles: list[str]
    encryption_key: str
    steward: bool = False
    status: str = ACTIVE
    admin_keys: int = 0
    """Number of active admin keys, so the last one cannot be revoked."""
    joined_ms: int = 0
    proposal_id: int = 0
    """The open proposal concerning this organisation, or 0."""


@dataclass(frozen=True)
class Key:
    key_id: str
    org: str
    public_key: str
    roles: list[str]
    admin: bool
    label: str = ""
    status: str = KEY_ACTIVE
    registered_ms: int = 0
    replaced_by: str = ""


@dataclass(frozen=True)
class Proposal:
    id: int
    kind: str
    """admit, suspend, readmit, set_roles, set_steward or set_validator."""
    org_id: str
    proposer: str
    """The organisation that proposed it (the applicant itself for admit)."""
    created_ms: int
    ends_ms: int
    roles: list[str] | None = None
    steward: bool | None = None
    reason: str = ""
    applicant_key: str = ""
    """For admit: the application's key, revoked if the application fails."""
    status: str = "open"
    """open, passed, rejected or expired."""
    votes: dict[str, str] = field(default_factory=dict)
    """Steward org id -> "yes" or "no"."""
    decided_height: int = 0


def _load(reader: StateReader, key: str) -> Any:
    raw = reader.get(key)
    return None if raw is None else json.loads(raw)


def get_policy(reader: StateReader) -> Policy:
    data = _load(reader, POLICY)
    return Policy() if data is None else Policy(**data)


_DECODED_ORGS: dict[bytes, Org] = {}
"""Organisation records decoded before, by their stored bytes: every transaction's handler
reads its signer's organisation, and the bytes (cached by the storage) rarely change."""


def get_org(reader: StateReader, org_id: str) -> Org | None:
    raw = reader.get(ORG + org_id)
    if raw is None:
        return None
    org = _DECODED_ORGS.get(raw)
    if org is None:
        if len(_DECODED_ORGS) >= 4096:
            _DECODED_ORGS.clear()
        org = _DECODED_ORGS[raw] = Org(**json.loads(raw))
    return org


def put_org(state: State, org: Org) -> None:
    state.set_json(ORG + org.id, vars(org))


def get_key(reader: StateReader, key_id: str) -> Key | None:
    data = _load(reader, KEY + key_id)
    return None if data is None else Key(**data)


def put_key(state: State, key: Key) -> None:
    state.set_json(KEY + key.key_id, vars(key))
    state.set(f"{ORG_KEY}{key.org}/{key.key_id}", b"1")


def get_proposal(reader: StateReader, proposal_id: int) -> Proposal | None:
    data = _load(reader, f"{PROPOSAL}{proposal_id:012d}")
    return None if data is None else Proposal(**data)


def put_proposal(state: State, proposal: Proposal) -> None:
    state.set_json(f"{PROPOSAL}{proposal.id:012d}", vars(proposal))


def get_stewards(reader: StateReader) -> list[str]:
    return list(_load(reader, STEWARDS) or [])


def put_stewards(state: State, stewards: list[str]) -> None:
    state.set_json(STEWARDS, sorted(set(stewards)))


def get_open(reader: StateReader) -> list[int]:
    return list(_load(reader, OPEN) or [])


def put_open(state: State, ids: list[int]) -> None:
    state.set_json(OPEN, sorted(ids))


def next_proposal_id(state: State) -> int:
    raw = state.get(NEXT_PROPOSAL)
    current = 1 if raw is None else int(raw)
    state.set(NEXT_PROPOSAL, str(current + 1).encode())
    return current


@dataclass(frozen=True)
class ValidatorSeat:
    """One consensus validator: the organisation that runs it and its voting power."""

    org: str
    power: int


def get_validators(reader: StateReader) -> dict[str, ValidatorSeat]:
    """The validator set by Ed25519 public key (hex); empty on a chain that does not govern one."""
    data = _load(reader, VALIDATORS) or {}
    return {key: ValidatorSeat(**seat) for key, seat in data.items()}


def put_validators(state: State, validators: dict[str, ValidatorSeat]) -> None:
    state.set_json(VALIDATORS, {key: vars(seat) for key, seat in validators.items()})


def get_validator_change(reader: StateReader, proposal_id: int) -> tuple[str, int] | None:
    """(public key hex, power) that a set_validator proposal asks for."""
    data = _load(reader, f"{VALIDATOR_PROPOSAL}{proposal_id:012d}")
    return None if data is None else (data["validator_key"], data["power"])


def put_validator_change(state: State, proposal_id: int, validator_key: str, power: int) -> None:
    """Kept beside the proposal, not in it, so other proposals' records keep their shape."""
    state.set_json(
        f"{VALIDATOR_PROPOSAL}{proposal_id:012d}", {"power": power, "validator_key": validator_key}
    )
