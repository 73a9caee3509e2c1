"""The node's HTTP API on a running solo node: submit, track, read, prove, metrics, errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from portchain.app.genesis import GenesisDoc, Validator
from portchain.app.proofs import check_bundle
from portchain.engines.solo import SoloConfig
from portchain.kernel.crypto import SigningKey
from portchain.kernel.tx import MAX_TX_BYTES, Tx, sign
from portchain.node.home import Home
from portchain.node.node import Node
from portchain.node.presets import DEMO_CAST, create_network
from portchain.sdk import Client, ProofError
from served import serve, sign_in


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[httpx.Client, Home, GenesisDoc]]:
    home = Home(tmp_path / "home")
    genesis = create_network(home, chain_id="api-test", cast=DEMO_CAST)
    node = Node(home, SoloConfig(block_interval=0.05, mempool_size=3))
    node.start()
    with serve(node) as client:
        sign_in(client, home.load_key("BRIGHTWAVE").key)
        client.node = node  # type: ignore[attr-defined]
        yield client, home, genesis
    node.stop()


def register(home: Home, seq: int, roles: list[str] | None = None) -> bytes:
    admin = home.load_key("BRIGHTWAVE").key
    body = {"public_key": SigningKey.generate().public_key.hex(), "roles": roles or ["shipper"]}
    return sign(Tx("api-test", admin.key_id, seq, "membership.register_key", body), admin)


def test_submit_wait_and_track_a_transaction(api: tuple[httpx.Client, Home, GenesisDoc]) -> None:
    client, home, _ = api
    raw = register(home, 0)
    done = client.post("/api/v1/txs?wait=true", content=raw).json()
    assert done["status"] == "committed" and done["height"] == 1
    assert done["events"][0]["type"] == "membership.key_registered"
    assert client.get(f"/api/v1/txs/{done['hash']}").json()["status"] == "committed"
    # Resubmitting the same signed bytes is answered with its status, not run again.
    again = client.post("/api/v1/txs?wait=true", content=raw).json()
    assert again == done
    assert client.get("/api/v1/status").json()["height"] == 1
    assert client.get("/api/v1/txs/" + "00" * 32).json()["status"] == "unknown"
    assert (
        client.get("/api/v1/accounts/" + home.load_key("BRIGHTWAVE").key_id + "/sequence").json()[
            "next_sequence"
        ]
        == 1
    )


def test_a_failed_transaction_reports_code_and_message(
    api: tuple[httpx.Client, Home, GenesisDoc],
) -> None:
    client, home, _ = api
    failed = client.post("/api/v1/txs?wait=true", content=register(home, 0, ["bank"])).json()
    assert failed["status"] == "failed"
    assert failed["error"] == {
        "codespace": "membership",
        "code": 5,
        "message": "body.roles: BRIGHTWAVE does not hold role bank",
    }


def test_refusals_are_problem_json_with_the_stable_code(
    api: tuple[httpx.Client, Home, GenesisDoc],
) -> None:
    client, home, _ = api
    bad = client.post("/api/v1/txs", content=b"{not json")
    assert bad.status_code == 400
    assert bad.headers["content-type"] == "application/problem+json"
    assert bad.json()["codespace"] == "tx" and bad.json()["code"] == 1
    skipped = client.post("/api/v1/txs", content=register(home, 7))
    assert skipped.status_code == 422 and skipped.json()["field"] == "tx.seq"
    huge = client.post("/api/v1/txs", content=b"x" * (MAX_TX_BYTES + 10))
    assert huge.status_code == 413 and huge.json()["error"] == "too_large"
    assert client.get("/api/v1/blocks/99").status_code == 404


def test_blocks_state_and_a_proof_that_checks_offline(
    api: tuple[httpx.Client, Home, GenesisDoc],
) -> None:
    client, home, genesis = api
    done = client.post("/api/v1/txs?wait=true", content=register(home, 0)).json()
    blocks = client.get("/api/v1/blocks").json()["blocks"]
    assert blocks[0]["height"] == 1 and blocks[0]["num_txs"] == 1
    block = client.get("/api/v1/blocks/1").json()
    assert block["txs"][0]["hash"] == done["hash"] and block["commit"]["signatures"]
    key_id = done["events"][0]["attributes"]["key"]
    state = client.get(f"/api/v1/state/membership/key/{key_id}?prove=true").json()
    assert state["value"]["org"] == "BRIGHTWAVE"
    assert check_bundle(state["proof_bundle"], genesis)["present"] is True
    absent = client.get("/api/v1/state/membership/key/nobody?prove=true").json()
    assert absent["value"] is None
    assert check_bundle(absent["proof_bundle"], genesis)["present"] is False
    orgs = client.get("/api/v1/membership/organisations").json()["organisations"]
    assert len(orgs) == 15
    keys = client.get("/api/v1/membership/organisations/BRIGHTWAVE/keys").json()["keys"]
    assert key_id in {k["key_id"] for k in keys}
    events = client.get("/api/v1/events?after_height=0").json()
    assert events["events"][0]["type"] == "membership.key_registered"
    indexed = client.get(f"/api/v1/index/key/{key_id}").json()["events"]
    assert [e["tx"] for e in indexed] == [done["hash"]]
    assert client.get("/api/v1/index/org/NOBODY").json()["events"] == []


def test_a_full_mempool_refuses_and_drops_nothing(
    api: tuple[httpx.Client, Home, GenesisDoc],
) -> None:
    client, home, _ = api
    node: Node = client.node  # type: ignore[attr-defined]
    node.engine.stop()  # hold blocks back so the mempool (3 places) fills up
    accepted = [client.post("/api/v1/txs", content=register(home, i)) for i in range(3)]
    assert all(r.json()["status"] == "pending" for r in accepted)
    full = client.post("/api/v1/txs", content=register(home, 3))
    assert full.status_code == 503 and full.json()["error"] == "mempool_full"
    node.engine.start()
    for r in accepted:
        status = client.get(f"/api/v1/txs/{r.json()['hash']}")
        for _ in range(100):
            if status.json()["status"] != "pending":
                break
            status = client.get(f"/api/v1/txs/{r.json()['hash']}")
        assert status.json()["status"] == "committed"


def test_metrics_and_health(api: tuple[httpx.Client, Home, GenesisDoc]) -> None:
    client, home, _ = api
    client.post("/api/v1/txs?wait=true", content=register(home, 0))
    text = client.get("/metrics").text
    assert "portchain_height 1.0" in text
    assert "portchain_txs_committed_total 1.0" in text
    assert "portchain_commit_latency_seconds_count 1.0" in text
    assert client.get("/healthz").json() == {"status": "ok"}
    assert json.loads(client.get("/openapi.json").text)["paths"]["/api/v1/txs"]


def test_a_batch_is_admitted_in_order_with_a_result_per_line(
    api: tuple[httpx.Client, Home, GenesisDoc],
) -> None:
    client, home, _ = api
    lines = [register(home, 0), register(home, 5), b"{broken", register(home, 1)]
    answer = client.post("/api/v1/txs/batch", content=b"\n".join(lines)).json()["results"]
    assert [r["status"] for r in answer] == ["pending", "refused", "refused", "pending"]
    assert answer[1]["error"]["field"] == "tx.seq" and answer[2]["error"]["code"] == 1
    first = client.get(f"/api/v1/txs/{answer[0]['hash']}?").json()
    for _ in range(100):
        if first["status"] != "pending":
            break
        first = client.get(f"/api/v1/txs/{answer[0]['hash']}").json()
    assert first["status"] == "committed"


def test_the_sdk_reads_a_value_verified_against_genesis_or_a_trusted_app_hash(
    api: tuple[httpx.Client, Home, GenesisDoc],
) -> None:
    client, home, genesis = api
    done = client.post("/api/v1/txs?wait=true", content=register(home, 0)).json()
    key_id = next(e for e in done["events"] if e["type"] == "membership.key_registered")[
        "attributes"
    ]["key"]
    with Client(str(client.base_url), key=home.load_key("BRIGHTWAVE").key) as sdk:
        record = sdk.verified_state(f"membership/key/{key_id}", genesis=genesis)
        assert record["org"] == "BRIGHTWAVE"
        assert sdk.verified_state("membership/key/" + "0" * 40, genesis=genesis) is None
        app_hash = bytes.fromhex(sdk.status()["app_hash"])
        trusted = sdk.verified_state(f"membership/key/{key_id}", trusted_app_hash=app_hash)
        assert trusted == record
        with pytest.raises(ProofError):
            sdk.verified_state(f"membership/key/{key_id}", trusted_app_hash=b"\x01" * 32)
        outsider = Validator(name="x", public_key=SigningKey.generate().public_key.hex(), power=10)
        stranger = genesis.model_copy(update={"validators": [outsider]})
        with pytest.raises(ProofError):
            sdk.verified_state(f"membership/key/{key_id}", genesis=stranger)
