"""Read-only views of transport documents, as a viewer may see them, and the DCSA export."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from portchain.kernel.access import Viewer
from portchain.kernel.module import QueryReader
from portchain.modules.ebl import store
from portchain.modules.ebl.store import Bill

MAX_PAGE = 500

DCSA_ACTIONS = frozenset(
    {
        "ISSUE",
        "TRANSFER",
        "ENDORSE",
        "ENDORSE_TO_ORDER",
        "BLANK_ENDORSE",
        "SIGN",
        "SURRENDER_FOR_DELIVERY",
        "SURRENDER_FOR_AMENDMENT",
        "SURRENDERED",
    }
)
"""The endorsement chain's DCSA action codes; a rejected surrender (portchain's
SURRENDER_REJECTED entry) goes to ``surrenderAnswers`` in the export instead."""


def readable(reader: QueryReader, viewer: Viewer, reference: str) -> Bill | None:
    """The stored document if ``viewer`` may read it, else None (as if it did not exist)."""
    found = store.get_bill(reader, reference)
    if found is None or not viewer.may_read(found.audience):
        return None
    return found


def bill(reader: QueryReader, viewer: Viewer, reference: str) -> dict[str, Any] | None:
    """The document with its whole chain, or None if absent or not visible to ``viewer``."""
    found = readable(reader, viewer, reference)
    if found is None:
        return None
    return {**asdict(found), "state_key": store.DOC + found.reference}


def summary(found: Bill) -> dict[str, Any]:
    return {
        "reference": found.reference,
        "document_type": found.document_type,
        "form": found.form,
        "status": found.status,
        "carrier": found.carrier,
        "shipper": found.shipper,
        "holder": found.holder,
        "booking": found.booking,
    }


def bills(
    reader: QueryReader, viewer: Viewer, after: str = "", limit: int = 100, holding: bool = False
) -> list[dict[str, Any]]:
    """The documents ``viewer``'s organisation is a party to (``holding``: that it holds now),
    from its own index, in reference order."""
    prefix = f"{store.PARTY}{viewer.org}/"
    rows: list[dict[str, Any]] = []
    cursor = prefix + after if after else ""
    while len(rows) < limit:
        page = reader.scan(
            prefix, after=cursor, limit=min(MAX_PAGE, limit * 2 if holding else limit)
        )
        if not page:
            break
        for key, _ in page:
            found = readable(reader, viewer, key[len(prefix) :])
            if found is not None and (not holding or found.holder == viewer.org):
                rows.append(summary(found))
                if len(rows) == limit:
                    break
        cursor = page[-1][0]
    return rows


def _iso(ms: int) -> str | None:
    if not ms:
        return None
    moment = datetime.fromtimestamp(ms // 1000, tz=UTC).replace(microsecond=ms % 1000 * 1000)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _party(org: str | None) -> dict[str, Any] | None:
    if org is None:
        return None
    return {
        "partyName": org,
        "identifyingCodes": [{"codeListProvider": "PORTCHAIN", "partyCode": org}],
    }


def dcsa(reader: QueryReader, viewer: Viewer, reference: str) -> dict[str, Any] | None:
    """The document and its endorsement chain shaped like a DCSA eBL 3.0 transport document."""
    found = readable(reader, viewer, reference)
    if found is None:
        return None
    parties: dict[str, Any] = {
        "shipper": _party(found.shipper),
        "issuingParty": _party(found.carrier),
    }
    if found.consignee:
        parties["consignee"] = _party(found.consignee)
    if found.endorsee:
        parties["endorsee"] = _party(found.endorsee)
    if found.notify_party:
        parties["notifyParties"] = [_party(found.notify_party)]
    chain = [
        {
            "actionCode": e.action,
            "actor": _party(e.actor),
            "recipient": _party(e.recipient),
            "actionDateTime": _iso(e.time_ms),
        }
        for e in found.chain
        if e.action in DCSA_ACTIONS
    ]
    answers = [
        {"answerCode": "SREJ", "reason": e.reason, "answerDateTime": _iso(e.time_ms)}
        for e in found.chain
        if e.action == "SURRENDER_REJECTED"
    ]
    answers += [
        {"answerCode": "SURR", "reason": e.reason or None, "answerDateTime": _iso(e.time_ms)}
        for e in found.chain
        if e.action == "SURRENDERED"
    ]
    return {
        "transportDocumentReference": found.reference,
        "transportDocumentStatus": found.status,
        "transportDocumentTypeCode": "BOL" if found.is_bill else "SWB",
        "isElectronic": True,
        "isToOrder": found.form != "STRAIGHT",
        "isShippedOnBoardType": True,
        "shippedOnBoardDate": (_iso(found.shipped_on_board_ms) or "")[:10] or None,
        "issueDate": (_iso(found.issued_ms) or "")[:10] or None,
        "carrierBookingReference": found.booking,
        "freightPaymentTermCode": "PRE" if found.freight == "PREPAID" else "COL",
        "documentParties": parties,
        "transports": {
            "portOfLoading": {"UNLocationCode": found.port_of_loading},
            "portOfDischarge": {"UNLocationCode": found.port_of_discharge},
            "transportCallReference": found.vessel_call,
        },
        "utilizedTransportEquipments": [
            {"equipment": {"equipmentReference": number}, "isShipperOwned": False}
            for number in found.containers
        ],
        "consignmentItems": [
            {
                "descriptionOfGoods": [found.cargo_description],
                "cargoItems": [
                    {
                        "equipmentReference": number,
                        "outerPackaging": {"numberOfPackages": found.packages},
                    }
                    for number in found.containers[:1]
                ],
                "cargoGrossWeight": {"value": found.gross_weight_kg, "unit": "KGM"},
            }
        ],
        "endorsementChain": chain,
        "surrenderAnswers": answers,
        "portchain": {
            "holder": found.holder,
            "blankEndorsed": found.blank,
            "negotiable": found.negotiable,
            "replaces": found.replaces,
            "replacedBy": found.replaced_by,
            "voidReason": found.void_reason or None,
            "stateKey": store.DOC + found.reference,
        },
    }
