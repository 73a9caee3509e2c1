"""The trade module's messages: a sales contract's terms, validated statelessly.

HS codes are 6 to 10 digits; currencies ISO 4217 (pycountry); Incoterms the eleven of
Incoterms 2020; ports UN/LOCODEs; quantities whole numbers of a unit; unit prices integer
minor units of the currency (DESIGN.md invariant 7).
"""

from __future__ import annotations

import datetime
from typing import Annotated, Literal

import pycountry
from pydantic import AfterValidator, Field, StringConstraints

from portchain.kernel.errors import InvalidError
from portchain.kernel.fields import Name, OrgId, Text
from portchain.kernel.identifiers import Locode
from portchain.kernel.module import Message

INCOTERMS_2020 = ("EXW", "FCA", "CPT", "CIP", "DAP", "DPU", "DDP", "FAS", "FOB", "CFR", "CIF")
UNITS = ("PCE", "SET", "CTN", "PK", "KGM", "TNE", "MTR", "MTK", "MTQ", "LTR")
"""UN/ECE Recommendation 20 unit codes the contracts use."""

MAX_LINES = 100
MAX_QUANTITY = 10**9
MAX_UNIT_PRICE = 10**12
"""Bounds that keep every total below 2**63 minor units: 100 x 10^9 x 10^12 would not, so the
contract total is also checked (:data:`MAX_TOTAL`)."""
MAX_TOTAL = 10**15


def _currency(code: str) -> str:
    if len(code) != 3 or not code.isupper() or pycountry.currencies.get(alpha_3=code) is None:
        raise ValueError("must be an ISO 4217 currency code, e.g. USD, EUR, CNY")
    return code


def _date(text: str) -> str:
    try:
        parsed = datetime.date.fromisoformat(text)
    except ValueError:
        raise ValueError("must be a date as YYYY-MM-DD") from None
    if len(text) != 10 or parsed.isoformat() != text:
        raise ValueError("must be a date as YYYY-MM-DD")
    return text


Currency = Annotated[str, AfterValidator(_currency)]
IsoDate = Annotated[str, AfterValidator(_date)]
HsCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{6}([0-9]{2}){0,2}$")]
"""An HS code: 6 digits (international), or 8 or 10 (national extensions)."""
ContractId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]


class Line(Message):
    hs_code: HsCode
    description: Name
    quantity: Annotated[int, Field(ge=1, le=MAX_QUANTITY)]
    unit: Literal[UNITS]  # type: ignore[valid-type]
    unit_price: Annotated[int, Field(ge=0, le=MAX_UNIT_PRICE)]
    """In minor units of the contract's currency (cents for USD, yen for JPY)."""


class Terms(Message):
    lines: Annotated[list[Line], Field(min_length=1, max_length=MAX_LINES)]
    currency: Currency
    incoterm: Literal[INCOTERMS_2020]  # type: ignore[valid-type]
    port_of_loading: Locode
    port_of_discharge: Locode
    latest_shipment_date: IsoDate
    payment_terms: Literal["letter_of_credit", "documents_against_payment", "open_account"]

    def check(self) -> None:
        if self.port_of_loading == self.port_of_discharge:
            raise InvalidError("must differ from port_of_loading", field="body.port_of_discharge")
        if sum(line.quantity * line.unit_price for line in self.lines) > MAX_TOTAL:
            raise InvalidError(f"the total exceeds {MAX_TOTAL} minor units", field="body.lines")


class Draft(Terms):
    """One party drafts a contract naming the other; the other accepts it or rejects it."""

    contract_id: ContractId
    seller: OrgId
    buyer: OrgId

    def check(self) -> None:
        super().check()
        if self.seller == self.buyer:
            raise InvalidError("must differ from the seller", field="body.buyer")


class Step(Message):
    contract_id: ContractId
    reason: Text = ""


class Amend(Terms):
    """A party proposes new terms for an agreed contract; they apply once the other agrees."""

    contract_id: ContractId
