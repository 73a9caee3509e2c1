"""Who may read what, route by route and organisation by organisation.

One demo network with the whole cast; a few objects of one party are made through the
ledger (a failed transaction, a webhook, and one record per module). Then every member
organisation signs in and asks for each object by every route that serves it, and lists,
searches, counts and events are scanned for it. The expected readers of each object are
written here from the modules' visibility tables, not computed by the code under test.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from portchain.engines.solo import SoloConfig
from portchain.kernel.crypto import SigningKey
from portchain.kernel.tx import Tx, sign
from portchain.node.home import Home
from portchain.node.node import Node
from portchain.node.presets import DEMO_CAST, create_network
from served import serve, sign_in

CHAIN = "matrix-test"
ORGS = tuple(member.id for member in DEMO_CAST)
EVERYONE = frozenset(ORGS)


@dataclass
class Network:
    home: Home
    node: Node
    base_url: str
    clients: dict[str, httpx.Client] = field(default_factory=dict)

    def send(self, org: str, action: str, body: dict[str, Any]) -> dict[str, Any]:
        key = self.home.load_key(org).key
        seq = self.node.next_sequence(key.key_id)
        raw = sign(Tx(CHAIN, key.key_id, seq, action, body), key)
        return self.node.submit(raw, wait=True)

    def committed(self, org: str, action: str, body: dict[str, Any]) -> dict[str, Any]:
        outcome = self.send(org, action, body)
        assert outcome["status"] == "committed", outcome
        return outcome

    def as_org(self, org: str) -> httpx.Client:
        return self.clients[org]


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    home = Home(tmp_path_factory.mktemp("matrix") / "home")
    create_network(home, chain_id=CHAIN, cast=DEMO_CAST)
    node = Node(home, SoloConfig(block_interval=0.05))
    node.start()
    try:
        with serve(node) as first:
            net = Network(home, node, str(first.base_url).rstrip("/"))
            for org in ORGS:
                client = httpx.Client(base_url=net.base_url, timeout=30)
                sign_in(client, home.load_key(org).key)
                net.clients[org] = client
            yield net
            for client in net.clients.values():
                client.close()
    finally:
        node.stop()


@dataclass(frozen=True)
class Exposure:
    """One object of one party, the routes that serve it, and who may read it."""

    label: str
    readers: frozenset[str]
    reads: tuple[str, ...]
    """Routes answering this object alone: 200 for a reader, 404 (or 'unknown') otherwise."""
    marker: str
    """A string that appears in any answer revealing the object (its id, its hash)."""
    lists: tuple[str, ...] = ()
    """Routes listing or searching: the marker appears in them for readers only."""
    in_events: bool = True
    """Whether the marker names this object alone in events (a container number is also in
    the port's moves, seen by the terminal's side: that exposure covers them)."""


def _reveals(answer: httpx.Response, marker: str) -> bool:
    return answer.status_code == 200 and marker in answer.text


def check_exposure(net: Network, exposure: Exposure) -> None:
    for org in ORGS:
        client = net.as_org(org)
        allowed = org in exposure.readers
        for route in exposure.reads:
            answer = client.get(route)
            if allowed:
                assert answer.status_code == 200, (exposure.label, org, route, answer.text)
                if route == exposure.reads[0]:  # the object itself (others may be sub-lists)
                    assert exposure.marker in answer.text, (exposure.label, org, route)
            else:
                # Exactly the answer for an object that does not exist (same shape of id).
                absent = exposure.marker[:-6] + (
                    "000000" if exposure.marker[-6:] != "000000" else "111111"
                )
                missing = client.get(route.replace(exposure.marker, absent))
                assert answer.status_code == missing.status_code, (exposure.label, org, route)
                assert answer.status_code in (404, 200)
                assert answer.text == missing.text.replace(absent, exposure.marker), (
                    exposure.label,
                    org,
                    route,
                )
        for route in exposure.lists:
            answer = client.get(route)
            assert answer.status_code == 200, (exposure.label, org, route, answer.text)
            assert _reveals(answer, exposure.marker) == allowed, (exposure.label, org, route)


def events_seen(net: Network, org: str) -> str:
    """Every committed event the org may see, by the paged REST route, as one JSON text."""
    client = net.as_org(org)
    seen: list[dict[str, Any]] = []
    cursor = {"after_height": 0, "after_index": -1}
    while True:
        page = client.get("/api/v1/events", params={**cursor, "limit": 1000}).json()
        seen += page["events"]
        if page["next"] is None:
            return json.dumps(seen)
        cursor = {"after_height": page["next"]["height"], "after_index": page["next"]["index"]}


def sse_seen(net: Network, org: str) -> str:
    """The same through the SSE stream, read until it is caught up."""
    client = net.as_org(org)
    out: list[str] = []
    params = {"after_height": 0, "heartbeat": 0.3}
    with client.stream("GET", "/api/v1/events/stream", params=params) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith(":"):
                break
            if line.startswith("data:"):
                out.append(line)
    return "\n".join(out)


# -- the objects ----------------------------------------------------------------------


def failed_transaction(net: Network) -> Exposure:
    """A refused action leaves a failed transaction that only its signer's organisation sees."""
    outcome = net.send(
        "BRIGHTWAVE", "membership.revoke_key", {"key_id": SigningKey.generate().key_id}
    )
    assert outcome["status"] == "failed"
    return Exposure(
        "failed transaction",
        frozenset({"BRIGHTWAVE"}),
        (f"/api/v1/txs/{outcome['hash']}",),
        outcome["hash"],
        (f"/api/v1/blocks/{outcome['height']}",),
    )


def public_membership(net: Network) -> Exposure:
    """A member's new key: membership is public to every member."""
    key = SigningKey.generate()
    outcome = net.committed(
        "HOLLANDHOME",
        "membership.register_key",
        {"public_key": key.public_key.hex(), "roles": ["consignee"]},
    )
    return Exposure(
        "membership key",
        EVERYONE,
        (
            f"/api/v1/txs/{outcome['hash']}",
            f"/api/v1/membership/keys/{key.key_id}",
            f"/api/v1/state/membership/key/{key.key_id}",
        ),
        key.key_id,
        ("/api/v1/membership/organisations/HOLLANDHOME/keys", f"/api/v1/index/key/{key.key_id}"),
    )


def webhook(net: Network) -> Exposure:
    created = net.as_org("MERIDIAN").post(
        "/api/v1/webhooks", json={"url": "http://127.0.0.1:9/hook"}
    )
    assert created.status_code == 201, created.text
    hook = created.json()["id"]
    return Exposure(
        "webhook",
        frozenset({"MERIDIAN"}),
        (f"/api/v1/webhooks/{hook}", f"/api/v1/webhooks/{hook}/deliveries"),
        hook,
        ("/api/v1/webhooks",),
        in_events=False,
    )


def a_trade(net: Network) -> list[Exposure]:
    """A contract, a booking, a container and its moves, a call's manifest, a bill of lading
    endorsed to a bank."""
    contract = {
        "contract_id": "SC-MATRIX",
        "seller": "BRIGHTWAVE",
        "buyer": "HOLLANDHOME",
        "lines": [
            {
                "hs_code": "851660",
                "description": "Ovens",
                "quantity": 10,
                "unit": "PCE",
                "unit_price": 100,
            }
        ],
        "currency": "USD",
        "incoterm": "FOB",
        "port_of_loading": "CNSHK",
        "port_of_discharge": "NLRTM",
        "latest_shipment_date": "2026-12-01",
        "payment_terms": "open_account",
    }
    net.committed("BRIGHTWAVE", "trade.draft", contract)
    net.committed("HOLLANDHOME", "trade.accept", {"contract_id": "SC-MATRIX"})
    net.committed(
        "SHEKOU-PORT",
        "port.register_terminal",
        {"terminal_id": "CNSHK-SCT", "name": "SCT", "org": "SHEKOU-CT"},
    )
    net.committed(
        "MERIDIAN", "logistics.register_vessel", {"imo": "9321483", "name": "Star", "flag": "SG"}
    )
    net.committed(
        "MERIDIAN",
        "logistics.schedule_call",
        {
            "call_id": "MX-1",
            "imo": "9321483",
            "terminal": "CNSHK-SCT",
            "voyage": "1",
            "planned_arrival_ms": 1_800_000_000_000,
            "planned_departure_ms": 1_800_100_000_000,
        },
    )
    net.committed(
        "PEARLFWD",
        "logistics.request_booking",
        {
            "reference": "BK-MATRIX",
            "carrier": "MERIDIAN",
            "shipper": "BRIGHTWAVE",
            "consignee": "HOLLANDHOME",
            "contract": "SC-MATRIX",
            "vessel_call": "MX-1",
            "port_of_loading": "CNSHK",
            "port_of_discharge": "NLRTM",
            "equipment": [{"size_type": "22G1", "count": 1}],
        },
    )
    net.committed("MERIDIAN", "logistics.confirm", {"reference": "BK-MATRIX"})
    box = "CSQU3054383"
    net.committed("MERIDIAN", "logistics.register_container", {"number": box, "size_type": "22G1"})
    net.committed(
        "MERIDIAN", "logistics.assign_container", {"number": box, "reference": "BK-MATRIX"}
    )
    net.committed(
        "SHEKOU-CT",
        "port.gate_in",
        {"container": box, "terminal": "CNSHK-SCT", "empty_indicator": "LADEN"},
    )
    net.committed(
        "SHEKOU-CT",
        "port.load",
        {"container": box, "terminal": "CNSHK-SCT", "empty_indicator": "LADEN", "call_id": "MX-1"},
    )
    bill = "BLMX123456"
    net.committed(
        "MERIDIAN",
        "ebl.draft",
        {
            "reference": bill,
            "booking": "BK-MATRIX",
            "containers": [box],
            "cargo_description": "Ovens",
            "packages": 10,
            "gross_weight_kg": 400,
        },
    )
    net.committed("BRIGHTWAVE", "ebl.approve", {"reference": bill, "version": 1})
    net.committed("MERIDIAN", "ebl.issue", {"reference": bill})
    net.committed("BRIGHTWAVE", "ebl.endorse_to_order", {"reference": bill, "to": "HOLLANDBANK"})
    booking_parties = frozenset({"MERIDIAN", "BRIGHTWAVE", "PEARLFWD", "HOLLANDHOME"})
    terminal_side = frozenset({"SHEKOU-CT", "SHEKOU-PORT", "CN-CUSTOMS"})
    return [
        Exposure(
            "sales contract",
            frozenset({"BRIGHTWAVE", "HOLLANDHOME"}),
            ("/api/v1/trade/contracts/SC-MATRIX", "/api/v1/state/trade/contract/SC-MATRIX"),
            "SC-MATRIX",
            ("/api/v1/trade/contracts", "/api/v1/index/contract/SC-MATRIX"),
        ),
        Exposure(
            "booking",
            booking_parties,
            ("/api/v1/logistics/bookings/BK-MATRIX", "/api/v1/state/logistics/booking/BK-MATRIX"),
            "BK-MATRIX",
            ("/api/v1/logistics/bookings", "/api/v1/index/reference/BK-MATRIX"),
        ),
        Exposure(
            "manifest",
            frozenset({"MERIDIAN", "CN-CUSTOMS"}),
            ("/api/v1/logistics/calls/MX-1/manifest",),
            "BK-MATRIX",
            in_events=False,
        ),
        Exposure(
            "container",
            booking_parties,
            (f"/api/v1/logistics/containers/{box}",),
            box,
            in_events=False,
        ),
        Exposure(
            "bill of lading",
            frozenset({"MERIDIAN", "BRIGHTWAVE", "HOLLANDBANK"}),
            (
                f"/api/v1/ebl/{bill}",
                f"/api/v1/ebl/{bill}/dcsa",
                f"/api/v1/ebl/{bill}/proof",
                f"/api/v1/state/ebl/doc/{bill}",
            ),
            bill,
            ("/api/v1/ebl", f"/api/v1/index/reference/{bill}"),
        ),
        Exposure(
            "container at the terminal",
            booking_parties | terminal_side,
            (f"/api/v1/port/containers/{box}",),
            box,
            (f"/api/v1/index/container/{box}",),
        ),
    ]


def a_document(net: Network) -> Exposure:
    """A packing list the exporter shares with one bank."""
    from portchain.modules.documents.sealing import anchor_body

    keys = {
        org: bytes.fromhex(
            net.as_org(org).get(f"/api/v1/membership/organisations/{org}").json()["encryption_key"]
        )
        for org in ("BRIGHTWAVE", "HOLLANDBANK")
    }
    plaintext = b'{"cartons": 10}'
    doc_id = "DOCMX123456"
    net.committed(
        "BRIGHTWAVE",
        "documents.anchor",
        anchor_body(doc_id, "packing_list", "application/json", plaintext, keys),
    )
    return Exposure(
        "document",
        frozenset({"BRIGHTWAVE", "HOLLANDBANK"}),
        (
            f"/api/v1/documents/{doc_id}",
            f"/api/v1/documents/{doc_id}/content",
            f"/api/v1/state/documents/doc/{doc_id}",
        ),
        doc_id,
        (f"/api/v1/index/document/{doc_id}",),
    )


def single(make: Callable[[Network], Exposure]) -> Callable[[Network], list[Exposure]]:
    return lambda net: [make(net)]


OBJECTS: tuple[Callable[[Network], list[Exposure]], ...] = (
    single(failed_transaction),
    single(public_membership),
    single(webhook),
    a_trade,
    single(a_document),
)


_made: list[Exposure] = []


def EXPOSURES(net: Network) -> list[Exposure]:  # noqa: N802  (made once per network)
    if not _made:
        for make in OBJECTS:
            _made.extend(make(net))
    return _made


def test_every_route_answers_each_organisation_exactly_as_the_tables_say(
    network: Network,
) -> None:
    for exposure in EXPOSURES(network):
        check_exposure(network, exposure)


def test_no_record_reaches_an_outsider_through_events(network: Network) -> None:
    exposures = EXPOSURES(network)
    confidential = [e for e in exposures if e.readers != EVERYONE and e.in_events]
    for org in ORGS:
        page_text, stream_text = events_seen(network, org), sse_seen(network, org)
        for exposure in confidential:
            if org not in exposure.readers:
                assert exposure.marker not in page_text, (exposure.label, org)
                assert exposure.marker not in stream_text, (exposure.label, org)


def test_the_raw_state_and_proofs_follow_the_owning_module(network: Network) -> None:
    client = network.as_org("NL-TAX")
    assert client.get("/api/v1/state/membership/policy").status_code == 200
    for key in ("meta/height", "nothing/at/all", "trade", "logistics/booking/x"):
        assert client.get(f"/api/v1/state/{key}", params={"prove": "true"}).status_code == 404
