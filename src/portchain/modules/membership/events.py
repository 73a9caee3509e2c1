"""Events of the membership module, one named constructor per event type."""

from __future__ import annotations

from portchain.kernel.events import Event, index_by

index_by("org", "key", "new_key", "voter", "proposer")


def org_applied(org_id: str, name: str, country: str, roles: list[str], proposal_id: int) -> Event:
    return Event.of(
        "membership.org_applied",
        org=org_id,
        name=name,
        country=country,
        roles=",".join(roles),
        proposal=proposal_id,
    )


def proposal_created(proposal_id: int, kind: str, org_id: str, proposer: str) -> Event:
    return Event.of(
        "membership.proposal_created",
        proposal=proposal_id,
        kind=kind,
        org=org_id,
        proposer=proposer,
    )


def vote_cast(proposal_id: int, voter_org: str, vote: str, yes: int, no: int) -> Event:
    return Event.of(
        "membership.vote_cast", proposal=proposal_id, voter=voter_org, vote=vote, yes=yes, no=no
    )


def proposal_decided(proposal_id: int, kind: str, org_id: str, outcome: str) -> Event:
    """``outcome`` is passed, rejected or expired."""
    return Event.of(f"membership.proposal_{outcome}", proposal=proposal_id, kind=kind, org=org_id)


def org_admitted(org_id: str, roles: list[str]) -> Event:
    return Event.of("membership.org_admitted", org=org_id, roles=",".join(roles))


def org_suspended(org_id: str) -> Event:
    return Event.of("membership.org_suspended", org=org_id)


def org_readmitted(org_id: str) -> Event:
    return Event.of("membership.org_readmitted", org=org_id)


def roles_changed(org_id: str, roles: list[str]) -> Event:
    return Event.of("membership.roles_changed", org=org_id, roles=",".join(roles))


def steward_changed(org_id: str, steward: bool) -> Event:
    return Event.of("membership.steward_changed", org=org_id, steward=steward)


def key_registered(org_id: str, key_id: str, roles: list[str], admin: bool) -> Event:
    return Event.of(
        "membership.key_registered", org=org_id, key=key_id, roles=",".join(roles), admin=admin
    )


def key_rotated(org_id: str, old_key: str, new_key: str) -> Event:
    return Event.of("membership.key_rotated", org=org_id, key=old_key, new_key=new_key)


def key_revoked(org_id: str, key_id: str) -> Event:
    return Event.of("membership.key_revoked", org=org_id, key=key_id)


def validator_updated(pub_key: str, power: int, org_id: str) -> Event:
    """The consensus validator set changes: ``pub_key`` (Ed25519, hex) now has ``power`` (0: left).

    A consensus engine that runs a validator set (CometBFT) applies these from the block's events.
    """
    return Event.of("membership.validator_updated", pub_key=pub_key, power=power, org=org_id)
