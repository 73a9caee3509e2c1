"""The membership part of genesis: the founding organisations and the governance policy."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from portchain.kernel.crypto import key_id
from portchain.kernel.env import BlockEnv
from portchain.kernel.errors import InvalidError
from portchain.kernel.events import Event
from portchain.kernel.fields import Country, Hex32, Name, OrgId
from portchain.kernel.module import Message
from portchain.kernel.state import State
from portchain.modules.membership import events, store
from portchain.modules.membership.messages import Roles, ValidatorKey
from portchain.modules.membership.store import Key, Org, ValidatorSeat


class FoundingOrg(Message):
    id: OrgId
    name: Name
    country: Country
    roles: Roles
    steward: bool = False
    admin_key: Hex32
    """Ed25519 public key of the organisation's first admin key."""
    encryption_key: Hex32


class GenesisPolicy(Message):
    threshold_num: Annotated[int, Field(ge=1)] = 2
    threshold_den: Annotated[int, Field(ge=1)] = 3
    voting_period_ms: Annotated[int, Field(ge=1)] = 7 * 24 * 3600 * 1000
    max_open_proposals: Annotated[int, Field(ge=1, le=4096)] = 256

    def check(self) -> None:
        if self.threshold_num >= self.threshold_den:
            raise InvalidError("must be below threshold_den", field="policy.threshold_num")


class GenesisValidator(Message):
    """A consensus validator at genesis and the founding organisation that runs it."""

    public_key: ValidatorKey
    power: Annotated[int, Field(ge=1, le=1_000_000)]
    org: OrgId


class MembershipGenesis(Message):
    organisations: Annotated[list[FoundingOrg], Field(min_length=1, max_length=1000)]
    policy: GenesisPolicy = GenesisPolicy()
    validators: Annotated[list[GenesisValidator], Field(max_length=200)] = []
    """The consensus validators, when the chain governs its validator set (CometBFT); the
    engine's own genesis must list the same keys and powers. Empty on a solo chain."""

    def check(self) -> None:
        self.policy.check()
        ids = [org.id for org in self.organisations]
        if len(set(ids)) != len(ids):
            raise InvalidError("organisation ids must be distinct", field="organisations")
        keys = [org.admin_key for org in self.organisations]
        if len(set(keys)) != len(keys):
            raise InvalidError("admin keys must be distinct", field="organisations")
        if not any(org.steward for org in self.organisations):
            raise InvalidError("at least one organisation must be a steward", field="organisations")
        validator_keys = [v.public_key for v in self.validators]
        if len(set(validator_keys)) != len(validator_keys):
            raise InvalidError("validator keys must be distinct", field="validators")
        if any(v.org not in ids for v in self.validators):
            raise InvalidError(
                "each validator must be run by a founding organisation", field="validators"
            )


def init_genesis(state: State, env: BlockEnv, genesis: MembershipGenesis) -> list[Event]:
    policy = genesis.policy
    state.set_json(
        store.POLICY,
        {
            "max_open_proposals": policy.max_open_proposals,
            "threshold_den": policy.threshold_den,
            "threshold_num": policy.threshold_num,
            "voting_period_ms": policy.voting_period_ms,
        },
    )
    out: list[Event] = []
    for founder in genesis.organisations:
        admin = key_id(bytes.fromhex(founder.admin_key))
        store.put_org(
            state,
            Org(
                id=founder.id,
                name=founder.name,
                country=founder.country,
                roles=list(founder.roles),
                encryption_key=founder.encryption_key,
                steward=founder.steward,
                admin_keys=1,
                joined_ms=env.time_ms,
            ),
        )
        store.put_key(
            state,
            Key(
                key_id=admin,
                org=founder.id,
                public_key=founder.admin_key,
                roles=list(founder.roles),
                admin=True,
                label="admin",
                registered_ms=env.time_ms,
            ),
        )
        out.append(events.org_admitted(founder.id, list(founder.roles)))
        out.append(events.key_registered(founder.id, admin, list(founder.roles), True))
    store.put_stewards(state, [org.id for org in genesis.organisations if org.steward])
    if genesis.validators:  # nothing is written for a chain without a governed set
        store.put_validators(
            state, {v.public_key: ValidatorSeat(v.org, v.power) for v in genesis.validators}
        )
    return out
