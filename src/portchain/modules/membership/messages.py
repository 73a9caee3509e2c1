"""The membership module's messages: each action's body, validated statelessly."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field

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


ProposalKind = Literal["suspend", "readmit", "set_roles", "set_steward", "set_validator"]


def _hex_from_base64(value: object) -> object:
    """CometBFT prints validator keys in base64; take that too, and keep one encoding (hex)."""
    if isinstance(value, str) and len(value) == 44:
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return value
        if len(raw) == 32:
            return raw.hex()
    return value


ValidatorKey = Annotated[Hex32, BeforeValidator(_hex_from_base64)]
"""A consensus validator's Ed25519 public key: 64 hex digits, or CometBFT's 44-character base64."""

ValidatorPower = Annotated[int, Field(ge=0, le=1_000_000)]
"""Voting power of a validator; 0 removes it from the set."""


class Propose(Message):
    """Ask the stewards to suspend, readmit, change the roles of, or (un)make a steward of an org,
    or to add, re-power or remove (power 0) a consensus validator that the org runs."""

    kind: ProposalKind
    org_id: OrgId
    roles: Roles | None = None
    steward: bool | None = None
    validator_key: ValidatorKey | None = None
    power: ValidatorPower | None = None
    reason: Text = ""

    def check(self) -> None:
        for name in ("validator_key", "power"):
            given = getattr(self, name) is not None
            if self.kind == "set_validator" and not given:
                raise InvalidError("is required when kind is set_validator", field=f"body.{name}")
            if self.kind != "set_validator" and given:
                raise InvalidError(
                    "is only allowed when kind is set_validator", field=f"body.{name}"
                )
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
