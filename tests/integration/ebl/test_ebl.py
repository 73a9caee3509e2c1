"""The electronic bill of lading on the real app: its life from draft to accomplishment,
every form (straight, to order, blank-endorsed, sea waybill), amendment and reissue,
exclusive control, visibility, and who may do what."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ebl_world import BANK, CARRIER, IMPORTER, SHIPPER, Shipment, new_shipment
from port_world import ok
from portchain.kernel.access import Viewer
from portchain.kernel.errors import registered_errors
from portchain.modules.ebl import queries

OUTSIDER = "OTHERSHIP"
SECOND_BANK = "SZTRADEBANK"


@pytest.fixture
def shipment(tmp_path: Path) -> Iterator[Shipment]:
    built = new_shipment(tmp_path)
    yield built
    built.chain.close()


def error_name(result: Any) -> str:
    """The registered name of the error a refused transaction got ('' if it succeeded)."""
    names = {(e.codespace, e.code): e.name for e in registered_errors()}
    return names.get((result.codespace, result.code), "")


def viewer(org: str) -> Viewer:
    return Viewer(org=org, country="", roles=frozenset())


def links(bill: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    return [(e["action"], e["actor"], e["recipient"]) for e in bill["chain"]]


# -- the life of a to-order bill (the demo's path) -----------------------------------------
def test_a_to_order_bill_from_draft_to_accomplished(shipment: Shipment) -> None:
    s = shipment
    drafted = s.draft("MRDU000001")
    assert drafted.events[0].type == "ebl.drafted"
    draft = s.bill("MRDU000001")
    assert (draft["status"], draft["holder"], draft["shipper"]) == ("DRAFT", None, SHIPPER)
    assert draft["vessel_call"] == s.call and draft["containers"] == list(s.containers)

    ok(s.run(SHIPPER, "approve", reference="MRDU000001", version=1))
    issued = ok(s.run(CARRIER, "issue", reference="MRDU000001"))
    bill = s.bill("MRDU000001")
    assert (bill["status"], bill["holder"], bill["endorsee"]) == ("ISSUED", SHIPPER, SHIPPER)
    loads = [s.chain.state(f"port/box/{n}")["load_ms"] for n in s.containers]
    assert bill["shipped_on_board_ms"] == max(loads) > 0
    assert issued.events[0].get("dcsa") == "ISSU"

    ok(s.run(SHIPPER, "endorse_to_order", reference="MRDU000001", to=BANK))
    ok(s.run(BANK, "endorse_to_order", reference="MRDU000001", to=IMPORTER))
    ok(s.run(IMPORTER, "surrender", reference="MRDU000001", purpose="delivery"))
    pending = s.bill("MRDU000001")
    assert (pending["status"], pending["holder"]) == ("PENDING_SURRENDER_FOR_DELIVERY", CARRIER)
    ok(s.run(CARRIER, "answer_surrender", reference="MRDU000001", accept=True))
    ok(s.run(CARRIER, "accomplish", reference="MRDU000001"))
    done = s.bill("MRDU000001")
    assert done["status"] == "ACCOMPLISHED"
    assert links(done) == [
        ("ISSUE", CARRIER, SHIPPER),
        ("ENDORSE_TO_ORDER", SHIPPER, BANK),
        ("TRANSFER", SHIPPER, BANK),
        ("ENDORSE_TO_ORDER", BANK, IMPORTER),
        ("TRANSFER", BANK, IMPORTER),
        ("SURRENDER_FOR_DELIVERY", IMPORTER, CARRIER),
        ("SURRENDERED", CARRIER, None),
    ]
    times = [e["time_ms"] for e in done["chain"]]
    assert (
        times == sorted(times) and len(set(times)) == 5
    )  # one block each; an endorsement and its delivery share one

    # Nothing happens to an accomplished bill, whoever asks.
    for who, verb, body in (
        (CARRIER, "accomplish", {}),
        (IMPORTER, "sign", {}),
        (CARRIER, "void", {"reason": "late"}),
        (IMPORTER, "surrender", {"purpose": "amendment"}),
    ):
        result = s.run(who, verb, reference="MRDU000001", **body)
        assert error_name(result) == "closed", (verb, result.log)
        assert "accomplished" in result.log
    assert s.bill("MRDU000001") == done


def test_the_dcsa_export_carries_the_document_and_its_endorsement_chain(
    shipment: Shipment,
) -> None:
    s = shipment
    s.issued("MRDU000002", notify_party=IMPORTER)
    ok(s.run(SHIPPER, "endorse_to_order", reference="MRDU000002", to=BANK))
    exported = queries.dcsa(s.chain.storage.reader(), viewer(BANK), "MRDU000002")
    assert exported is not None
    assert exported["transportDocumentReference"] == "MRDU000002"
    assert exported["transportDocumentTypeCode"] == "BOL"
    assert exported["transportDocumentStatus"] == "ISSUED"
    assert exported["isToOrder"] is True
    assert exported["shippedOnBoardDate"].startswith("2026-")
    assert exported["documentParties"]["endorsee"]["partyName"] == BANK
    assert exported["documentParties"]["notifyParties"][0]["partyName"] == IMPORTER
    assert [
        e["equipment"]["equipmentReference"] for e in exported["utilizedTransportEquipments"]
    ] == list(s.containers)
    assert [
        (link["actionCode"], link["actor"]["partyName"], (link["recipient"] or {}).get("partyName"))
        for link in exported["endorsementChain"]
    ] == [
        ("ISSUE", CARRIER, SHIPPER),
        ("ENDORSE_TO_ORDER", SHIPPER, BANK),
        ("TRANSFER", SHIPPER, BANK),
    ]
    assert all(link["actionDateTime"].endswith("Z") for link in exported["endorsementChain"])
    assert exported["portchain"]["holder"] == BANK
    assert queries.dcsa(s.chain.storage.reader(), viewer(OUTSIDER), "MRDU000002") is None


# -- issuance rules -------------------------------------------------------------------------
def test_a_bill_is_issued_only_once_every_container_is_loaded(tmp_path: Path) -> None:
    s = new_shipment(tmp_path, loaded=False)
    s.draft("MRDU000003")
    ok(s.run(SHIPPER, "approve", reference="MRDU000003", version=1))
    early = s.run(CARRIER, "issue", reference="MRDU000003")
    assert error_name(early) == "not_loaded" and s.containers[0] in early.log
    assert s.bill("MRDU000003")["status"] == "APPROVED"
    s.load_all()
    ok(s.run(CARRIER, "issue", reference="MRDU000003"))
    assert s.bill("MRDU000003")["status"] == "ISSUED"
    s.chain.close()


def test_the_shipper_approves_the_version_it_read(shipment: Shipment) -> None:
    s = shipment
    s.draft("MRDU000004")
    s.draft("MRDU000004", packages=2401)  # the carrier corrects the draft
    stale = s.run(SHIPPER, "approve", reference="MRDU000004", version=1)
    assert error_name(stale) == "stale_draft" and "version 2" in stale.log
    ok(s.run(SHIPPER, "approve", reference="MRDU000004", version=2))
    assert s.bill("MRDU000004")["packages"] == 2401
    again = s.attempt(CARRIER, "ebl.draft", s.draft_body("MRDU000004"))
    assert error_name(again) == "reference_taken"


def test_a_container_is_on_one_live_transport_document(shipment: Shipment) -> None:
    s = shipment
    s.draft("MRDU000005")
    second = s.attempt(CARRIER, "ebl.draft", s.draft_body("MRDU000006"))
    assert error_name(second) == "container_taken" and "MRDU000005" in second.log
    assert s.chain.state("ebl/doc/MRDU000006") is None
    ok(s.run(CARRIER, "void", reference="MRDU000005", reason="booked twice"))
    s.draft("MRDU000006")


def test_drafts_are_checked_against_the_booking(shipment: Shipment) -> None:
    s = shipment
    cases = [
        ({"booking": "NOSUCH"}, "booking_mismatch", "body.booking"),
        ({"containers": ["MSCU1234566"]}, "booking_mismatch", "body.containers.0"),
        ({"consignee": "NOSUCHORG", "form": "STRAIGHT"}, "not_a_member", "body.consignee"),
        ({"form": "STRAIGHT"}, "invalid", "body.consignee"),
        ({"document_type": "SEA_WAYBILL"}, "invalid", "body.form"),
        ({"form": "BLANK", "consignee": IMPORTER}, "invalid", "body.consignee"),
        ({"containers": []}, "invalid", "body.containers"),
    ]
    for changes, name, field in cases:
        result = s.attempt(CARRIER, "ebl.draft", s.draft_body("MRDU000007", **changes))
        assert not result.ok, changes
        assert field in result.log, (changes, result.log)
        if name != "invalid":
            assert error_name(result) == name, (changes, result.log)
    assert s.chain.state("ebl/doc/MRDU000007") is None
    other = s.attempt("OTHERLINE", "ebl.draft", s.draft_body("MRDU000007"))
    assert error_name(other) == "booking_mismatch"


# -- the forms ----------------------------------------------------------------------------
def test_a_straight_bill_goes_only_to_its_consignee_and_is_never_endorsed(
    shipment: Shipment,
) -> None:
    s = shipment
    s.issued("MRDU000010", form="STRAIGHT", consignee=IMPORTER)
    to_bank = s.run(SHIPPER, "transfer", reference="MRDU000010", to=BANK)
    assert error_name(to_bank) == "transfer_not_allowed" and IMPORTER in to_bank.log
    endorse = s.run(SHIPPER, "endorse", reference="MRDU000010", to=IMPORTER)
    assert error_name(endorse) == "not_negotiable"
    early = s.run(SHIPPER, "surrender", reference="MRDU000010", purpose="delivery")
    assert error_name(early) == "not_entitled"
    ok(s.run(SHIPPER, "transfer", reference="MRDU000010", to=IMPORTER))
    ok(s.run(IMPORTER, "sign", reference="MRDU000010"))
    ok(s.run(IMPORTER, "surrender", reference="MRDU000010", purpose="delivery"))
    assert links(s.bill("MRDU000010"))[1:] == [
        ("TRANSFER", SHIPPER, IMPORTER),
        ("SIGN", IMPORTER, None),
        ("SURRENDER_FOR_DELIVERY", IMPORTER, CARRIER),
    ]


def test_a_blank_endorsed_bill_moves_by_possession_alone(shipment: Shipment) -> None:
    s = shipment
    s.issued("MRDU000011")
    named = s.run(SHIPPER, "transfer", reference="MRDU000011", to=BANK)
    assert error_name(named) == "transfer_not_allowed"  # to order of the shipper: endorse first
    ok(s.run(SHIPPER, "blank_endorse", reference="MRDU000011"))
    ok(s.run(SHIPPER, "transfer", reference="MRDU000011", to=BANK))
    ok(s.run(BANK, "transfer", reference="MRDU000011", to=SECOND_BANK))
    bill = s.bill("MRDU000011")
    assert (bill["holder"], bill["endorsee"], bill["blank"]) == (SECOND_BANK, None, True)
    # The bearer may make it an order bill again, to the order of a named party.
    ok(s.run(SECOND_BANK, "endorse_to_order", reference="MRDU000011", to=IMPORTER))
    bill = s.bill("MRDU000011")
    assert (bill["holder"], bill["endorsee"], bill["blank"]) == (IMPORTER, IMPORTER, False)


def test_a_bill_issued_blank_goes_to_any_bearer(shipment: Shipment) -> None:
    s = shipment
    bill = s.issued("MRDU000012", form="BLANK")
    assert (bill["holder"], bill["endorsee"], bill["blank"]) == (SHIPPER, None, True)
    ok(s.run(SHIPPER, "transfer", reference="MRDU000012", to=IMPORTER))
    ok(s.run(IMPORTER, "surrender", reference="MRDU000012", purpose="delivery"))


def test_a_named_endorsee_may_not_endorse_further_but_may_surrender(shipment: Shipment) -> None:
    s = shipment
    s.issued("MRDU000013")
    ok(s.run(SHIPPER, "endorse", reference="MRDU000013", to=IMPORTER))
    onward = s.run(IMPORTER, "endorse_to_order", reference="MRDU000013", to=BANK)
    assert error_name(onward) == "not_negotiable" and "by name" in onward.log
    ok(s.run(IMPORTER, "surrender", reference="MRDU000013", purpose="delivery"))


def test_an_endorsement_without_delivery_leaves_possession_until_the_transfer(
    shipment: Shipment,
) -> None:
    s = shipment
    s.issued("MRDU000014", to_order_of=BANK)
    assert s.bill("MRDU000014")["endorsee"] == BANK
    own = s.run(SHIPPER, "endorse_to_order", reference="MRDU000014", to=IMPORTER)
    assert error_name(own) == "not_negotiable"  # it stands to the bank's order, not the shipper's
    ok(s.run(SHIPPER, "transfer", reference="MRDU000014", to=BANK))
    ok(s.run(BANK, "endorse_to_order", reference="MRDU000014", to=IMPORTER, deliver=False))
    bill = s.bill("MRDU000014")
    assert (bill["holder"], bill["endorsee"]) == (BANK, IMPORTER)
    ok(s.run(BANK, "transfer", reference="MRDU000014", to=IMPORTER))
    assert s.bill("MRDU000014")["holder"] == IMPORTER


def test_a_sea_waybill_is_not_a_title_document(shipment: Shipment) -> None:
    s = shipment
    bill = s.issued("MRDU000015", document_type="SEA_WAYBILL", form="STRAIGHT", consignee=IMPORTER)
    assert (bill["status"], bill["holder"]) == ("ISSUED", None)
    for verb, body in (
        ("transfer", {"to": IMPORTER}),
        ("endorse", {"to": IMPORTER}),
        ("surrender", {"purpose": "delivery"}),
        ("sign", {}),
    ):
        result = s.run(SHIPPER, verb, reference="MRDU000015", **body)
        assert error_name(result) == "not_a_title_document", verb
    ok(s.run(CARRIER, "accomplish", reference="MRDU000015"))
    exported = queries.dcsa(s.chain.storage.reader(), viewer(IMPORTER), "MRDU000015")
    assert exported is not None and exported["transportDocumentTypeCode"] == "SWB"


# -- surrender, amendment, voiding -------------------------------------------------------------
def test_a_rejected_surrender_returns_the_bill_with_the_reason(shipment: Shipment) -> None:
    s = shipment
    s.issued("MRDU000020")
    ok(s.run(SHIPPER, "surrender", reference="MRDU000020", purpose="delivery"))
    stray = s.run(SHIPPER, "transfer", reference="MRDU000020", to=BANK)
    assert error_name(stray) == "wrong_status"  # pending: nobody moves it meanwhile
    bare = s.run(CARRIER, "answer_surrender", reference="MRDU000020", accept=False)
    assert not bare.ok and "body.reason" in bare.log
    ok(
        s.run(
            CARRIER,
            "answer_surrender",
            reference="MRDU000020",
            accept=False,
            reason="freight unpaid",
        )
    )
    bill = s.bill("MRDU000020")
    assert (bill["status"], bill["holder"]) == ("ISSUED", SHIPPER)
    assert bill["chain"][-1]["action"] == "SURRENDER_REJECTED"
    assert bill["chain"][-1]["reason"] == "freight unpaid"
    exported = queries.dcsa(s.chain.storage.reader(), viewer(SHIPPER), "MRDU000020")
    assert exported is not None
    assert exported["surrenderAnswers"][0] == {
        "answerCode": "SREJ",
        "reason": "freight unpaid",
        "answerDateTime": exported["surrenderAnswers"][0]["answerDateTime"],
    }
    assert "SURRENDER_REJECTED" not in {e["actionCode"] for e in exported["endorsementChain"]}


def test_amendment_voids_the_bill_and_reissues_it_linked_to_the_old_one(
    shipment: Shipment,
) -> None:
    s = shipment
    s.issued("MRDU000021")
    ok(s.run(SHIPPER, "endorse_to_order", reference="MRDU000021", to=BANK))
    voiding = s.run(CARRIER, "void", reference="MRDU000021", reason="typo")
    assert error_name(voiding) == "wrong_status"  # never out of its holder's hands
    ok(s.run(BANK, "surrender", reference="MRDU000021", purpose="amendment"))
    ok(s.run(CARRIER, "answer_surrender", reference="MRDU000021", accept=True))
    assert s.bill("MRDU000021")["status"] == "SURRENDERED_FOR_AMENDMENT"
    result = ok(
        s.run(
            CARRIER,
            "reissue",
            reference="MRDU000021",
            new_reference="MRDU000022",
            cargo_description="LED panels, 2,404 cartons",
            packages=2404,
        )
    )
    assert [e.type for e in result.events] == ["ebl.voided", "ebl.reissued"]
    old, new = s.bill("MRDU000021"), s.bill("MRDU000022")
    assert (old["status"], old["replaced_by"]) == ("VOIDED", "MRDU000022")
    assert (new["status"], new["holder"], new["endorsee"]) == ("ISSUED", BANK, BANK)
    assert (new["replaces"], new["packages"]) == ("MRDU000021", 2404)
    assert links(new) == [("ISSUE", CARRIER, BANK)]
    raw = s.chain.storage.reader().get(f"ebl/container/{s.containers[0]}")
    assert raw == b"MRDU000022"
    after = s.run(BANK, "sign", reference="MRDU000021")
    assert error_name(after) == "closed" and "voided" in after.log


# -- exclusive control -----------------------------------------------------------------------
def test_of_two_transfers_in_one_block_exactly_one_succeeds(shipment: Shipment) -> None:
    s = shipment
    s.issued("MRDU000030", form="BLANK")
    block = s.chain.block(
        s.chain.sign(SHIPPER, "ebl.transfer", {"reference": "MRDU000030", "to": BANK}),
        s.chain.sign(SHIPPER, "ebl.transfer", {"reference": "MRDU000030", "to": SECOND_BANK}),
    )
    first, second = block.tx_results
    assert first.ok and not second.ok
    assert error_name(second) == "not_the_holder"
    assert s.bill("MRDU000030")["holder"] == BANK
    assert [link[2] for link in links(s.bill("MRDU000030"))] == [SHIPPER, BANK]


def test_of_two_transfers_in_two_blocks_the_later_one_fails(shipment: Shipment) -> None:
    s = shipment
    s.issued("MRDU000031")
    ok(s.run(SHIPPER, "endorse_to_order", reference="MRDU000031", to=BANK))
    late = s.run(SHIPPER, "endorse_to_order", reference="MRDU000031", to=SECOND_BANK)
    assert error_name(late) == "not_the_holder"
    assert s.bill("MRDU000031")["holder"] == BANK


def test_a_surrender_and_a_transfer_in_one_block_do_not_both_happen(shipment: Shipment) -> None:
    s = shipment
    s.issued("MRDU000032", form="BLANK")
    block = s.chain.block(
        s.chain.sign(SHIPPER, "ebl.surrender", {"reference": "MRDU000032", "purpose": "delivery"}),
        s.chain.sign(SHIPPER, "ebl.transfer", {"reference": "MRDU000032", "to": BANK}),
    )
    assert [r.ok for r in block.tx_results] == [True, False]
    assert s.bill("MRDU000032")["status"] == "PENDING_SURRENDER_FOR_DELIVERY"


# -- visibility -------------------------------------------------------------------------------
def test_only_the_bills_parties_see_it_and_past_holders_keep_seeing_it(shipment: Shipment) -> None:
    s = shipment
    s.issued("MRDU000040")
    reader = s.chain.storage.reader()
    assert queries.bill(reader, viewer(BANK), "MRDU000040") is None
    ok(s.run(SHIPPER, "endorse_to_order", reference="MRDU000040", to=BANK))
    ok(s.run(BANK, "endorse_to_order", reference="MRDU000040", to=IMPORTER))
    reader = s.chain.storage.reader()
    for org in (CARRIER, SHIPPER, BANK, IMPORTER):
        found = queries.bill(reader, viewer(org), "MRDU000040")
        assert found is not None and found["holder"] == IMPORTER, org
    for org in (OUTSIDER, SECOND_BANK, "SHEKOU-CT", "NL-CUSTOMS"):
        assert queries.bill(reader, viewer(org), "MRDU000040") is None, org
    listed = queries.bills(reader, viewer(BANK))
    assert [row["reference"] for row in listed] == ["MRDU000040"]
    assert queries.bills(reader, viewer(BANK), holding=True) == []
    assert [r["reference"] for r in queries.bills(reader, viewer(IMPORTER), holding=True)] == [
        "MRDU000040"
    ]
    # An outsider's action on it is answered as if it did not exist.
    probe = s.run(OUTSIDER, "transfer", reference="MRDU000040", to=OUTSIDER)
    assert error_name(probe) == "ebl_not_found"


# -- who may do what --------------------------------------------------------------------------
Body = Callable[[Shipment], dict[str, Any]]


def ref(**extra: Any) -> Body:
    return lambda s: {"reference": "MRDU000050", **extra}


# (why, signer, verb, body, None if allowed else the error's name); on an issued to-order bill
# held by the shipper, to its own order.
WHO_MAY: list[tuple[str, str, str, Body, str | None]] = [
    ("the holder endorses to order", SHIPPER, "endorse_to_order", ref(to=BANK), None),
    ("the holder endorses by name", SHIPPER, "endorse", ref(to=BANK), None),
    ("the holder endorses in blank", SHIPPER, "blank_endorse", ref(), None),
    ("the holder signs", SHIPPER, "sign", ref(), None),
    ("the holder surrenders", SHIPPER, "surrender", ref(purpose="delivery"), None),
    ("not to itself", SHIPPER, "endorse_to_order", ref(to=SHIPPER), "transfer_not_allowed"),
    ("not back to the carrier", SHIPPER, "endorse", ref(to=CARRIER), "transfer_not_allowed"),
    ("not to a non-member", SHIPPER, "endorse_to_order", ref(to="NOBODY"), "not_a_member"),
    ("the carrier does not move it", CARRIER, "transfer", ref(to=BANK), "not_the_holder"),
    ("the carrier does not endorse it", CARRIER, "endorse", ref(to=BANK), "not_the_holder"),
    ("nor does an outsider", OUTSIDER, "endorse", ref(to=OUTSIDER), "ebl_not_found"),
    ("nor does a bank", BANK, "sign", ref(), "ebl_not_found"),
    ("the carrier cannot void it", CARRIER, "void", ref(reason="x"), "wrong_status"),
    ("nor accomplish it", CARRIER, "accomplish", ref(), "wrong_status"),
    (
        "nor answer an unasked surrender",
        CARRIER,
        "answer_surrender",
        ref(accept=True),
        "wrong_status",
    ),
    ("the shipper cannot issue", SHIPPER, "issue", ref(), "unauthorized"),
    ("the shipper cannot accomplish", SHIPPER, "accomplish", ref(), "unauthorized"),
    ("another carrier cannot issue", "OTHERLINE", "issue", ref(), "ebl_not_found"),
    ("issued once", CARRIER, "issue", ref(), "wrong_status"),
    ("no re-approval", SHIPPER, "approve", ref(version=1), "wrong_status"),
    ("no redraft", CARRIER, "draft", lambda s: s.draft_body("MRDU000050"), "reference_taken"),
]


@pytest.mark.parametrize(
    ("why", "signer", "verb", "body", "expected"), WHO_MAY, ids=[row[0] for row in WHO_MAY]
)
def test_who_may_do_what(
    shipment: Shipment, why: str, signer: str, verb: str, body: Body, expected: str | None
) -> None:
    s = shipment
    s.issued("MRDU000050")
    before = s.bill("MRDU000050")
    result = s.attempt(signer, f"ebl.{verb}", body(s))
    if expected is None:
        assert result.ok, result.log
        assert s.bill("MRDU000050") != before
    else:
        assert not result.ok
        name = error_name(result)
        assert name == expected, (name, result.log)
        assert s.bill("MRDU000050") == before
