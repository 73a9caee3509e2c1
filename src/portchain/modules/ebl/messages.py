"""The ebl module's messages, validated statelessly (rules that need state are in handlers)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from portchain.kernel.errors import InvalidError
from portchain.kernel.fields import Name, OrgId
from portchain.kernel.identifiers import ContainerNumber
from portchain.kernel.module import Message

MAX_CONTAINERS = 100
MAX_CHAIN = 100
"""Entries an endorsement chain may hold; a bill that reaches it must be surrendered."""

Reference = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9_-]{2,19}$")]
"""A transport document reference: 3 to 20 capitals, digits, '-' or '_' (DCSA: max 20)."""
BookingRef = Annotated[str, StringConstraints(min_length=1, max_length=35)]

Reason = Annotated[str, StringConstraints(max_length=256)]

DocumentType = Literal["BILL_OF_LADING", "SEA_WAYBILL"]
Form = Literal["STRAIGHT", "TO_ORDER", "BLANK"]
"""A straight bill names its consignee; a to-order bill goes to the order of a party (the
shipper unless ``to_order_of`` says otherwise); a blank-endorsed bill goes to its bearer."""
Freight = Literal["PREPAID", "COLLECT"]


class Draft(Message):
    """The carrier drafts the transport document of a confirmed booking (again, while it is
    a draft, to change it: the version goes up and the shipper approves the new one)."""

    reference: Reference
    booking: BookingRef
    document_type: DocumentType = "BILL_OF_LADING"
    form: Form = "TO_ORDER"
    consignee: OrgId | None = None
    to_order_of: OrgId | None = None
    notify_party: OrgId | None = None
    containers: Annotated[list[ContainerNumber], Field(min_length=1, max_length=MAX_CONTAINERS)]
    cargo_description: Name
    packages: Annotated[int, Field(ge=1, le=10_000_000)]
    gross_weight_kg: Annotated[int, Field(ge=1, le=1_000_000_000)]
    freight: Freight = "PREPAID"

    def check(self) -> None:
        if len(set(self.containers)) != len(self.containers):
            raise InvalidError("must not repeat a container", field="body.containers")
        if self.document_type == "SEA_WAYBILL" and self.form != "STRAIGHT":
            raise InvalidError(
                "a sea waybill names its consignee: form must be STRAIGHT", field="body.form"
            )
        if self.form == "STRAIGHT" and self.consignee is None:
            raise InvalidError(
                "a straight document must name its consignee", field="body.consignee"
            )
        if self.form != "TO_ORDER" and self.to_order_of is not None:
            raise InvalidError("only a TO_ORDER bill names to_order_of", field="body.to_order_of")
        if self.form == "BLANK" and self.consignee is not None:
            raise InvalidError("a blank-endorsed bill names no consignee", field="body.consignee")


class Approve(Message):
    """The shipper approves the draft as it read it (``version``)."""

    reference: Reference
    version: Annotated[int, Field(ge=1, le=2**31)]


class Ref(Message):
    """A step on a transport document that needs nothing but its reference."""

    reference: Reference


class Transfer(Message):
    """The holder hands the bill to ``to`` (TRANSFER: possession moves)."""

    reference: Reference
    to: OrgId


class Endorse(Message):
    """The holder endorses the bill to ``to`` (ENDORSE: to a named party, who cannot endorse
    it further; ENDORSE_TO_ORDER: to its order, who can). ``deliver`` hands it over in the
    same step (a TRANSFER entry follows)."""

    reference: Reference
    to: OrgId
    deliver: bool = True


class Surrender(Message):
    """The holder surrenders the bill to the issuing carrier, for delivery or for amendment."""

    reference: Reference
    purpose: Literal["delivery", "amendment"]


class AnswerSurrender(Message):
    """The issuing carrier accepts a surrender, or rejects it with a reason (DCSA SURR, SREJ)."""

    reference: Reference
    accept: bool
    reason: Reason = ""

    def check(self) -> None:
        if not self.accept and not self.reason.strip():
            raise InvalidError("a rejection must give its reason", field="body.reason")


class Void(Message):
    """The carrier voids a draft, or a bill surrendered to it for amendment."""

    reference: Reference
    reason: Annotated[Reason, StringConstraints(min_length=1)]


class Reissue(Message):
    """The carrier voids a bill surrendered for amendment and issues its replacement, to the
    party that surrendered it; fields left out keep their value."""

    reference: Reference
    new_reference: Reference
    consignee: OrgId | None = None
    notify_party: OrgId | None = None
    cargo_description: Name | None = None
    packages: Annotated[int, Field(ge=1, le=10_000_000)] | None = None
    gross_weight_kg: Annotated[int, Field(ge=1, le=1_000_000_000)] | None = None

    def check(self) -> None:
        if self.new_reference == self.reference:
            raise InvalidError("must differ from reference", field="body.new_reference")
