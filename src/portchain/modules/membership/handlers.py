"""State transitions of the membership module.

Each handler checks what depends on state (does the org exist, is it in the
right status, is this the signer's own key), writes, and returns its events.
Who may sign each action at all (admin key, steward org) is declared in
``module.py`` and checked by the app before these run.
"""

from __future__ import annotations

from dataclasses import replace

from portchain.kernel.crypto import key_id as key_id_of
from portchain.kernel.env import BlockEnv
from portchain.kernel.errors import PortchainError
from portchain.kernel.events import Event
from portchain.kernel.module import Context
from portchain.kernel.state import State
from portchain.modules.membership import errors, events, store
from portchain.modules.membership.messages import (
    Apply,
    Propose,
    RegisterKey,
    RevokeKey,
    RotateKey,
    Vote,
)
from portchain.modules.membership.store import Key, Org, Proposal


def _require_org(state: State, org_id: str, field: str = "body.org_id") -> Org:
    org = store.get_org(state, org_id)
    if org is None:
        raise errors.OrgNotFound(f"no organisation {org_id!r}", field=field)
    return org


def _open_proposal(
    state: State, env: BlockEnv, kind: str, org: Org, proposer: str, **extra: object
) -> tuple[Proposal, list[Event]]:
    policy = store.get_policy(state)
    open_ids = store.get_open(state)
    if len(open_ids) >= policy.max_open_proposals:
        raise errors.TooManyProposals(
            f"{policy.max_open_proposals} proposals are open; wait for some to close"
        )
    if org.proposal_id:
        raise errors.ProposalPending(
            f"proposal {org.proposal_id} about {org.id} is still open", field="body.org_id"
        )
    proposal = Proposal(
        id=store.next_proposal_id(state),
        kind=kind,
        org_id=org.id,
        proposer=proposer,
        created_ms=env.time_ms,
        ends_ms=env.time_ms + policy.voting_period_ms,
        **extra,  # type: ignore[arg-type]
    )
    store.put_proposal(state, proposal)
    store.put_open(state, [*open_ids, proposal.id])
    store.put_org(state, replace(org, proposal_id=proposal.id))
    return proposal, [events.proposal_created(proposal.id, kind, org.id, proposer)]


def apply_apply(state: State, env: BlockEnv, ctx: Context, msg: Apply) -> list[Event]:
    """An outsider applies to join. Its signing key registers itself as the org's admin key."""
    if key_id_of(bytes.fromhex(msg.public_key)) != ctx.signer.key_id:
        raise errors.NotPermitted(
            "the application must be signed by the key it registers", field="body.public_key"
        )
    existing = store.get_org(state, msg.org_id)
    if existing is not None and existing.status != store.REJECTED:
        raise errors.OrgExists(f"organisation {msg.org_id!r} exists", field="body.org_id")
    if store.get_key(state, ctx.signer.key_id) is not None:
        raise errors.KeyExists("this key is already registered", field="body.public_key")
    org = Org(
        id=msg.org_id,
        name=msg.name,
        country=msg.country,
        roles=list(msg.roles),
        encryption_key=msg.encryption_key,
        status=store.APPLICANT,
        admin_keys=1,
    )
    store.put_key(
        state,
        Key(
            key_id=ctx.signer.key_id,
            org=org.id,
            public_key=msg.public_key,
            roles=list(msg.roles),
            admin=True,
            label=msg.label,
            registered_ms=env.time_ms,
        ),
    )
    store.put_org(state, org)
    proposal, evs = _open_proposal(
        state, env, "admit", org, org.id, applicant_key=ctx.signer.key_id
    )
    return [events.org_applied(org.id, org.name, org.country, org.roles, proposal.id), *evs]


def apply_register_key(state: State, env: BlockEnv, ctx: Context, msg: RegisterKey) -> list[Event]:
    """An org admin registers a new user key with some of the org's roles."""
    org = _require_org(state, ctx.signer.org)
    missing = sorted(set(msg.roles) - set(org.roles))
    if missing:
        raise errors.RoleNotHeld(f"{org.id} does not hold role {missing[0]}", field="body.roles")
    new_id = key_id_of(bytes.fromhex(msg.public_key))
    if store.get_key(state, new_id) is not None:
        raise errors.KeyExists(f"key {new_id} is already registered", field="body.public_key")
    key = Key(
        key_id=new_id,
        org=org.id,
        public_key=msg.public_key,
        roles=list(msg.roles),
        admin=msg.admin,
        label=msg.label,
        registered_ms=env.time_ms,
    )
    store.put_key(state, key)
    if msg.admin:
        store.put_org(state, replace(org, admin_keys=org.admin_keys + 1))
    return [events.key_registered(org.id, new_id, key.roles, key.admin)]


def _own_active_key(state: State, ctx: Context, key_id: str) -> Key:
    key = store.get_key(state, key_id)
    if key is None:
        raise errors.KeyNotFound(f"no key {key_id}", field="body.key_id")
    if key.org != ctx.signer.org:
        raise errors.NotYourOrg(f"key {key_id} belongs to {key.org}", field="body.key_id")
    if key.status != store.KEY_ACTIVE:
        raise errors.KeyInactive(f"key {key_id} is {key.status}", field="body.key_id")
    return key


def apply_rotate_key(state: State, env: BlockEnv, ctx: Context, msg: RotateKey) -> list[Event]:
    """Replace a key by a new one with the same roles. An admin, or the key itself, may do it."""
    key = _own_active_key(state, ctx, msg.key_id)
    if not ctx.signer.admin and ctx.signer.key_id != key.key_id:
        raise errors.NotPermitted(
            "only an admin key or the key itself may rotate it", field="body.key_id"
        )
    new_id = key_id_of(bytes.fromhex(msg.public_key))
    if store.get_key(state, new_id) is not None:
        raise errors.KeyExists(f"key {new_id} is already registered", field="body.public_key")
    store.put_key(state, replace(key, status=store.KEY_ROTATED, replaced_by=new_id))
    store.put_key(
        state,
        replace(key, key_id=new_id, public_key=msg.public_key, registered_ms=env.time_ms),
    )
    return [events.key_rotated(key.org, key.key_id, new_id)]


def apply_revoke_key(state: State, env: BlockEnv, ctx: Context, msg: RevokeKey) -> list[Event]:
    """An org admin revokes one of its keys; the org keeps at least one admin key."""
    key = _own_active_key(state, ctx, msg.key_id)
    org = _require_org(state, key.org)
    if key.admin:
        if org.admin_keys <= 1:
            raise errors.LastAdmin(
                f"{key.key_id} is {org.id}'s last admin key; register another first",
                field="body.key_id",
            )
        store.put_org(state, replace(org, admin_keys=org.admin_keys - 1))
    store.put_key(state, replace(key, status=store.KEY_REVOKED))
    return [events.key_revoked(key.org, key.key_id)]


def apply_propose(state: State, env: BlockEnv, ctx: Context, msg: Propose) -> list[Event]:
    """Open a proposal. Stewards propose anything; any member may ask for its own roles."""
    org = _require_org(state, msg.org_id)
    if not ctx.signer.steward and not (msg.kind == "set_roles" and msg.org_id == ctx.signer.org):
        raise errors.NotPermitted(
            "only a steward may propose this; a member may propose set_roles for itself",
            field="body.kind",
        )
    if msg.kind == "suspend" and org.status != store.ACTIVE:
        raise errors.BadTransition(f"{org.id} is {org.status}, not active", field="body.org_id")
    if msg.kind == "readmit" and org.status != store.SUSPENDED:
        raise errors.BadTransition(f"{org.id} is {org.status}, not suspended", field="body.org_id")
    if msg.kind in ("set_roles", "set_steward", "set_validator") and org.status != store.ACTIVE:
        raise errors.BadTransition(f"{org.id} is {org.status}, not active", field="body.org_id")
    if msg.kind == "set_validator":
        assert msg.validator_key is not None and msg.power is not None  # Propose.check
        _check_validator_change(store.get_validators(state), org.id, msg.validator_key, msg.power)
    proposal, evs = _open_proposal(
        state,
        env,
        msg.kind,
        org,
        ctx.signer.org,
        roles=list(msg.roles) if msg.roles is not None else None,
        steward=msg.steward,
        reason=msg.reason,
    )
    if msg.kind == "set_validator":
        assert msg.validator_key is not None and msg.power is not None
        store.put_validator_change(state, proposal.id, msg.validator_key, msg.power)
    return evs


def _check_validator_change(
    validators: dict[str, store.ValidatorSeat], org_id: str, validator_key: str, power: int
) -> None:
    """Refuse a change the consensus engine could not apply (it would halt the chain)."""
    seat = validators.get(validator_key)
    if seat is not None and seat.org != org_id:
        raise errors.NotYourOrg(
            f"validator {validator_key} is run by {seat.org}", field="body.validator_key"
        )
    if power == 0 and seat is None:
        raise errors.ValidatorNotFound(
            f"{validator_key} is not a validator", field="body.validator_key"
        )
    if power == 0 and len(validators) == 1:
        raise errors.LastValidator("the last validator cannot be removed", field="body.power")


def _apply_validator_change(state: State, proposal: Proposal) -> list[Event]:
    """Update the set as a passed proposal asks, if that is still possible when it passes."""
    change = store.get_validator_change(state, proposal.id)
    if change is None:
        return []
    validator_key, power = change
    validators = store.get_validators(state)
    try:
        _check_validator_change(validators, proposal.org_id, validator_key, power)
    except PortchainError:
        return []  # the set changed while the vote ran; the proposal has no effect
    if power == 0:
        del validators[validator_key]
    else:
        validators[validator_key] = store.ValidatorSeat(proposal.org_id, power)
    store.put_validators(state, validators)
    return [events.validator_updated(validator_key, power, proposal.org_id)]


def apply_vote(state: State, env: BlockEnv, ctx: Context, msg: Vote) -> list[Event]:
    """A steward org votes once; the proposal is decided as soon as the outcome is certain."""
    proposal = store.get_proposal(state, msg.proposal_id)
    if proposal is None:
        raise errors.ProposalNotFound(f"no proposal {msg.proposal_id}", field="body.proposal_id")
    if proposal.status != "open" or env.time_ms >= proposal.ends_ms:
        raise errors.ProposalClosed(
            f"proposal {proposal.id} is "
            + (proposal.status if proposal.status != "open" else "past its end"),
            field="body.proposal_id",
        )
    if ctx.signer.org in proposal.votes:
        raise errors.AlreadyVoted(
            f"{ctx.signer.org} already voted on proposal {proposal.id}", field="body.proposal_id"
        )
    proposal = replace(proposal, votes={**proposal.votes, ctx.signer.org: msg.vote})
    stewards = store.get_stewards(state)
    yes = sum(1 for org, v in proposal.votes.items() if v == "yes" and org in stewards)
    no = sum(1 for org, v in proposal.votes.items() if v == "no" and org in stewards)
    out = [events.vote_cast(proposal.id, ctx.signer.org, msg.vote, yes, no)]
    policy = store.get_policy(state)
    if policy.passes(yes, len(stewards)):
        out += _decide(state, env, proposal, "passed")
    elif policy.cannot_pass(no, len(stewards)):
        out += _decide(state, env, proposal, "rejected")
    else:
        store.put_proposal(state, proposal)
    return out


def _decide(state: State, env: BlockEnv, proposal: Proposal, outcome: str) -> list[Event]:
    """Close ``proposal`` with ``outcome`` (passed, rejected, expired) and apply its effect."""
    store.put_proposal(state, replace(proposal, status=outcome, decided_height=env.height))
    store.put_open(state, [i for i in store.get_open(state) if i != proposal.id])
    org = _require_org(state, proposal.org_id)
    org = replace(org, proposal_id=0)
    out = [events.proposal_decided(proposal.id, proposal.kind, org.id, outcome)]
    stewards = store.get_stewards(state)
    if outcome != "passed":
        if proposal.kind == "admit":
            org = replace(org, status=store.REJECTED, admin_keys=0)
            key = store.get_key(state, proposal.applicant_key)
            if key is not None and key.status == store.KEY_ACTIVE:
                store.put_key(state, replace(key, status=store.KEY_REVOKED))
        store.put_org(state, org)
        return out
    if proposal.kind == "admit":
        org = replace(org, status=store.ACTIVE, joined_ms=env.time_ms)
        out.append(events.org_admitted(org.id, org.roles))
    elif proposal.kind == "suspend":
        org = replace(org, status=store.SUSPENDED)
        stewards = [s for s in stewards if s != org.id]
        out.append(events.org_suspended(org.id))
    elif proposal.kind == "readmit":
        org = replace(org, status=store.ACTIVE)
        if org.steward:
            stewards = [*stewards, org.id]
        out.append(events.org_readmitted(org.id))
    elif proposal.kind == "set_roles":
        org = replace(org, roles=list(proposal.roles or []))
        out.append(events.roles_changed(org.id, org.roles))
    elif proposal.kind == "set_steward":
        org = replace(org, steward=bool(proposal.steward))
        stewards = [s for s in stewards if s != org.id] + ([org.id] if org.steward else [])
        out.append(events.steward_changed(org.id, org.steward))
    elif proposal.kind == "set_validator":
        out += _apply_validator_change(state, proposal)
    store.put_org(state, org)
    store.put_stewards(state, stewards)
    return out


def end_block(state: State, env: BlockEnv) -> list[Event]:
    """Expire open proposals whose voting period has ended."""
    out: list[Event] = []
    for proposal_id in store.get_open(state):
        proposal = store.get_proposal(state, proposal_id)
        if proposal is not None and env.time_ms >= proposal.ends_ms:
            out += _decide(state, env, proposal, "expired")
    return out
