"""The membership module as the app wires it: its actions and who may sign each."""

from __future__ import annotations

from portchain.kernel.module import Action, ModuleSpec
from portchain.modules.membership import handlers, messages
from portchain.modules.membership.genesis import MembershipGenesis, init_genesis

ACTIONS = {
    action.verb: action
    for action in (
        Action(
            "apply",
            messages.Apply,
            handlers.apply_apply,
            open=True,
            summary="An outside organisation applies to join, signed by its new admin key.",
        ),
        Action(
            "register_key",
            messages.RegisterKey,
            handlers.apply_register_key,
            admin=True,
            summary="Register a user key with a subset of the organisation's roles.",
        ),
        Action(
            "rotate_key",
            messages.RotateKey,
            handlers.apply_rotate_key,
            summary="Replace a key by a new one (an admin, or the key itself).",
        ),
        Action(
            "revoke_key",
            messages.RevokeKey,
            handlers.apply_revoke_key,
            admin=True,
            summary="Revoke one of the organisation's keys.",
        ),
        Action(
            "propose",
            messages.Propose,
            handlers.apply_propose,
            admin=True,
            summary="Propose to suspend, readmit, change roles or stewardship of an organisation.",
        ),
        Action(
            "vote",
            messages.Vote,
            handlers.apply_vote,
            admin=True,
            steward=True,
            summary="A steward organisation votes on an open proposal.",
        ),
    )
}

MODULE = ModuleSpec(
    name="membership",
    actions=ACTIONS,
    init_genesis=init_genesis,
    end_block=handlers.end_block,
    genesis_schema=MembershipGenesis,
    public=True,
)
