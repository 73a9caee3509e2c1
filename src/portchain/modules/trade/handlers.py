"""Trade state transitions: ``apply_<verb>(state, env, ctx, msg) -> list[Event]``.

Either party drafts naming the other; the other accepts (AGREED) or rejects (REJECTED). An
agreed contract changes only by an amendment that the other party agrees to; either party
cancels before performance starts; the seller starts performance (IN_PERFORMANCE). See
README.md for the state machine and the table of who may do what.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from portchain.kernel.env import BlockEnv
from portchain.kernel.events import Event
from portchain.kernel.module import Context
from portchain.kernel.state import State
from portchain.modules.trade import errors, events, messages, store
from portchain.modules.trade.interfaces import Organisations
from portchain.modules.trade.store import (
    AGREED,
    CANCELLED,
    DRAFTED,
    IN_PERFORMANCE,
    REJECTED,
    Amendment,
    Contract,
)


def _terms(msg: messages.Terms) -> dict[str, Any]:
    return msg.model_dump(include=set(messages.Terms.model_fields))


def _other(contract: Contract, org: str) -> str:
    return contract.buyer if org == contract.seller else contract.seller


def _contract(state: State, ctx: Context, contract_id: str) -> Contract:
    contract = store.get_contract(state, contract_id)
    if contract is None or ctx.signer.org not in (contract.seller, contract.buyer):
        # A contract the signer is not party to is answered as missing.
        raise errors.ContractNotFound(f"no contract {contract_id}", field="body.contract_id")
    return contract


def _status(contract: Contract, *allowed: str) -> None:
    if contract.status not in allowed:
        raise errors.BadStatus(
            f"contract {contract.id} is {contract.status}; this needs {' or '.join(allowed)}",
            field="body.contract_id",
        )


def apply_draft(
    organisations: Organisations, state: State, env: BlockEnv, ctx: Context, msg: messages.Draft
) -> list[Event]:
    signer = ctx.signer.org
    if signer not in (msg.seller, msg.buyer):
        raise errors.NotAParty(f"{signer} must be the seller or the buyer", field="body.seller")
    for field, org, role in (("seller", msg.seller, "shipper"), ("buyer", msg.buyer, "consignee")):
        record = organisations(state, org)
        if record is None or record.status != "active" or role not in record.roles:
            raise errors.Counterparty(
                f"{org} is not an active member with role {role}", field=f"body.{field}"
            )
    if store.get_contract(state, msg.contract_id) is not None:
        raise errors.ContractExists(f"contract {msg.contract_id} exists", field="body.contract_id")
    terms = _terms(msg)
    contract = Contract(
        id=msg.contract_id,
        seller=msg.seller,
        buyer=msg.buyer,
        drafted_by=signer,
        status=DRAFTED,
        terms=terms,
        total=store.total_of(terms),
        updated_ms=env.time_ms,
    )
    store.put_contract(state, contract)
    return [events.contract_event(contract, "drafted", signer)]


def _decide(
    state: State, env: BlockEnv, ctx: Context, msg: messages.Step, status: str, what: str
) -> list[Event]:
    contract = _contract(state, ctx, msg.contract_id)
    _status(contract, DRAFTED)
    if ctx.signer.org == contract.drafted_by:
        raise errors.NotAParty(
            f"the other party, {_other(contract, contract.drafted_by)}, answers a draft",
            field="body.contract_id",
        )
    updated = replace(contract, status=status, reason=msg.reason, updated_ms=env.time_ms)
    store.put_contract(state, updated)
    return [events.contract_event(updated, what, ctx.signer.org)]


def apply_accept(state: State, env: BlockEnv, ctx: Context, msg: messages.Step) -> list[Event]:
    return _decide(state, env, ctx, msg, AGREED, "agreed")


def apply_reject(state: State, env: BlockEnv, ctx: Context, msg: messages.Step) -> list[Event]:
    return _decide(state, env, ctx, msg, REJECTED, "rejected")


def apply_cancel(state: State, env: BlockEnv, ctx: Context, msg: messages.Step) -> list[Event]:
    """Either party cancels until performance starts."""
    contract = _contract(state, ctx, msg.contract_id)
    _status(contract, DRAFTED, AGREED)
    updated = replace(contract, status=CANCELLED, reason=msg.reason, updated_ms=env.time_ms)
    store.put_contract(state, updated)
    return [events.contract_event(updated, "cancelled", ctx.signer.org)]


def apply_start_performance(
    state: State, env: BlockEnv, ctx: Context, msg: messages.Step
) -> list[Event]:
    contract = _contract(state, ctx, msg.contract_id)
    if ctx.signer.org != contract.seller:
        raise errors.NotAParty("only the seller starts performance", field="body.contract_id")
    _status(contract, AGREED)
    if contract.pending is not None:
        raise errors.NoAmendment("an amendment is pending", field="body.contract_id")
    updated = replace(contract, status=IN_PERFORMANCE, updated_ms=env.time_ms)
    store.put_contract(state, updated)
    return [events.contract_event(updated, "performance_started", ctx.signer.org)]


def apply_propose_amendment(
    state: State, env: BlockEnv, ctx: Context, msg: messages.Amend
) -> list[Event]:
    contract = _contract(state, ctx, msg.contract_id)
    _status(contract, AGREED, IN_PERFORMANCE)
    if contract.pending is not None:
        raise errors.NoAmendment("an amendment is already pending", field="body.contract_id")
    if len(contract.amendments) >= 50:
        raise errors.NoAmendment("a contract keeps at most 50 amendments", field="body.contract_id")
    amendment = Amendment(_terms(msg), ctx.signer.org, env.time_ms)
    updated = replace(contract, amendments=(*contract.amendments, amendment))
    store.put_contract(state, updated)
    return [events.contract_event(updated, "amendment_proposed", ctx.signer.org)]


def _close_amendment(
    state: State, env: BlockEnv, ctx: Context, msg: messages.Step, outcome: str
) -> list[Event]:
    contract = _contract(state, ctx, msg.contract_id)
    pending = contract.pending
    if pending is None:
        raise errors.NoAmendment("no amendment is pending", field="body.contract_id")
    proposer_acts = ctx.signer.org == pending.proposed_by
    if (outcome == "withdrawn") != proposer_acts:
        who = "its proposer" if outcome == "withdrawn" else "the other party"
        raise errors.NotAParty(f"only {who} may do that", field="body.contract_id")
    closed = replace(pending, outcome=outcome, decided_ms=env.time_ms)
    changes: dict[str, Any] = {"amendments": (*contract.amendments[:-1], closed)}
    if outcome == "agreed":
        changes.update(terms=pending.terms, total=store.total_of(pending.terms))
    updated = replace(contract, updated_ms=env.time_ms, **changes)
    store.put_contract(state, updated)
    return [events.contract_event(updated, f"amendment_{outcome}", ctx.signer.org)]


def apply_agree_amendment(
    state: State, env: BlockEnv, ctx: Context, msg: messages.Step
) -> list[Event]:
    return _close_amendment(state, env, ctx, msg, "agreed")


def apply_refuse_amendment(
    state: State, env: BlockEnv, ctx: Context, msg: messages.Step
) -> list[Event]:
    return _close_amendment(state, env, ctx, msg, "refused")


def apply_withdraw_amendment(
    state: State, env: BlockEnv, ctx: Context, msg: messages.Step
) -> list[Event]:
    return _close_amendment(state, env, ctx, msg, "withdrawn")
