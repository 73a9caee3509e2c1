"""The documents module as the app wires it: its actions, who may sign each, its read rule."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from portchain.kernel.env import BlockEnv
from portchain.kernel.events import Event
from portchain.kernel.module import Action, Handler, Message, ModuleSpec
from portchain.kernel.state import State
from portchain.modules.documents import handlers as h
from portchain.modules.documents import messages as m
from portchain.modules.documents.access import state_audience
from portchain.modules.documents.interfaces import Organisations

VERBS: tuple[tuple[str, type[Message], Callable[..., list[Event]], str], ...] = (
    ("anchor", m.Anchor, h.apply_anchor, "Anchor an encrypted document and grant it."),
    ("grant", m.Grant, h.apply_grant, "The issuer grants it to one more organisation."),
    ("revoke_grant", m.RevokeGrant, h.apply_revoke_grant, "The issuer stops a grant."),
    ("supersede", m.Supersede, h.apply_supersede, "The issuer replaces it by a newer one."),
)


def init_genesis(state: State, env: BlockEnv, genesis: Any) -> list[Event]:
    """The documents module has no genesis section and writes nothing at genesis."""
    return []


def build(organisations: Organisations) -> ModuleSpec:
    """Any member organisation may issue documents; only the issuer changes its grants."""
    actions = {}
    for verb, message, handler, summary in VERBS:
        bound: Handler = partial(handler, organisations)
        actions[verb] = Action(verb, message, bound, summary=summary)
    return ModuleSpec(
        name="documents", actions=actions, init_genesis=init_genesis, state_audience=state_audience
    )
