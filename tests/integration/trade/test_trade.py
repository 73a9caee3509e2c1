"""Sales contracts on the real app: formats, the lifecycle, amendments, exact totals, who may
do what, bad input, and who sees a contract."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from portchain.engines.solo import SoloConfig
from portchain.kernel.errors import PortchainError
from portchain.kernel.tx import Tx, sign
from portchain.node.home import Home
from portchain.node.node import Node
from portchain.node.presets import DEMO_CAST, create_network
from served import client_as, serve
from support import TRADE_CAST, Chain, make_genesis, seeded_key


def ok(result: Any) -> Any:
    assert result.ok, result.log
    return result


def draft(contract_id: str = "SC-2026-001", **changes: Any) -> dict[str, Any]:
    return {
        "contract_id": contract_id,
        "seller": "BRIGHTWAVE",
        "buyer": "HOLLANDHOME",
        "lines": [
            {
                "hs_code": "851660",
                "description": "Electric ovens",
                "quantity": 400,
                "unit": "PCE",
                "unit_price": 8_950,
            },
            {
                "hs_code": "85163100",
                "description": "Hair dryers",
                "quantity": 1_200,
                "unit": "PCE",
                "unit_price": 1_275,
            },
        ],
        "currency": "USD",
        "incoterm": "FOB",
        "port_of_loading": "CNSHK",
        "port_of_discharge": "NLRTM",
        "latest_shipment_date": "2026-12-15",
        "payment_terms": "letter_of_credit",
        **changes,
    }


def module_state(chain: Chain) -> list[tuple[str, bytes]]:
    return chain.storage.reader().scan("trade/", limit=100_000)


def refused(chain: Chain, who: str, action: str, body: dict[str, Any], code: int) -> None:
    """Refused by the handler with trade ``code``; the module's state is unchanged."""
    before = module_state(chain)
    result = chain.run(who, action, body)
    assert (result.codespace, result.code) == ("trade", code), result.log
    assert result.log.startswith("body.") and not result.events
    assert module_state(chain) == before


def check_refused(
    chain: Chain, who: str, action: str, body: dict[str, Any], code: tuple[str, int], field: str
) -> str:
    before = chain.app_hash
    raw = chain.sign(who, action, body, seq=chain.seqs.get(seeded_key(who).key_id, 0))
    with pytest.raises(PortchainError) as refusal:
        chain.app.check_tx(raw)
    assert (refusal.value.codespace, refusal.value.code) == code, refusal.value
    assert refusal.value.field == field, (refusal.value.field, refusal.value.message)
    assert chain.app_hash == before
    return refusal.value.message


@pytest.fixture
def chain(tmp_path: Path) -> Iterator[Chain]:
    built = Chain(tmp_path, genesis=make_genesis(TRADE_CAST))
    yield built
    built.close()


def test_a_contract_is_agreed_amended_by_both_and_performed(chain: Chain) -> None:
    ok(chain.run("BRIGHTWAVE", "trade.draft", draft()))
    contract = chain.state("trade/contract/SC-2026-001")
    assert contract["status"] == "DRAFTED"
    assert contract["total"] == 400 * 8_950 + 1_200 * 1_275 == 5_110_000  # USD 51,100.00
    refused(chain, "BRIGHTWAVE", "trade.accept", {"contract_id": "SC-2026-001"}, 3)
    ok(chain.run("HOLLANDHOME", "trade.accept", {"contract_id": "SC-2026-001"}))
    new_terms = draft()
    new_terms["lines"][0]["quantity"] = 500
    amend = {k: v for k, v in new_terms.items() if k not in ("seller", "buyer")}
    ok(chain.run("HOLLANDHOME", "trade.propose_amendment", amend))
    refused(chain, "HOLLANDHOME", "trade.agree_amendment", {"contract_id": "SC-2026-001"}, 3)
    assert chain.state("trade/contract/SC-2026-001")["total"] == 5_110_000  # not yet
    ok(chain.run("BRIGHTWAVE", "trade.agree_amendment", {"contract_id": "SC-2026-001"}))
    contract = chain.state("trade/contract/SC-2026-001")
    assert contract["total"] == 500 * 8_950 + 1_200 * 1_275
    assert [a["outcome"] for a in contract["amendments"]] == ["agreed"]
    ok(chain.run("BRIGHTWAVE", "trade.propose_amendment", amend))
    ok(chain.run("HOLLANDHOME", "trade.refuse_amendment", {"contract_id": "SC-2026-001"}))
    ok(chain.run("BRIGHTWAVE", "trade.start_performance", {"contract_id": "SC-2026-001"}))
    refused(chain, "HOLLANDHOME", "trade.cancel", {"contract_id": "SC-2026-001"}, 4)
    assert chain.state("trade/contract/SC-2026-001")["status"] == "IN_PERFORMANCE"


def test_cancel_reject_and_totals_in_a_currency_without_minor_units(chain: Chain) -> None:
    ok(chain.run("HOLLANDHOME", "trade.draft", draft("SC-1", currency="JPY")))
    assert chain.state("trade/contract/SC-1")["total"] == 5_110_000  # yen: no minor units
    ok(chain.run("BRIGHTWAVE", "trade.reject", {"contract_id": "SC-1", "reason": "price"}))
    refused(chain, "HOLLANDHOME", "trade.accept", {"contract_id": "SC-1"}, 4)
    ok(chain.run("BRIGHTWAVE", "trade.draft", draft("SC-2")))
    ok(chain.run("HOLLANDHOME", "trade.accept", {"contract_id": "SC-2"}))
    ok(chain.run("HOLLANDHOME", "trade.cancel", {"contract_id": "SC-2"}))
    assert chain.state("trade/contract/SC-2")["status"] == "CANCELLED"
    refused(chain, "BRIGHTWAVE", "trade.draft", draft("SC-2"), 1)


def test_who_may_do_what(chain: Chain) -> None:
    ok(chain.run("BRIGHTWAVE", "trade.draft", draft()))
    for who in ("MERIDIAN", "HOLLANDBANK", "SHEKOU-CT"):  # a carrier, a bank, a terminal
        check_refused(
            chain, who, "trade.accept", {"contract_id": "SC-2026-001"}, ("tx", 8), "tx.signer"
        )
    refused(chain, "OTHERSHIP", "trade.accept", {"contract_id": "SC-2026-001"}, 2)
    refused(chain, "OTHERSHIP", "trade.cancel", {"contract_id": "SC-2026-001"}, 2)
    refused(chain, "OTHERSHIP", "trade.draft", draft("SC-X"), 3)
    refused(chain, "BRIGHTWAVE", "trade.draft", draft("SC-Y", buyer="MERIDIAN"), 5)
    ok(chain.run("HOLLANDHOME", "trade.accept", {"contract_id": "SC-2026-001"}))
    refused(chain, "HOLLANDHOME", "trade.start_performance", {"contract_id": "SC-2026-001"}, 3)
    refused(chain, "BRIGHTWAVE", "trade.withdraw_amendment", {"contract_id": "SC-2026-001"}, 6)


def test_bad_input_names_the_field_and_the_rule(chain: Chain) -> None:
    line = draft()["lines"][0]
    cases = [
        (draft(lines=[{**line, "hs_code": "85166"}]), "body.lines.0.hs_code", "pattern"),
        (draft(lines=[{**line, "hs_code": "851660123"}]), "body.lines.0.hs_code", "pattern"),
        (draft(lines=[{**line, "quantity": 0}]), "body.lines.0.quantity", "greater"),
        (draft(lines=[{**line, "unit": "BOX"}]), "body.lines.0.unit", "PCE"),
        (draft(lines=[]), "body.lines", "at least 1"),
        (draft(currency="XYZ"), "body.currency", "ISO 4217"),
        (draft(incoterm="FOB2010"), "body.incoterm", "FOB"),
        (draft(port_of_loading="CN-SHK"), "body.port_of_loading", "UN/LOCODE"),
        (draft(port_of_discharge="CNSHK"), "body.port_of_discharge", "differ"),
        (draft(latest_shipment_date="15/12/2026"), "body.latest_shipment_date", "YYYY-MM-DD"),
        (draft(payment_terms="barter"), "body.payment_terms", "open_account"),
        (draft(buyer="BRIGHTWAVE"), "body.buyer", "differ"),
        (draft(contract_id=""), "body.contract_id", "pattern"),
        (draft(extra=1), "body.extra", "Extra"),
    ]
    for body, field, rule in cases:
        message = check_refused(chain, "BRIGHTWAVE", "trade.draft", body, ("tx", 9), field)
        assert rule in message, (field, message)
    check_refused(chain, "HOLLANDHOME", "trade.accept", {}, ("tx", 9), "body.contract_id")
    with pytest.raises(PortchainError) as floats:  # money is integers: refused at encoding
        chain.sign("BRIGHTWAVE", "trade.draft", draft(lines=[{**line, "unit_price": 1.5}]))
    assert "integer" in str(floats.value)
    refused(chain, "HOLLANDHOME", "trade.accept", {"contract_id": "NOPE"}, 2)


def test_only_the_parties_see_a_contract(tmp_path: Path) -> None:
    home = Home(tmp_path / "home")
    create_network(home, chain_id="trade-test", cast=DEMO_CAST)
    node = Node(home, SoloConfig(block_interval=0.05))
    node.start()
    try:
        for who, action, body in (
            ("BRIGHTWAVE", "trade.draft", draft()),
            ("HOLLANDHOME", "trade.accept", {"contract_id": "SC-2026-001"}),
        ):
            key = home.load_key(who).key
            raw = sign(
                Tx("trade-test", key.key_id, node.next_sequence(key.key_id), action, body), key
            )
            assert node.submit(raw, wait=True)["status"] == "committed"
        with serve(node) as base:
            for org in ("BRIGHTWAVE", "HOLLANDHOME", "MERIDIAN", "HOLLANDBANK", "NL-CUSTOMS"):
                party = org in ("BRIGHTWAVE", "HOLLANDHOME")
                with client_as(base, home.load_key(org).key) as client:
                    one = client.get("/api/v1/trade/contracts/SC-2026-001")
                    assert one.status_code == (200 if party else 404), org
                    listed = client.get("/api/v1/trade/contracts").json()["contracts"]
                    assert ("SC-2026-001" in str(listed)) == party, org
                    events = client.get("/api/v1/events", params={"limit": 1000}).text
                    assert ("SC-2026-001" in events) == party, org
                    state = client.get("/api/v1/state/trade/contract/SC-2026-001")
                    assert state.status_code == (200 if party else 404), org
    finally:
        node.stop()
