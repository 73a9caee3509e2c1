"""Errors of the membership module (codespace ``membership``); codes are stable."""

from portchain.kernel.errors import ModuleError, register

CODESPACE = "membership"

OrgNotFound = register(ModuleError, CODESPACE, 1, "org_not_found", "no such organisation")
OrgExists = register(ModuleError, CODESPACE, 2, "org_exists", "the organisation id is taken")
KeyNotFound = register(ModuleError, CODESPACE, 3, "key_not_found", "no such key")
KeyExists = register(ModuleError, CODESPACE, 4, "key_exists", "the key is already registered")
RoleNotHeld = register(ModuleError, CODESPACE, 5, "role_not_held", "the organisation lacks a role")
NotYourOrg = register(ModuleError, CODESPACE, 6, "not_your_org", "the key belongs to another org")
LastAdmin = register(ModuleError, CODESPACE, 7, "last_admin", "an org must keep one admin key")
KeyInactive = register(ModuleError, CODESPACE, 8, "key_inactive", "the key is revoked or rotated")
ProposalNotFound = register(ModuleError, CODESPACE, 9, "proposal_not_found", "no such proposal")
ProposalClosed = register(ModuleError, CODESPACE, 10, "proposal_closed", "voting has ended")
AlreadyVoted = register(ModuleError, CODESPACE, 11, "already_voted", "this steward has voted")
BadTransition = register(
    ModuleError, CODESPACE, 12, "bad_transition", "the organisation is not in a state for this"
)
TooManyProposals = register(
    ModuleError, CODESPACE, 13, "too_many_proposals", "the limit of open proposals is reached"
)
ProposalPending = register(
    ModuleError, CODESPACE, 14, "proposal_pending", "an open proposal already concerns this"
)
NotPermitted = register(ModuleError, CODESPACE, 15, "not_permitted", "the signer may not do this")
ValidatorNotFound = register(
    ModuleError, CODESPACE, 16, "validator_not_found", "no such validator in the set"
)
LastValidator = register(
    ModuleError, CODESPACE, 17, "last_validator", "the validator set must not become empty"
)
