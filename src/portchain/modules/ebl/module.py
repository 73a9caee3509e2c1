"""The ebl module as the app wires it: its actions, who may sign each, its read rule.

The app builds it with :func:`build`, handing in what it reads from other modules
(interfaces.py): logistics' bookings, the port's LOAD records, membership's organisations.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from portchain.kernel.env import BlockEnv
from portchain.kernel.events import Event
from portchain.kernel.module import Action, Handler, Message, ModuleSpec
from portchain.kernel.state import State
from portchain.modules.ebl import handlers as h
from portchain.modules.ebl import messages as m
from portchain.modules.ebl.access import state_audience
from portchain.modules.ebl.handlers import Deps
from portchain.modules.ebl.interfaces import Bookings, Loaded, Organisations

CARRIER = frozenset({"carrier"})
ANY: frozenset[str] | None = None
"""Any member key: the handler checks the signer is the shipper or the holder."""

VERBS: tuple[
    tuple[str, type[Message], Callable[..., list[Event]], frozenset[str] | None, str], ...
] = (
    ("draft", m.Draft, h.apply_draft, CARRIER, "The carrier drafts the document of a booking."),
    ("approve", m.Approve, h.apply_approve, ANY, "The shipper approves a version of the draft."),
    (
        "issue",
        m.Ref,
        h.apply_issue,
        CARRIER,
        "The carrier issues it once every container is loaded.",
    ),
    ("transfer", m.Transfer, h.apply_transfer, ANY, "TRANSFER: the holder hands it on."),
    ("endorse", m.Endorse, h.apply_endorse, ANY, "ENDORSE to a named party."),
    ("endorse_to_order", m.Endorse, h.apply_endorse_to_order, ANY, "ENDORSE_TO_ORDER of a party."),
    ("blank_endorse", m.Ref, h.apply_blank_endorse, ANY, "BLANK_ENDORSE: it goes to its bearer."),
    ("sign", m.Ref, h.apply_sign, ANY, "SIGN: the holder confirms it holds the bill."),
    ("surrender", m.Surrender, h.apply_surrender, ANY, "The holder surrenders it to the carrier."),
    (
        "answer_surrender",
        m.AnswerSurrender,
        h.apply_answer_surrender,
        CARRIER,
        "The carrier accepts a surrender, or rejects it with a reason.",
    ),
    ("accomplish", m.Ref, h.apply_accomplish, CARRIER, "The carrier delivered the goods."),
    ("void", m.Void, h.apply_void, CARRIER, "The carrier voids a draft or an amended bill."),
    ("reissue", m.Reissue, h.apply_reissue, CARRIER, "The carrier reissues an amended bill."),
)


def init_genesis(state: State, env: BlockEnv, genesis: Any) -> list[Event]:
    """The ebl module has no genesis section and writes nothing at genesis."""
    return []


def build(bookings: Bookings, loaded: Loaded, organisations: Organisations) -> ModuleSpec:
    """The module wired to the modules it reads."""
    deps = Deps(bookings, loaded, organisations)
    actions = {}
    for verb, message, handler, roles, summary in VERBS:
        bound: Handler = partial(handler, deps)
        actions[verb] = Action(verb, message, bound, roles=roles, summary=summary)
    return ModuleSpec(
        name="ebl", actions=actions, init_genesis=init_genesis, state_audience=state_audience
    )
