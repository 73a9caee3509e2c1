"""State transitions of the ebl module (README.md has the state machine and who may do what).

Every handler takes the module's :class:`Deps` first, then ``(state, env, ctx, msg)``. The
app has checked the signer's role (module.py); here the signer's relation to the document
is checked: the carrier that issues it, the shipper that approves it, the holder that
controls it. A step refused leaves everything as it was.

Exclusive control needs no lock: transactions run one after another in a block's order, so
of two steps by the same holder the first moves the bill and the second finds that its
signer no longer holds it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from portchain.kernel.env import BlockEnv
from portchain.kernel.events import Event
from portchain.kernel.module import Context
from portchain.kernel.state import State
from portchain.modules.ebl import errors, events, messages, store
from portchain.modules.ebl.interfaces import Bookings, Loaded, Organisations
from portchain.modules.ebl.store import Bill, Entry

CONFIRMED = "CONFIRMED"


@dataclass(frozen=True)
class Deps:
    bookings: Bookings
    loaded: Loaded
    organisations: Organisations


def _member(deps: Deps, state: State, org: str | None, field: str) -> None:
    if org is None:
        return
    record = deps.organisations(state, org)
    if record is None or record.status != "active":
        raise errors.NotAMember(f"{org} is not an active member", field=field)


def _visible(state: State, ctx: Context, reference: str) -> Bill:
    """The document, if the signer is one of its parties; otherwise it does not exist."""
    bill = store.get_bill(state, reference)
    if bill is None or ctx.signer.org not in bill.party_orgs():
        raise errors.EblNotFound(f"no transport document {reference}", field="body.reference")
    if bill.status in store.CLOSED:
        raise errors.Closed(
            f"{reference} is {bill.status.lower()}: nothing more happens to it",
            field="body.reference",
        )
    return bill


def _carrier(bill: Bill, ctx: Context) -> None:
    if ctx.signer.org != bill.carrier:
        raise errors.NotEntitled(
            f"only the issuing carrier {bill.carrier} may do that", field="body.reference"
        )


def _status(bill: Bill, *allowed: str) -> None:
    if bill.status not in allowed:
        raise errors.WrongStatus(
            f"{bill.reference} is {bill.status}; this needs {' or '.join(allowed)}",
            field="body.reference",
        )


def _held(bill: Bill, ctx: Context) -> None:
    """The signer holds the issued bill of lading (only the holder acts on it)."""
    if not bill.is_bill:
        raise errors.NotATitleDocument(
            f"{bill.reference} is a sea waybill: it is not a title document and has no holder",
            field="body.reference",
        )
    _status(bill, store.ISSUED)
    if bill.holder != ctx.signer.org:
        raise errors.NotTheHolder(
            f"only the holder of {bill.reference} may act on it", field="body.reference"
        )


def _entitled(bill: Bill, org: str) -> bool:
    """Whether ``org``, holding the bill, is the party it stands to: the consignee of a
    straight bill, the endorsee of an order bill, or any bearer of a blank-endorsed one."""
    if bill.form == "STRAIGHT":
        return org == bill.consignee
    if bill.blank:
        return True
    return org == bill.endorsee


def _append(bill: Bill, *entries: Entry) -> tuple[Entry, ...]:
    if len(bill.chain) + len(entries) > messages.MAX_CHAIN:
        raise errors.ChainFull(
            f"the chain of {bill.reference} holds {messages.MAX_CHAIN} entries: surrender it "
            "for amendment to continue on a reissued bill",
            field="body.reference",
        )
    return (*bill.chain, *entries)


def _save(
    state: State, before: Bill, after: Bill, ctx: Context, what: str, recipient: str | None = None
) -> list[Event]:
    """Store the changed bill; its event goes to its parties after the step."""
    store.put_bill(state, after, before)
    return [events.bill_event(after, what, ctx.signer.org, recipient)]


def _entry(
    env: BlockEnv, ctx: Context, action: str, recipient: str | None, reason: str = ""
) -> Entry:
    return Entry(action, ctx.signer.org, recipient, env.time_ms, ctx.tx_hash.hex(), reason)


def apply_draft(
    deps: Deps, state: State, env: BlockEnv, ctx: Context, msg: messages.Draft
) -> list[Event]:
    existing = store.get_bill(state, msg.reference)
    version = 1
    if existing is not None:
        if existing.carrier != ctx.signer.org or existing.status != store.DRAFT:
            raise errors.ReferenceTaken(
                f"transport document {msg.reference} exists", field="body.reference"
            )
        if existing.booking != msg.booking:
            raise errors.BookingMismatch(
                f"{msg.reference} is drafted for booking {existing.booking}", field="body.booking"
            )
        version = existing.version + 1
    booking = deps.bookings(state, msg.booking)
    if booking is None or booking.carrier != ctx.signer.org:
        raise errors.BookingMismatch(
            f"no booking {msg.booking} with you as carrier", field="body.booking"
        )
    if booking.status != CONFIRMED:
        raise errors.BookingMismatch(
            f"booking {msg.booking} is {booking.status}; it must be CONFIRMED", field="body.booking"
        )
    for i, number in enumerate(msg.containers):
        if number not in booking.containers:
            raise errors.BookingMismatch(
                f"container {number} is not assigned to booking {msg.booking}",
                field=f"body.containers.{i}",
            )
        holder = store.container_document(state, number)
        if holder is not None and holder != msg.reference:
            raise errors.ContainerTaken(
                f"container {number} is on transport document {holder}",
                field=f"body.containers.{i}",
            )
    _member(deps, state, msg.consignee, "body.consignee")
    _member(deps, state, msg.to_order_of, "body.to_order_of")
    _member(deps, state, msg.notify_party, "body.notify_party")
    bill = Bill(
        reference=msg.reference,
        document_type=msg.document_type,
        form=msg.form,
        carrier=ctx.signer.org,
        shipper=booking.shipper,
        consignee=msg.consignee,
        to_order_of=msg.to_order_of,
        notify_party=msg.notify_party,
        booking=msg.booking,
        vessel_call=booking.vessel_call,
        port_of_loading=booking.port_of_loading,
        port_of_discharge=booking.port_of_discharge,
        containers=tuple(msg.containers),
        cargo_description=msg.cargo_description,
        packages=msg.packages,
        gross_weight_kg=msg.gross_weight_kg,
        freight=msg.freight,
        status=store.DRAFT,
        version=version,
        drafted_ms=env.time_ms,
    )
    if existing is not None:
        store.release_containers(state, existing)
        for org in existing.party_orgs():
            if org not in bill.party_orgs():
                state.delete(f"{store.PARTY}{org}/{existing.reference}")
    store.put_bill(state, bill)
    store.claim_containers(state, bill)
    return [events.bill_event(bill, "drafted", ctx.signer.org)]


def apply_approve(
    deps: Deps, state: State, env: BlockEnv, ctx: Context, msg: messages.Approve
) -> list[Event]:
    bill = _visible(state, ctx, msg.reference)
    if ctx.signer.org != bill.shipper:
        raise errors.NotEntitled(
            f"only the shipper {bill.shipper} approves the draft", field="body.reference"
        )
    _status(bill, store.DRAFT)
    if msg.version != bill.version:
        raise errors.StaleDraft(
            f"the draft is at version {bill.version}; read it again before approving",
            field="body.version",
        )
    approved = replace(bill, status=store.APPROVED, approved_ms=env.time_ms)
    return _save(state, bill, approved, ctx, "approved")


def apply_issue(
    deps: Deps, state: State, env: BlockEnv, ctx: Context, msg: messages.Ref
) -> list[Event]:
    bill = _visible(state, ctx, msg.reference)
    _carrier(bill, ctx)
    _status(bill, store.APPROVED)
    on_board = 0
    for number in bill.containers:
        loading = deps.loaded(state, number)
        if loading is None or loading.call_id != bill.vessel_call:
            raise errors.NotLoaded(
                f"container {number} is not loaded on vessel call {bill.vessel_call}",
                field="body.reference",
            )
        on_board = max(on_board, loading.time_ms)
    holder = bill.shipper if bill.is_bill else None
    issued = replace(
        bill,
        status=store.ISSUED,
        issued_ms=env.time_ms,
        shipped_on_board_ms=on_board,
        holder=holder,
        endorsee=(bill.to_order_of or bill.shipper) if bill.form == "TO_ORDER" else None,
        negotiable=bill.is_bill and bill.form != "STRAIGHT",
        blank=bill.form == "BLANK",
        chain=(_entry(env, ctx, "ISSUE", holder or bill.consignee),),
    )
    return _save(state, bill, issued, ctx, "issued", issued.holder)


def apply_transfer(
    deps: Deps, state: State, env: BlockEnv, ctx: Context, msg: messages.Transfer
) -> list[Event]:
    bill = _visible(state, ctx, msg.reference)
    _held(bill, ctx)
    if msg.to == bill.holder:
        raise errors.TransferNotAllowed(f"{msg.to} already holds it", field="body.to")
    _not_to_carrier(bill, msg.to)
    if bill.form == "STRAIGHT" and msg.to != bill.consignee:
        raise errors.TransferNotAllowed(
            f"a straight bill goes only to its consignee {bill.consignee}", field="body.to"
        )
    if bill.form != "STRAIGHT" and not bill.blank and msg.to != bill.endorsee:
        raise errors.TransferNotAllowed(
            f"the bill stands to the order of {bill.endorsee}: endorse it to {msg.to} first",
            field="body.to",
        )
    _member(deps, state, msg.to, "body.to")
    moved = replace(bill, holder=msg.to, chain=_append(bill, _entry(env, ctx, "TRANSFER", msg.to)))
    return _save(state, bill, moved, ctx, "transferred", msg.to)


def _not_to_carrier(bill: Bill, to: str) -> None:
    if to == bill.carrier:
        raise errors.TransferNotAllowed(
            f"the bill goes back to its carrier {bill.carrier} only by surrender", field="body.to"
        )


def _endorsable(bill: Bill, ctx: Context) -> None:
    _held(bill, ctx)
    if bill.form == "STRAIGHT":
        raise errors.NotNegotiable(
            f"{bill.reference} is a straight bill: it is not endorsed", field="body.reference"
        )
    if not bill.negotiable:
        raise errors.NotNegotiable(
            f"{bill.reference} is endorsed to {bill.endorsee} by name: it is not endorsed further",
            field="body.reference",
        )
    if not _entitled(bill, ctx.signer.org):
        raise errors.NotNegotiable(
            f"{bill.reference} stands to the order of {bill.endorsee}: only it may endorse",
            field="body.reference",
        )


def _endorse(
    deps: Deps, state: State, env: BlockEnv, ctx: Context, msg: messages.Endorse, action: str
) -> list[Event]:
    bill = _visible(state, ctx, msg.reference)
    _endorsable(bill, ctx)
    if msg.to == ctx.signer.org:
        raise errors.TransferNotAllowed("endorse it to another party", field="body.to")
    _not_to_carrier(bill, msg.to)
    _member(deps, state, msg.to, "body.to")
    entries = [_entry(env, ctx, action, msg.to)]
    if msg.deliver:
        entries.append(_entry(env, ctx, "TRANSFER", msg.to))
    endorsed = replace(
        bill,
        endorsee=msg.to,
        negotiable=action == "ENDORSE_TO_ORDER",
        blank=False,
        holder=msg.to if msg.deliver else bill.holder,
        chain=_append(bill, *entries),
    )
    what = "endorsed_to_order" if action == "ENDORSE_TO_ORDER" else "endorsed"
    return _save(state, bill, endorsed, ctx, what, msg.to)


def apply_endorse(
    deps: Deps, state: State, env: BlockEnv, ctx: Context, msg: messages.Endorse
) -> list[Event]:
    return _endorse(deps, state, env, ctx, msg, "ENDORSE")


def apply_endorse_to_order(
    deps: Deps, state: State, env: BlockEnv, ctx: Context, msg: messages.Endorse
) -> list[Event]:
    return _endorse(deps, state, env, ctx, msg, "ENDORSE_TO_ORDER")


def apply_blank_endorse(
    deps: Deps, state: State, env: BlockEnv, ctx: Context, msg: messages.Ref
) -> list[Event]:
    bill = _visible(state, ctx, msg.reference)
    _endorsable(bill, ctx)
    if bill.blank:
        raise errors.NotNegotiable(
            f"{bill.reference} is already endorsed in blank", field="body.reference"
        )
    endorsed = replace(
        bill,
        endorsee=None,
        blank=True,
        chain=_append(bill, _entry(env, ctx, "BLANK_ENDORSE", None)),
    )
    return _save(state, bill, endorsed, ctx, "blank_endorsed")


def apply_sign(
    deps: Deps, state: State, env: BlockEnv, ctx: Context, msg: messages.Ref
) -> list[Event]:
    bill = _visible(state, ctx, msg.reference)
    _held(bill, ctx)
    signed = replace(bill, chain=_append(bill, _entry(env, ctx, "SIGN", None)))
    return _save(state, bill, signed, ctx, "signed")


def apply_surrender(
    deps: Deps, state: State, env: BlockEnv, ctx: Context, msg: messages.Surrender
) -> list[Event]:
    bill = _visible(state, ctx, msg.reference)
    _held(bill, ctx)
    if not _entitled(bill, ctx.signer.org):
        whom = bill.consignee if bill.form == "STRAIGHT" else bill.endorsee
        raise errors.NotEntitled(
            f"the bill stands to {whom}: only it may surrender it", field="body.reference"
        )
    if msg.purpose == "delivery":
        action, status = "SURRENDER_FOR_DELIVERY", store.PENDING_SURRENDER_FOR_DELIVERY
    else:
        action, status = "SURRENDER_FOR_AMENDMENT", store.PENDING_SURRENDER_FOR_AMENDMENT
    pending = replace(
        bill,
        status=status,
        holder=bill.carrier,
        surrendered_by=ctx.signer.org,
        chain=_append(bill, _entry(env, ctx, action, bill.carrier)),
    )
    return _save(state, bill, pending, ctx, "surrender_requested", bill.carrier)


def apply_answer_surrender(
    deps: Deps, state: State, env: BlockEnv, ctx: Context, msg: messages.AnswerSurrender
) -> list[Event]:
    bill = _visible(state, ctx, msg.reference)
    _carrier(bill, ctx)
    _status(bill, store.PENDING_SURRENDER_FOR_DELIVERY, store.PENDING_SURRENDER_FOR_AMENDMENT)
    requester = bill.surrendered_by
    assert requester is not None  # set with the pending status
    if msg.accept:
        status = (
            store.SURRENDERED_FOR_DELIVERY
            if bill.status == store.PENDING_SURRENDER_FOR_DELIVERY
            else store.SURRENDERED_FOR_AMENDMENT
        )
        answered = replace(
            bill,
            status=status,
            chain=_append(bill, _entry(env, ctx, "SURRENDERED", None, msg.reason)),
        )
        what, recipient = "surrendered", None
    else:
        # The carrier hands the bill back: the chain records it, so it stays unbroken.
        answered = replace(
            bill,
            status=store.ISSUED,
            holder=requester,
            surrendered_by=None,
            chain=_append(bill, _entry(env, ctx, "SURRENDER_REJECTED", requester, msg.reason)),
        )
        what, recipient = "surrender_rejected", requester
    return _save(state, bill, answered, ctx, what, recipient)


def apply_accomplish(
    deps: Deps, state: State, env: BlockEnv, ctx: Context, msg: messages.Ref
) -> list[Event]:
    bill = _visible(state, ctx, msg.reference)
    _carrier(bill, ctx)
    if bill.is_bill:
        _status(bill, store.SURRENDERED_FOR_DELIVERY)
    else:
        _status(bill, store.ISSUED)
    done = replace(bill, status=store.ACCOMPLISHED)
    return _save(state, bill, done, ctx, "accomplished")


def _void(state: State, bill: Bill, reason: str, replaced_by: str | None = None) -> Bill:
    voided = replace(bill, status=store.VOIDED, void_reason=reason, replaced_by=replaced_by)
    store.put_bill(state, voided, bill)
    store.release_containers(state, bill)
    return voided


def apply_void(
    deps: Deps, state: State, env: BlockEnv, ctx: Context, msg: messages.Void
) -> list[Event]:
    bill = _visible(state, ctx, msg.reference)
    _carrier(bill, ctx)
    # An issued bill in someone else's hands is never voided: that would divest its holder.
    _status(bill, store.DRAFT, store.APPROVED, store.SURRENDERED_FOR_AMENDMENT)
    voided = _void(state, bill, msg.reason)
    return [events.bill_event(voided, "voided", ctx.signer.org)]


def apply_reissue(
    deps: Deps, state: State, env: BlockEnv, ctx: Context, msg: messages.Reissue
) -> list[Event]:
    bill = _visible(state, ctx, msg.reference)
    _carrier(bill, ctx)
    _status(bill, store.SURRENDERED_FOR_AMENDMENT)
    if store.get_bill(state, msg.new_reference) is not None:
        raise errors.ReferenceTaken(
            f"transport document {msg.new_reference} exists", field="body.new_reference"
        )
    _member(deps, state, msg.consignee, "body.consignee")
    _member(deps, state, msg.notify_party, "body.notify_party")
    holder = bill.surrendered_by
    assert holder is not None  # set when it was surrendered
    consignee = msg.consignee or bill.consignee
    endorsee = bill.endorsee
    if bill.form == "STRAIGHT":
        endorsee = None
    if bill.form == "STRAIGHT" and holder not in (bill.shipper, consignee):
        raise errors.TransferNotAllowed(
            f"a straight bill is reissued only to its shipper or consignee, not {holder}",
            field="body.consignee",
        )
    new = replace(
        bill,
        reference=msg.new_reference,
        consignee=consignee,
        notify_party=msg.notify_party or bill.notify_party,
        cargo_description=msg.cargo_description or bill.cargo_description,
        packages=msg.packages or bill.packages,
        gross_weight_kg=msg.gross_weight_kg or bill.gross_weight_kg,
        status=store.ISSUED,
        issued_ms=env.time_ms,
        holder=holder,
        endorsee=endorsee,
        chain=(_entry(env, ctx, "ISSUE", holder),),
        surrendered_by=None,
        replaces=bill.reference,
        replaced_by=None,
        version=1,
    )
    voided = _void(state, bill, f"reissued as {msg.new_reference}", msg.new_reference)
    store.put_bill(state, new)
    store.claim_containers(state, new)
    return [
        events.bill_event(voided, "voided", ctx.signer.org),
        events.bill_event(new, "reissued", ctx.signer.org, holder),
    ]
