"""The logistics module on the real app: identifiers, the booking state machine, who may do
what, bad input, and who sees a booking, a container and a call's manifest."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from portchain.engines.solo import SoloConfig
from portchain.kernel.errors import PortchainError
from portchain.kernel.identifiers import imo_check_digit, iso6346_check_digit
from portchain.kernel.tx import Tx, sign
from portchain.node.home import Home
from portchain.node.node import Node
from portchain.node.presets import DEMO_CAST, create_network
from served import client_as, serve
from support import TRADE_CAST, Chain, make_genesis, seeded_key

IMO = "9321483"
BOX = "CSQU3054383"
TIME = 1_790_000_000_000


def ok(result: Any) -> Any:
    assert result.ok, result.log
    return result


def refused(
    chain: Chain, who: str, action: str, body: dict[str, Any], code: int, field: str
) -> None:
    """The action fails with logistics ``code`` naming ``field``, and changes nothing but the
    signer's sequence number (a failed transaction still uses it up: no replay)."""
    before = module_state(chain)
    result = chain.run(who, action, body)
    assert not result.ok, f"{action} by {who} should be refused"
    assert (result.codespace, result.code) == ("logistics", code), result.log
    assert result.log.startswith(f"{field}: "), result.log
    assert not result.events
    assert module_state(chain) == before


def module_state(chain: Chain) -> list[tuple[str, bytes]]:
    """Every state entry of the logistics and port modules."""
    reader = chain.storage.reader()
    return reader.scan("logistics/", limit=100_000) + reader.scan("port/", limit=100_000)


def check_refused(
    chain: Chain, who: str, action: str, body: dict[str, Any], code: tuple[str, int], field: str
) -> str:
    """Refused before any handler (decode or role), naming ``field``; nothing changes."""
    before = chain.app_hash
    raw = chain.sign(who, action, body, seq=chain.seqs.get(seeded_key(who).key_id, 0))
    with pytest.raises(PortchainError) as refusal:
        chain.app.check_tx(raw)
    assert (refusal.value.codespace, refusal.value.code) == code, refusal.value
    assert refusal.value.field == field, (refusal.value.field, refusal.value.message)
    assert chain.app_hash == before
    return refusal.value.message


def booking_body(reference: str = "BK-0001", **changes: Any) -> dict[str, Any]:
    return {
        "reference": reference,
        "carrier": "MERIDIAN",
        "shipper": "BRIGHTWAVE",
        "consignee": "HOLLANDHOME",
        "vessel_call": "MER-001",
        "port_of_loading": "CNSHK",
        "port_of_discharge": "NLRTM",
        "equipment": [{"size_type": "22G1", "count": 1}],
        **changes,
    }


@pytest.fixture
def chain(tmp_path: Path) -> Iterator[Chain]:
    built = Chain(tmp_path, genesis=make_genesis(TRADE_CAST))
    ok(
        built.run(
            "SHEKOU-PORT",
            "port.register_terminal",
            {"terminal_id": "CNSHK-SCT", "name": "Shekou SCT", "org": "SHEKOU-CT"},
        )
    )
    ok(
        built.run(
            "RTM-PORT",
            "port.register_terminal",
            {"terminal_id": "NLRTM-DDT", "name": "Delta", "org": "RTM-DELTA"},
        )
    )
    ok(
        built.run(
            "MERIDIAN",
            "logistics.register_vessel",
            {"imo": IMO, "name": "Meridian Star", "flag": "SG"},
        )
    )
    for call_id, terminal in (("MER-001", "CNSHK-SCT"), ("MER-002", "NLRTM-DDT")):
        ok(
            built.run(
                "MERIDIAN",
                "logistics.schedule_call",
                {
                    "call_id": call_id,
                    "imo": IMO,
                    "terminal": terminal,
                    "voyage": "001E",
                    "planned_arrival_ms": TIME,
                    "planned_departure_ms": TIME + 86_400_000,
                },
            )
        )
    yield built
    built.close()


def test_check_digits_of_real_and_corrupted_numbers() -> None:
    for imo in ("9321483", "9074729", "9811000"):
        assert imo_check_digit(imo[:6]) == int(imo[6])
    assert imo_check_digit("932148") != 4
    for number in ("CSQU3054383", "MSKU9070323"):
        assert iso6346_check_digit(number[:10]) == int(number[10]), number
    assert iso6346_check_digit("CSQU305438") != 4


def test_identifiers_are_refused_with_their_rule(chain: Chain) -> None:
    rule = check_refused(
        chain,
        "MERIDIAN",
        "logistics.register_vessel",
        {"imo": "9321484", "name": "Bad", "flag": "SG"},
        ("tx", 9),
        "body.imo",
    )
    assert "check digit of IMO number 9321484 must be 3" in rule
    for number, text in (
        ("CSQU3054384", "check digit"),
        ("CSQX3054383", "ISO 6346"),
        ("CSQU305438", "ISO 6346"),
    ):
        rule = check_refused(
            chain,
            "MERIDIAN",
            "logistics.register_container",
            {"number": number, "size_type": "22G1"},
            ("tx", 9),
            "body.number",
        )
        assert text in rule
    for locode in ("XXSHK", "CNSH1", "cnshk", "CNSHKK"):
        rule = check_refused(
            chain,
            "BRIGHTWAVE",
            "logistics.request_booking",
            booking_body(port_of_discharge=locode),
            ("tx", 9),
            "body.port_of_discharge",
        )
        assert "UN/LOCODE" in rule


def test_the_booking_state_machine(chain: Chain) -> None:
    ok(chain.run("BRIGHTWAVE", "logistics.request_booking", booking_body()))
    assert chain.state("logistics/booking/BK-0001")["status"] == "RECEIVED"
    ok(chain.run("MERIDIAN", "logistics.request_update", {"reference": "BK-0001", "reason": "VGM"}))
    refused(chain, "MERIDIAN", "logistics.confirm", {"reference": "BK-0001"}, 11, "body.reference")
    ok(
        chain.run(
            "BRIGHTWAVE",
            "logistics.update",
            {"reference": "BK-0001", "equipment": [{"size_type": "45G1", "count": 2}]},
        )
    )
    ok(chain.run("MERIDIAN", "logistics.confirm", {"reference": "BK-0001"}))
    refused(chain, "BRIGHTWAVE", "logistics.cancel", {"reference": "BK-0001"}, 11, "body.reference")
    ok(chain.run("BRIGHTWAVE", "logistics.request_cancellation", {"reference": "BK-0001"}))
    ok(
        chain.run(
            "MERIDIAN",
            "logistics.decline_cancellation",
            {"reference": "BK-0001", "reason": "loaded"},
        )
    )
    assert chain.state("logistics/booking/BK-0001")["status"] == "CONFIRMED"
    ok(chain.run("MERIDIAN", "logistics.register_container", {"number": BOX, "size_type": "22G1"}))
    ok(chain.run("MERIDIAN", "logistics.assign_container", {"number": BOX, "reference": "BK-0001"}))
    ok(
        chain.run(
            "BRIGHTWAVE",
            "logistics.add_seal",
            {"number": BOX, "seal": "SH-778", "source": "SHIPPER"},
        )
    )
    ok(chain.run("MERIDIAN", "logistics.complete", {"reference": "BK-0001"}))
    booking = chain.state("logistics/booking/BK-0001")
    assert booking["status"] == "COMPLETED" and booking["containers"] == [BOX]
    assert chain.state(f"logistics/container/{BOX}")["seals"] == ["SH-778"]
    refused(
        chain,
        "MERIDIAN",
        "logistics.decline",
        {"reference": "BK-0001", "reason": "x"},
        11,
        "body.reference",
    )
    # Cancelled before confirmation, rejected, and a confirmed cancellation.
    ok(chain.run("BRIGHTWAVE", "logistics.request_booking", booking_body("BK-0002")))
    ok(chain.run("BRIGHTWAVE", "logistics.cancel", {"reference": "BK-0002"}))
    ok(chain.run("PEARLFWD", "logistics.request_booking", booking_body("BK-0003")))
    assert chain.state("logistics/booking/BK-0003")["forwarder"] == "PEARLFWD"
    ok(chain.run("MERIDIAN", "logistics.reject", {"reference": "BK-0003", "reason": "full"}))
    ok(chain.run("BRIGHTWAVE", "logistics.request_booking", booking_body("BK-0004")))
    ok(chain.run("MERIDIAN", "logistics.confirm", {"reference": "BK-0004"}))
    ok(chain.run("BRIGHTWAVE", "logistics.request_cancellation", {"reference": "BK-0004"}))
    ok(chain.run("MERIDIAN", "logistics.confirm_cancellation", {"reference": "BK-0004"}))
    statuses = [chain.state(f"logistics/booking/BK-000{i}")["status"] for i in (2, 3, 4)]
    assert statuses == ["CANCELLED", "REJECTED", "CANCELLED"]


def test_transport_events_follow_the_vessel(chain: Chain) -> None:
    report = {"call_id": "MER-001", "event": "DEPA", "classifier": "ACT", "time_ms": TIME}
    refused(chain, "MERIDIAN", "logistics.report_transport", report, 7, "body.event")
    ok(chain.run("MERIDIAN", "logistics.report_transport", {**report, "classifier": "EST"}))
    ok(
        chain.run(
            "MERIDIAN",
            "logistics.report_transport",
            {**report, "event": "ARRI", "time_ms": TIME + 1000},
        )
    )
    refused(chain, "MERIDIAN", "logistics.report_transport", report, 7, "body.time_ms")
    ok(chain.run("MERIDIAN", "logistics.report_transport", {**report, "time_ms": TIME + 5000}))
    assert chain.state("logistics/call/MER-001")["status"] == "DEPARTED"
    refused(chain, "MERIDIAN", "logistics.report_transport", report, 7, "body.call_id")
    refused(
        chain,
        "OTHERLINE",
        "logistics.report_transport",
        {**report, "call_id": "MER-002", "event": "ARRI"},
        3,
        "body.call_id",
    )


def test_who_may_do_what(chain: Chain) -> None:
    """The README's table, refusals included."""
    ok(chain.run("BRIGHTWAVE", "logistics.request_booking", booking_body()))
    role_refusals = [
        ("SHEKOU-CT", "logistics.confirm", {"reference": "BK-0001"}),  # a terminal
        ("BRIGHTWAVE", "logistics.confirm", {"reference": "BK-0001"}),  # the shipper
        ("HOLLANDBANK", "logistics.request_booking", booking_body("BK-0009")),
        ("BRIGHTWAVE", "logistics.register_vessel", {"imo": "9074729", "name": "X", "flag": "CN"}),
        ("SHEKOU-CT", "logistics.assign_container", {"number": BOX, "reference": "BK-0001"}),
    ]
    for who, action, body in role_refusals:
        check_refused(chain, who, action, body, ("tx", 8), "tx.signer")
    refused(chain, "OTHERLINE", "logistics.confirm", {"reference": "BK-0001"}, 10, "body.reference")
    refused(chain, "OTHERSHIP", "logistics.cancel", {"reference": "BK-0001"}, 10, "body.reference")
    refused(
        chain, "OTHERSHIP", "logistics.request_booking", booking_body("BK-0010"), 10, "body.shipper"
    )
    refused(
        chain,
        "OTHERLINE",
        "logistics.schedule_call",
        {
            "call_id": "OTH-1",
            "imo": IMO,
            "terminal": "CNSHK-SCT",
            "voyage": "1",
            "planned_arrival_ms": TIME,
            "planned_departure_ms": TIME + 1,
        },
        3,
        "body.imo",
    )
    ok(chain.run("MERIDIAN", "logistics.confirm", {"reference": "BK-0001"}))
    ok(chain.run("MERIDIAN", "logistics.register_container", {"number": BOX, "size_type": "22G1"}))
    refused(
        chain,
        "OTHERLINE",
        "logistics.assign_container",
        {"number": BOX, "reference": "BK-0001"},
        10,
        "body.reference",
    )
    ok(chain.run("MERIDIAN", "logistics.assign_container", {"number": BOX, "reference": "BK-0001"}))
    refused(
        chain,
        "OTHERSHIP",
        "logistics.add_seal",
        {"number": BOX, "seal": "S1", "source": "SHIPPER"},
        10,
        "body.source",
    )
    ok(
        chain.run(
            "CN-CUSTOMS", "logistics.add_seal", {"number": BOX, "seal": "CN-1", "source": "CUSTOMS"}
        )
    )


def test_bad_input_for_every_action_names_the_field_and_changes_nothing(chain: Chain) -> None:
    cases = [
        (
            "MERIDIAN",
            "logistics.register_vessel",
            {"imo": "93214", "name": "X", "flag": "SG"},
            "body.imo",
        ),
        (
            "MERIDIAN",
            "logistics.register_vessel",
            {"imo": IMO, "name": "X", "flag": "XX"},
            "body.flag",
        ),
        (
            "MERIDIAN",
            "logistics.schedule_call",
            {
                "call_id": "C1",
                "imo": IMO,
                "terminal": "CNSHK",
                "voyage": "1",
                "planned_arrival_ms": TIME,
                "planned_departure_ms": TIME + 1,
            },
            "body.terminal",
        ),
        (
            "MERIDIAN",
            "logistics.schedule_call",
            {
                "call_id": "C1",
                "imo": IMO,
                "terminal": "CNSHK-SCT",
                "voyage": "1",
                "planned_arrival_ms": TIME,
                "planned_departure_ms": TIME,
            },
            "body.planned_departure_ms",
        ),
        (
            "MERIDIAN",
            "logistics.report_transport",
            {"call_id": "MER-001", "event": "LAND", "classifier": "ACT", "time_ms": TIME},
            "body.event",
        ),
        ("BRIGHTWAVE", "logistics.request_booking", booking_body(equipment=[]), "body.equipment"),
        ("BRIGHTWAVE", "logistics.request_booking", booking_body(reference="x"), "body.reference"),
        (
            "BRIGHTWAVE",
            "logistics.request_booking",
            booking_body(port_of_discharge="CNSHK"),
            "body.port_of_discharge",
        ),
        (
            "BRIGHTWAVE",
            "logistics.update",
            {"reference": "BK-0001", "equipment": [{"size_type": "22G1", "count": 0}]},
            "body.equipment.0.count",
        ),
        ("MERIDIAN", "logistics.reject", {"reference": "BK-0001", "reason": " "}, "body.reason"),
        ("MERIDIAN", "logistics.confirm", {"reference": "BK-0001", "extra": 1}, "body.extra"),
        (
            "MERIDIAN",
            "logistics.register_container",
            {"number": BOX, "size_type": "2"},
            "body.size_type",
        ),
        ("MERIDIAN", "logistics.assign_container", {"number": BOX}, "body.reference"),
        (
            "MERIDIAN",
            "logistics.add_seal",
            {"number": BOX, "seal": "S1", "source": "ME"},
            "body.source",
        ),
        (
            "MERIDIAN",
            "logistics.add_seal",
            {"number": BOX, "seal": "", "source": "CARRIER"},
            "body.seal",
        ),
    ]
    for who, action, body, field in cases:
        check_refused(chain, who, action, body, ("tx", 9), field)
    refused(
        chain,
        "BRIGHTWAVE",
        "logistics.request_booking",
        booking_body(vessel_call="NOPE"),
        5,
        "body.vessel_call",
    )
    refused(
        chain,
        "BRIGHTWAVE",
        "logistics.request_booking",
        booking_body(carrier="HOLLANDBANK"),
        14,
        "body.carrier",
    )
    refused(
        chain,
        "MERIDIAN",
        "logistics.schedule_call",
        {
            "call_id": "C9",
            "imo": IMO,
            "terminal": "CNSHK-XYZ",
            "voyage": "1",
            "planned_arrival_ms": TIME,
            "planned_departure_ms": TIME + 1,
        },
        6,
        "body.terminal",
    )


def test_who_sees_a_booking_a_container_and_a_manifest(tmp_path: Path) -> None:
    home = Home(tmp_path / "home")
    create_network(home, chain_id="logistics-test", cast=DEMO_CAST)
    node = Node(home, SoloConfig(block_interval=0.05))
    node.start()

    def send(org: str, action: str, body: dict[str, Any]) -> None:
        key = home.load_key(org).key
        raw = sign(
            Tx("logistics-test", key.key_id, node.next_sequence(key.key_id), action, body), key
        )
        outcome = node.submit(raw, wait=True)
        assert outcome["status"] == "committed", outcome

    try:
        send(
            "RTM-PORT",
            "port.register_terminal",
            {"terminal_id": "NLRTM-DDT", "name": "Delta", "org": "RTM-DELTA"},
        )
        send("MERIDIAN", "logistics.register_vessel", {"imo": IMO, "name": "Star", "flag": "SG"})
        send(
            "MERIDIAN",
            "logistics.schedule_call",
            {
                "call_id": "MER-9",
                "imo": IMO,
                "terminal": "NLRTM-DDT",
                "voyage": "9",
                "planned_arrival_ms": TIME,
                "planned_departure_ms": TIME + 1,
            },
        )
        send(
            "BRIGHTWAVE",
            "logistics.request_booking",
            booking_body(
                "BK-7777", vessel_call="MER-9", port_of_loading="NLRTM", port_of_discharge="CNSHK"
            ),
        )
        send("MERIDIAN", "logistics.confirm", {"reference": "BK-7777"})
        send("MERIDIAN", "logistics.register_container", {"number": BOX, "size_type": "22G1"})
        send("MERIDIAN", "logistics.assign_container", {"number": BOX, "reference": "BK-7777"})
        with serve(node) as base:
            for org in (
                "BRIGHTWAVE",
                "HOLLANDHOME",
                "MERIDIAN",
                "HOLLANDBANK",
                "RTM-DELTA",
                "NL-CUSTOMS",
                "CN-CUSTOMS",
            ):
                party = org in ("BRIGHTWAVE", "HOLLANDHOME", "MERIDIAN")
                with client_as(base, home.load_key(org).key) as client:
                    booking = client.get("/api/v1/logistics/bookings/BK-7777")
                    assert booking.status_code == (200 if party else 404), org
                    listed = client.get("/api/v1/logistics/bookings").json()["bookings"]
                    assert ("BK-7777" in str(listed)) == party, org
                    box = client.get(f"/api/v1/logistics/containers/{BOX}")
                    assert box.status_code == (200 if party else 404), org
                    manifest = client.get("/api/v1/logistics/calls/MER-9/manifest")
                    sees_manifest = org in ("MERIDIAN", "NL-CUSTOMS")
                    assert manifest.status_code == (200 if sees_manifest else 404), org
                    if sees_manifest:
                        assert BOX in manifest.text
                    events = client.get("/api/v1/events", params={"limit": 1000}).text
                    assert ("BK-7777" in events) == party, org
                    assert client.get("/api/v1/logistics/calls/MER-9").status_code == 200
    finally:
        node.stop()


def test_a_customs_seal_comes_from_the_customs_of_the_countries_of_loading_or_discharge(
    tmp_path: Path,
) -> None:
    from port_world import container_number, new_world

    world = new_world(tmp_path)
    world.vessel("9321483", "Meridian Star")
    booking = world.booking(call_id=world.call("9321483", "CNSHK-SCT"))  # CNSHK -> USNYC
    box = container_number()
    world.container(box, booking)
    seal = {"number": box, "seal": "NL-9", "source": "CUSTOMS"}
    refused = world.chain.run("NL-CUSTOMS", "logistics.add_seal", seal)
    assert not refused.ok and "body.source" in refused.log
    assert world.chain.state(f"logistics/container/{box}")["seals"] == []
    assert world.chain.run("CN-CUSTOMS", "logistics.add_seal", {**seal, "seal": "CN-9"}).ok
    unbooked = container_number()
    world.container(unbooked, None)
    alone = world.chain.run("CN-CUSTOMS", "logistics.add_seal", {**seal, "number": unbooked})
    assert not alone.ok  # no booking: no country to be the customs of
    world.chain.close()
