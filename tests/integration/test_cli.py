"""The CLI: every command has help and is documented; init, tx, query, prove, check-proof, demo."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from portchain.cli.main import app
from portchain.kernel.crypto import SigningKey

runner = CliRunner()
README = Path(__file__).resolve().parents[2] / "README.md"


def all_commands() -> list[tuple[str, Any]]:
    root = typer.main.get_command(app)
    out: list[tuple[str, Any]] = []

    def walk(prefix: str, command: Any) -> None:
        out.append((prefix, command))
        if hasattr(command, "commands"):
            for name, sub in command.commands.items():
                walk(f"{prefix} {name}".strip(), sub)

    walk("", root)
    return [(name, cmd) for name, cmd in out if name]


@pytest.mark.parametrize(
    ("name", "command"), all_commands(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_command_has_help_and_is_in_the_readme(name: str, command: Any) -> None:
    assert (command.help or "").strip(), f"portchain {name} has no help text"
    result = runner.invoke(app, [*name.split(), "--help"])
    assert result.exit_code == 0 and "Usage" in result.output
    assert f"portchain {name}" in README.read_text(), f"portchain {name} is not in the README"


def run(*args: str) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(
        result.stdout.strip().splitlines()[-1]
        if args[0] in ("demo", "verify", "check-proof")
        else result.stdout
    )


def test_init_tx_query_prove_and_check_proof(tmp_path: Path) -> None:
    home = str(tmp_path / "net")
    made = run("init", "--home", home, "--chain-id", "cli-test")
    assert "SHEKOU-PORT" in made["organisations"] and len(made["organisations"]) == 15
    assert "seed" not in json.dumps(made)
    new_key = run("keys", "new", "--home", home, "BRIGHTWAVE/clerk")
    outcome = run(
        "tx",
        "--home",
        home,
        "--as",
        "BRIGHTWAVE",
        "membership.register_key",
        json.dumps({"public_key": new_key["public_key"], "roles": ["shipper"]}),
    )
    assert outcome["status"] == "committed" and outcome["height"] == 1
    failed = runner.invoke(
        app,
        [
            "tx",
            "--home",
            home,
            "--as",
            "BRIGHTWAVE/clerk",
            "membership.register_key",
            json.dumps({"public_key": "aa" * 32, "roles": ["shipper"]}),
        ],
    )
    assert failed.exit_code == 1
    assert json.loads(failed.stdout)["error"]["code"] == 8
    org = run("query", "org", "--home", home, "BRIGHTWAVE")
    assert {k["key_id"] for k in org["keys"]} >= {new_key["key_id"]}
    key = f"membership/key/{new_key['key_id']}"
    bundle_path = tmp_path / "proof.json"
    run("prove", "--home", home, "--key", key, "--out", str(bundle_path))
    checked = run("check-proof", str(bundle_path), "--genesis", f"{home}/genesis.json")
    assert checked["valid"] and checked["present"] and '"shipper"' in checked["value"]
    # A trusted validator set other than the genesis one: the genesis signer is not in it.
    trusted = tmp_path / "validators.json"
    outsider = {"name": "elsewhere", "public_key": SigningKey.generate().public_key.hex()}
    trusted.write_text(json.dumps([{**outsider, "power": 10}]))
    refused = runner.invoke(
        app,
        [
            "check-proof",
            str(bundle_path),
            "--genesis",
            f"{home}/genesis.json",
            "--validators",
            str(trusted),
        ],
    )
    assert refused.exit_code == 1 and "voting power" in json.loads(refused.stdout)["problem"]
    genesis_set = json.loads((tmp_path / "net" / "genesis.json").read_text())["validators"]
    trusted.write_text(json.dumps({"validators": genesis_set}))
    accepted = run(
        "check-proof",
        str(bundle_path),
        "--genesis",
        f"{home}/genesis.json",
        "--validators",
        str(trusted),
    )
    assert accepted["valid"]
    bundle = json.loads(bundle_path.read_text())
    bundle["value"] = bundle["value"].replace("73686970706572", "62616e6b000000")  # shipper -> bank
    bundle_path.write_text(json.dumps(bundle))
    tampered = runner.invoke(
        app, ["check-proof", str(bundle_path), "--genesis", f"{home}/genesis.json"]
    )
    assert tampered.exit_code == 1 and json.loads(tampered.stdout)["valid"] is False


def test_demo_runs_on_an_empty_home_and_again_and_verifies(tmp_path: Path) -> None:
    home = str(tmp_path / "demo")
    first = run("demo", "--home", home)
    # 9 steps of governance, 2 of the sales contract, 14 of the container's trip to departure,
    # 3 documents anchored, 5 to issue and endorse the bill of lading twice, 5 at arrival
    # (arrival, discharge, a late grant to customs, the surrender and its acceptance).
    assert first["ok"] and first["steps"] == 38
    second = run("demo", "--home", home)
    # Terminals and the vessel exist already: 3 steps are skipped, their transactions fail.
    assert second["ok"] and second["steps"] == 35 and second["height"] > first["height"]
    summary = run("verify", "--home", home)
    assert summary["ok"] and summary["height"] == second["height"]
    assert (summary["transactions"], summary["failed_transactions"]) == (76, 3)
    terminal = run("query", "state", "--home", home, "port/terminal/NLRTM-DDT")
    assert terminal["value"]["org"] == "RTM-DELTA"
    # Each organisation reads what it may see, as through the API.
    mine = run("logistics", "bookings", "--home", home, "--as", "BRIGHTWAVE")["bookings"]
    assert len(mine) == 2 and {b["status"] for b in mine} == {"CONFIRMED"}
    assert run("logistics", "bookings", "--home", home, "--as", "HOLLANDBANK")["bookings"] == []
    assert len(run("trade", "contracts", "--home", home, "--as", "HOLLANDHOME")["contracts"]) == 2
    assert run("trade", "contracts", "--home", home, "--as", "MERIDIAN")["contracts"] == []
    at_rotterdam = run("port", "containers", "--home", home, "--as", "RTM-DELTA", "NLRTM-DDT")
    assert [c["arrived_by"] for c in at_rotterdam] == ["DISC", "DISC"]
    orgs = run("query", "orgs", "--home", home)
    assert {"DELTA-MARINE", "DELTA-MARINE-2"} <= {o["id"] for o in orgs if o["status"] == "active"}
    # The bills of lading: the bank held them once and still sees them; an outsider does not.
    bills = run("ebl", "list", "--home", home, "--as", "HOLLANDBANK")
    assert [(b["status"], b["holder"]) for b in bills] == [
        ("SURRENDERED_FOR_DELIVERY", "MERIDIAN")
    ] * 2
    reference = bills[-1]["reference"]
    assert run("ebl", "list", "--home", home, "--as", "HOLLANDBANK", "--holding") == []
    hidden = runner.invoke(app, ["ebl", "show", "--home", home, "--as", "SZTRADEBANK", reference])
    assert hidden.exit_code == 1 and "not found" in hidden.output
    exported = run("ebl", "dcsa", "--home", home, "--as", "HOLLANDHOME", reference)
    assert [link["actionCode"] for link in exported["endorsementChain"]] == [
        "ISSUE",
        "ENDORSE_TO_ORDER",
        "TRANSFER",
        "ENDORSE_TO_ORDER",
        "TRANSFER",
        "SURRENDER_FOR_DELIVERY",
        "SURRENDERED",
    ]
    # The importer hands a proof of the bill's status to an outsider, who checks it offline.
    bundle = tmp_path / "bill-proof.json"
    run("ebl", "proof", "--home", home, "--as", "HOLLANDHOME", reference, "--out", str(bundle))
    checked = run("check-proof", str(bundle), "--genesis", f"{home}/genesis.json")
    assert checked["valid"] and checked["title"]["status"] == "SURRENDERED_FOR_DELIVERY"
    assert checked["title"]["holder"] == "MERIDIAN" and checked["title"]["chain_length"] == 7
    forged = json.loads(bundle.read_text())
    forged["value"] = forged["value"].replace(b"MERIDIAN".hex(), b"SZTRADEB".hex())
    bundle.write_text(json.dumps(forged))
    refused = runner.invoke(app, ["check-proof", str(bundle), "--genesis", f"{home}/genesis.json"])
    assert refused.exit_code == 1 and json.loads(refused.stdout)["valid"] is False


def test_init_refuses_a_home_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "something").write_text("x")
    result = runner.invoke(app, ["init", "--home", str(tmp_path)])
    assert result.exit_code == 1 and "not empty" in result.output


def test_users_add_registers_a_key_with_the_admin_flag_as_asked(tmp_path: Path) -> None:
    home = str(tmp_path / "net")
    run("init", "--home", home, "--chain-id", "cli-users")
    for username, flags in (("ann", ["--admin"]), ("bob", [])):
        result = runner.invoke(
            app,
            [
                "users",
                "add",
                "--home",
                home,
                "--as",
                "BRIGHTWAVE",
                username,
                "--password-stdin",
                *flags,
            ],
            input="correct horse battery staple\n",
        )
        assert result.exit_code == 0, result.output
        added = json.loads(result.stdout)
        assert added["registered"]["status"] == "committed"
        key_id = added["user"]["key_id"]
        key = run("query", "state", "--home", home, f"membership/key/{key_id}")
        assert key["value"]["admin"] is (username == "ann"), key
    listed = run("users", "list", "--home", home)
    assert sorted(user["username"] for user in listed["users"]) == ["ann", "bob"]


def test_documents_put_get_grant_revoke_and_anchored(tmp_path: Path) -> None:
    home = str(tmp_path / "net")
    run("init", "--home", home, "--chain-id", "cli-documents")
    clerk = run("keys", "new", "--home", home, "BRIGHTWAVE/clerk")
    body = json.dumps({"public_key": clerk["public_key"], "roles": ["shipper"]})
    run("tx", "--home", home, "--as", "BRIGHTWAVE", "membership.register_key", body)
    invoice = tmp_path / "invoice.json"
    invoice.write_text('{"invoice": "BW-2026-0042", "total": "USD 51,100.00"}')
    put = run(
        "documents",
        "put",
        "--home",
        home,
        "--as",
        "BRIGHTWAVE/clerk",
        str(invoice),
        "--type",
        "commercial_invoice",
        "--to",
        "HOLLANDBANK",
        "--id",
        "INV-42",
    )
    assert put["granted"] == ["BRIGHTWAVE", "HOLLANDBANK"]
    opened = tmp_path / "opened.json"
    run("documents", "get", "--home", home, "--as", "HOLLANDBANK", "INV-42", "--out", str(opened))
    assert opened.read_bytes() == invoice.read_bytes()

    def get_as(org: str) -> Any:
        out = tmp_path / f"{org}.json"
        return runner.invoke(
            app, ["documents", "get", "--home", home, "--as", org, "INV-42", "--out", str(out)]
        )

    refused = get_as("NL-CUSTOMS")
    assert refused.exit_code == 1 and "not granted to NL-CUSTOMS" in refused.output
    run("documents", "grant", "--home", home, "--as", "BRIGHTWAVE", "INV-42", "NL-CUSTOMS")
    assert get_as("NL-CUSTOMS").exit_code == 0
    assert (tmp_path / "NL-CUSTOMS.json").read_bytes() == invoice.read_bytes()
    run("documents", "revoke", "--home", home, "--as", "BRIGHTWAVE", "INV-42", "NL-CUSTOMS")
    assert get_as("NL-CUSTOMS").exit_code == 1
    known = run("documents", "anchored", "--home", home, "--as", "SZTRADEBANK", str(invoice))
    assert (known["document"], known["issuer"], known["superseded_by"]) == (
        "INV-42",
        "BRIGHTWAVE",
        None,
    )
    same_bytes = run(
        "documents",
        "anchored",
        "--home",
        home,
        "--as",
        "SZTRADEBANK",
        str(opened.parent / "NL-CUSTOMS.json"),
    )
    assert same_bytes["document"] == "INV-42"  # the same bytes: the same anchor
    other = tmp_path / "other.txt"
    other.write_text("not anchored")
    assert (
        run("documents", "anchored", "--home", home, "--as", "SZTRADEBANK", str(other))["anchored"]
        is False
    )
    big = tmp_path / "big.pdf"
    big.write_bytes(b"%PDF" + b"x" * 40_000)
    too_big = runner.invoke(
        app,
        [
            "documents",
            "put",
            "--home",
            home,
            "--as",
            "BRIGHTWAVE",
            str(big),
            "--type",
            "other",
            "--to",
            "HOLLANDBANK",
        ],
    )
    assert too_big.exit_code == 1 and "32 KiB" in too_big.output
