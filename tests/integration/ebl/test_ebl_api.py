"""The bill of lading through a node's API after the demo: the holder's list, the DCSA
export, and a proof bundle that anyone checks against the genesis alone."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from typing import Any

import httpx
import pytest

from portchain.app.genesis import load_genesis
from portchain.app.proofs import ProofError, check_bundle
from portchain.demo.scenario import run_scenario
from portchain.engines.solo import SoloConfig
from portchain.node.gateway import LocalGateway
from portchain.node.home import Home
from portchain.node.node import Node
from portchain.node.presets import DEMO_CAST, create_network
from portchain.sdk.client import Client
from served import serve, sign_in


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Home, str, str]]:
    home = Home(tmp_path_factory.mktemp("ebl-api") / "home")
    create_network(home, chain_id="ebl-api-test", cast=DEMO_CAST)
    node = Node(home, SoloConfig(block_interval=0.02))
    node.start()
    try:
        run = run_scenario(home, LocalGateway(node), lambda title, outcome: None)
        with serve(node) as client:
            yield home, str(client.base_url).rstrip("/"), run.facts["ebl"]
    finally:
        node.stop()


def as_org(home: Home, url: str, org: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=30)
    sign_in(client, home.load_key(org).key)
    return client


def test_the_holder_lists_it_and_a_past_holder_still_reads_it(demo: tuple[Home, str, str]) -> None:
    home, url, reference = demo
    with (
        closing(as_org(home, url, "MERIDIAN")) as carrier,
        closing(as_org(home, url, "HOLLANDBANK")) as bank,
    ):
        held = carrier.get("/api/v1/ebl", params={"holding": "true"}).json()["documents"]
        assert [row["reference"] for row in held] == [reference]
        assert bank.get("/api/v1/ebl", params={"holding": "true"}).json()["documents"] == []
        record = bank.get(f"/api/v1/ebl/{reference}").json()
        assert (record["status"], record["holder"]) == ("SURRENDERED_FOR_DELIVERY", "MERIDIAN")
        dcsa = bank.get(f"/api/v1/ebl/{reference}/dcsa").json()
        assert dcsa["transportDocumentReference"] == reference
        assert dcsa["documentParties"]["endorsee"]["partyName"] == "HOLLANDHOME"
    with closing(as_org(home, url, "SZTRADEBANK")) as outsider:
        for route in ("", "/dcsa", "/proof"):
            assert outsider.get(f"/api/v1/ebl/{reference}{route}").status_code == 404


def test_the_proof_bundle_checks_against_the_genesis_and_fails_when_altered(
    demo: tuple[Home, str, str],
) -> None:
    home, url, reference = demo
    genesis = load_genesis(home.path / "genesis.json")
    with closing(as_org(home, url, "HOLLANDHOME")) as importer:
        bundle: dict[str, Any] = importer.get(f"/api/v1/ebl/{reference}/proof").json()
    proven = check_bundle(bundle, genesis)
    assert proven["valid"] and proven["key"] == f"ebl/doc/{reference}"
    assert '"status":"SURRENDERED_FOR_DELIVERY"' in proven["value"]
    forged = dict(bundle, value=bundle["value"].replace(b"HOLLANDHOME".hex(), b"SZTRADEBANK".hex()))
    assert forged["value"] != bundle["value"]
    with pytest.raises(ProofError):
        check_bundle(forged, genesis)
    # The SDK checks it the same way for a party reading through the API.
    with Client(url, key=home.load_key("HOLLANDBANK").key) as client:
        record = client.verified_state(f"ebl/doc/{reference}", genesis=genesis)
    assert record is not None and record["holder"] == "MERIDIAN"


def test_ebl_routes_refuse_a_malformed_reference(demo: tuple[Home, str, str]) -> None:
    home, url, _ = demo
    with closing(as_org(home, url, "MERIDIAN")) as carrier:
        refused = carrier.get("/api/v1/ebl/lower-case")
        assert refused.status_code == 400 and "reference" in refused.text
        assert carrier.get("/api/v1/ebl/NOSUCHBILL").status_code == 404
