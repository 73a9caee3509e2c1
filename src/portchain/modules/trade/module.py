"""The trade module as the app wires it: its actions and who may sign each.

The app builds it with :func:`build`, handing in membership's organisation records
(interfaces.py) so a draft can check the roles of its seller and buyer.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from portchain.kernel.env import BlockEnv
from portchain.kernel.events import Event
from portchain.kernel.module import Action, Handler, Message, ModuleSpec
from portchain.kernel.state import State
from portchain.modules.trade import handlers as h
from portchain.modules.trade import messages as m
from portchain.modules.trade.access import state_audience
from portchain.modules.trade.interfaces import Organisations

PARTIES = frozenset({"shipper", "consignee"})
"""Sellers hold the shipper role, buyers the consignee role."""

STEPS: tuple[tuple[str, type[Message], Callable[..., list[Event]], str], ...] = (
    ("accept", m.Step, h.apply_accept, "The party that did not draft it accepts (AGREED)."),
    ("reject", m.Step, h.apply_reject, "The party that did not draft it rejects (REJECTED)."),
    ("cancel", m.Step, h.apply_cancel, "Either party cancels before performance starts."),
    (
        "start_performance",
        m.Step,
        h.apply_start_performance,
        "The seller starts performance (no cancelling after it).",
    ),
    (
        "propose_amendment",
        m.Amend,
        h.apply_propose_amendment,
        "Either party proposes new terms for an agreed contract.",
    ),
    ("agree_amendment", m.Step, h.apply_agree_amendment, "The other party agrees to them."),
    ("refuse_amendment", m.Step, h.apply_refuse_amendment, "The other party refuses them."),
    (
        "withdraw_amendment",
        m.Step,
        h.apply_withdraw_amendment,
        "The proposer withdraws its pending amendment.",
    ),
)


def init_genesis(state: State, env: BlockEnv, genesis: Any) -> list[Event]:
    """The trade module has no genesis section and writes nothing at genesis."""
    return []


def build(organisations: Organisations) -> ModuleSpec:
    draft: Handler = partial(h.apply_draft, organisations)
    actions = {
        "draft": Action(
            "draft",
            m.Draft,
            draft,
            roles=PARTIES,
            summary="The seller or the buyer drafts a contract naming the other.",
        )
    }
    for verb, message, handler, summary in STEPS:
        bound: Handler = handler
        actions[verb] = Action(verb, message, bound, roles=PARTIES, summary=summary)
    return ModuleSpec(
        name="trade", actions=actions, init_genesis=init_genesis, state_audience=state_audience
    )
