"""The membership module's messages: each action's body, validated statelessly."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from portchain.kernel.errors import InvalidError
from portchain.kernel.fields import Country, Hex32, KeyId, Label, Name, OrgId, Text
from portchain.kernel.module import Message

RoleName = Literal[
    "port_operator",
    "terminal",
    "carrier",
    "shipper",
    "consignee",
    "forwarder",
    "haulier",
    "bank",
    "customs",
    "tax_authority",
    "insurer",
    "inspector",
]


def _distinct(roles: list[str]) -> list[str]:
    if len(set(roles)) != len(roles):
        raise ValueError("must not repeat a role")
    return sorted(roles)


Roles = Annotated[list[RoleName], Field(min_length=1, max_length=12), AfterValidator(_distinct)]
"""One to twelve distinct roles; kept sorted so equal sets encode equally."""


class Apply(Message):
    """An outside organisation applies to join; signed by its own new admin key."""

    org_id: OrgId
    name: Name
    country: Country
    roles: Roles
    public_key: Hex32
    """The applicant's admin signing key (Ed25519); the signer's key id must be its hash."""
    encryption_key: Hex32
    """The organisation's X25519 public key, to which documents are sealed."""
    label: Label = "admin"


class RegisterKey(Message):
    """An organisation's admin registers a user key with a subset of the org's roles."""

    public_key: Hex32
    roles: Roles
    admin: bool = False
    label: Label = ""


class RotateKey(Message):
    """Replace a key by a new one with the same roles; the old one stops working."""

    key_id: KeyId
    public_key: Hex32


class RevokeKey(Message):
    key_id: KeyId
    reason: Text = ""


ProposalKind = Literal["suspend", "readmit", "set_roles", "set_steward"]


class Propose(Message):
    """Ask the stewards to suspend, readmit, change the roles of, or (un)make a steward of an org."""

    kind: ProposalKind
    org_id: OrgId
    roles: Roles | None = None
    steward: bool | None = None
    reason: Text = ""

    def check(self) -> None:
        if self.kind == "set_roles" and self.roles is None:
            raise InvalidError("is required when kind is set_roles", field="body.roles")
        if self.kind != "set_roles" and self.roles is not None:
            raise InvalidError("is only allowed when kind is set_roles", field="body.roles")
        if self.kind == "set_steward" and self.steward is None:
            raise InvalidError("is required when kind is set_steward", field="body.steward")
        if self.kind != "set_steward" and self.steward is not None:
            raise InvalidError("is only allowed when kind is set_steward", field="body.steward")


class Vote(Message):
    proposal_id: Annotated[int, Field(ge=1)]
    vote: Literal["yes", "no"]
