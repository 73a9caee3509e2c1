"""Membership rules and its who-may-do-what table, on the real app over SQLite."""

from __future__ import annotations

import pytest

from portchain.kernel.crypto import SigningKey
from portchain.kernel.errors import PortchainError
from support import STEWARDS, Chain, apply_body, event, seeded_key

YES_QUORUM = STEWARDS[:4]  # 4 of 5 stewards: more than two thirds


def apply_and_admit(chain: Chain, org_id: str, roles: list[str]) -> SigningKey:
    key = seeded_key(org_id)
    applied = chain.run(key, "membership.apply", apply_body(org_id, key, roles))
    assert applied.ok, applied.log
    proposal = event(applied, "membership.org_applied")["proposal"]
    for steward in YES_QUORUM:
        assert chain.run(steward, "membership.vote", {"proposal_id": proposal, "vote": "yes"}).ok
    return key


def test_an_outsider_applies_and_is_voted_in_by_more_than_two_thirds(chain: Chain) -> None:
    key = seeded_key("DELTA-MARINE")
    applied = chain.run(key, "membership.apply", apply_body("DELTA-MARINE", key, ["insurer"]))
    assert applied.ok, applied.log
    assert chain.state("membership/org/DELTA-MARINE")["status"] == "applicant"
    proposal = event(applied, "membership.org_applied")["proposal"]
    for steward in STEWARDS[:3]:  # 3 of 5 is not more than two thirds
        result = chain.run(steward, "membership.vote", {"proposal_id": proposal, "vote": "yes"})
        assert result.ok
    assert chain.state("membership/org/DELTA-MARINE")["status"] == "applicant"
    fourth = chain.run(STEWARDS[3], "membership.vote", {"proposal_id": proposal, "vote": "yes"})
    assert [e.type for e in fourth.events][-2:] == [
        "membership.proposal_passed",
        "membership.org_admitted",
    ]
    org = chain.state("membership/org/DELTA-MARINE")
    assert org["status"] == "active" and org["roles"] == ["insurer"]
    # The admitted org's admin key now works.
    clerk = SigningKey.generate()
    registered = chain.run(
        key, "membership.register_key", {"public_key": clerk.public_key.hex(), "roles": ["insurer"]}
    )
    assert registered.ok, registered.log


def test_an_applicant_cannot_act_before_admission(chain: Chain) -> None:
    key = seeded_key("EARLY")
    assert chain.run(key, "membership.apply", apply_body("EARLY", key, ["forwarder"])).ok
    result = chain.run(
        key,
        "membership.register_key",
        {"public_key": SigningKey.generate().public_key.hex(), "roles": ["forwarder"]},
    )
    assert (result.codespace, result.code) == ("tx", 5)
    assert "not active" in result.log


def test_an_application_fails_once_two_stewards_vote_no_and_can_be_made_again(chain: Chain) -> None:
    key = seeded_key("DOUBTFUL")
    applied = chain.run(key, "membership.apply", apply_body("DOUBTFUL", key, ["haulier"]))
    proposal = event(applied, "membership.org_applied")["proposal"]
    assert chain.run("SHEKOU-PORT", "membership.vote", {"proposal_id": proposal, "vote": "no"}).ok
    second = chain.run("RTM-PORT", "membership.vote", {"proposal_id": proposal, "vote": "no"})
    assert "membership.proposal_rejected" in [e.type for e in second.events]
    assert chain.state("membership/org/DOUBTFUL")["status"] == "rejected"
    assert chain.state(f"membership/key/{key.key_id}")["status"] == "revoked"
    late = chain.run("MERIDIAN", "membership.vote", {"proposal_id": proposal, "vote": "yes"})
    assert (late.codespace, late.code) == ("membership", 10)
    again = seeded_key("DOUBTFUL-2")
    assert chain.run(again, "membership.apply", apply_body("DOUBTFUL", again, ["haulier"])).ok


def test_a_taken_org_id_cannot_be_applied_for(chain: Chain) -> None:
    key = seeded_key("IMPOSTOR")
    result = chain.run(key, "membership.apply", apply_body("MERIDIAN", key, ["carrier"]))
    assert (result.codespace, result.code, result.log) == (
        "membership",
        2,
        "body.org_id: organisation 'MERIDIAN' exists",
    )


def test_an_application_must_be_signed_by_the_key_it_registers(chain: Chain) -> None:
    signer, other = seeded_key("A"), seeded_key("B")
    raw = chain.sign(signer, "membership.apply", apply_body("SNEAKY", other, ["shipper"]))
    with pytest.raises(Exception) as refused:
        chain.app.check_tx(raw)
    assert "tx.signer" in str(refused.value) or "public_key" in str(refused.value)


def test_each_steward_votes_once(chain: Chain) -> None:
    key = seeded_key("TWICE")
    applied = chain.run(key, "membership.apply", apply_body("TWICE", key, ["inspector"]))
    proposal = event(applied, "membership.org_applied")["proposal"]
    assert chain.run("SHEKOU-PORT", "membership.vote", {"proposal_id": proposal, "vote": "yes"}).ok
    again = chain.run("SHEKOU-PORT", "membership.vote", {"proposal_id": proposal, "vote": "yes"})
    assert (again.codespace, again.code) == ("membership", 11)


def test_admins_register_keys_with_a_subset_of_the_orgs_roles(chain: Chain) -> None:
    clerk = SigningKey.generate()
    too_much = chain.run(
        "BRIGHTWAVE",
        "membership.register_key",
        {"public_key": clerk.public_key.hex(), "roles": ["shipper", "bank"]},
    )
    assert (too_much.codespace, too_much.code) == ("membership", 5)
    assert too_much.log == "body.roles: BRIGHTWAVE does not hold role bank"
    ok = chain.run(
        "BRIGHTWAVE",
        "membership.register_key",
        {"public_key": clerk.public_key.hex(), "roles": ["shipper"], "label": "clerk"},
    )
    assert ok.ok
    record = chain.state(f"membership/key/{clerk.key_id}")
    assert record["org"] == "BRIGHTWAVE" and record["admin"] is False
    # A user key that is not an admin cannot register keys.
    refused = chain.run(
        clerk,
        "membership.register_key",
        {"public_key": SigningKey.generate().public_key.hex(), "roles": ["shipper"]},
    )
    assert (refused.codespace, refused.code) == ("tx", 8)
    duplicate = chain.run(
        "BRIGHTWAVE",
        "membership.register_key",
        {"public_key": clerk.public_key.hex(), "roles": ["shipper"]},
    )
    assert (duplicate.codespace, duplicate.code) == ("membership", 4)


def test_a_rotated_key_stops_working_and_its_successor_works(chain: Chain) -> None:
    clerk, successor = SigningKey.generate(), SigningKey.generate()
    assert chain.run(
        "BRIGHTWAVE",
        "membership.register_key",
        {"public_key": clerk.public_key.hex(), "roles": ["shipper"]},
    ).ok
    rotated = chain.run(
        clerk,
        "membership.rotate_key",
        {"key_id": clerk.key_id, "public_key": successor.public_key.hex()},
    )
    assert rotated.ok, rotated.log
    assert chain.state(f"membership/key/{clerk.key_id}")["status"] == "rotated"
    assert chain.state(f"membership/key/{successor.key_id}")["roles"] == ["shipper"]
    old = chain.run(
        clerk,
        "membership.rotate_key",
        {"key_id": clerk.key_id, "public_key": SigningKey.generate().public_key.hex()},
    )
    assert (old.codespace, old.code) == ("tx", 5)
    new = chain.run(
        successor,
        "membership.rotate_key",
        {"key_id": successor.key_id, "public_key": SigningKey.generate().public_key.hex()},
    )
    assert new.ok, new.log


def test_an_org_cannot_touch_another_orgs_keys(chain: Chain) -> None:
    result = chain.run(
        "HOLLANDHOME", "membership.revoke_key", {"key_id": seeded_key("BRIGHTWAVE").key_id}
    )
    assert (result.codespace, result.code) == ("membership", 6)
    rotate = chain.run(
        "HOLLANDHOME",
        "membership.rotate_key",
        {
            "key_id": seeded_key("BRIGHTWAVE").key_id,
            "public_key": SigningKey.generate().public_key.hex(),
        },
    )
    assert (rotate.codespace, rotate.code) == ("membership", 6)


def test_the_last_admin_key_cannot_be_revoked_and_a_revoked_key_is_locked_out(chain: Chain) -> None:
    last = chain.run(
        "BRIGHTWAVE", "membership.revoke_key", {"key_id": seeded_key("BRIGHTWAVE").key_id}
    )
    assert (last.codespace, last.code) == ("membership", 7)
    second_admin = SigningKey.generate()
    assert chain.run(
        "BRIGHTWAVE",
        "membership.register_key",
        {"public_key": second_admin.public_key.hex(), "roles": ["shipper"], "admin": True},
    ).ok
    assert chain.run(
        second_admin, "membership.revoke_key", {"key_id": seeded_key("BRIGHTWAVE").key_id}
    ).ok
    locked = chain.sign(
        "BRIGHTWAVE",
        "membership.register_key",
        {"public_key": SigningKey.generate().public_key.hex(), "roles": ["shipper"]},
    )
    with pytest.raises(Exception) as refused:
        chain.app.check_tx(locked)
    assert getattr(refused.value, "codespace", None) == "tx" and refused.value.code == 5  # type: ignore[attr-defined]


def _pass(chain: Chain, proposer: str, body: dict[str, object]) -> int:
    proposed = chain.run(proposer, "membership.propose", body)
    assert proposed.ok, proposed.log
    proposal = event(proposed, "membership.proposal_created")["proposal"]
    for steward in YES_QUORUM:
        assert chain.run(steward, "membership.vote", {"proposal_id": proposal, "vote": "yes"}).ok
    return int(proposal)


def test_stewards_suspend_and_readmit_a_member(chain: Chain) -> None:
    _pass(chain, "NL-CUSTOMS", {"kind": "suspend", "org_id": "HOLLANDBANK", "reason": "audit"})
    assert chain.state("membership/org/HOLLANDBANK")["status"] == "suspended"
    blocked = chain.sign(
        "HOLLANDBANK",
        "membership.register_key",
        {"public_key": SigningKey.generate().public_key.hex(), "roles": ["bank"]},
        seq=0,
    )
    with pytest.raises(Exception) as refused:
        chain.app.check_tx(blocked)
    assert "not active" in str(refused.value)
    _pass(chain, "NL-CUSTOMS", {"kind": "readmit", "org_id": "HOLLANDBANK"})
    assert chain.state("membership/org/HOLLANDBANK")["status"] == "active"
    assert chain.run(
        "HOLLANDBANK",
        "membership.register_key",
        {"public_key": SigningKey.generate().public_key.hex(), "roles": ["bank"]},
    ).ok


def test_a_suspended_steward_no_longer_counts(chain: Chain) -> None:
    _pass(chain, "SHEKOU-PORT", {"kind": "suspend", "org_id": "NL-CUSTOMS"})
    assert chain.state("membership/stewards") == [
        "CN-CUSTOMS",
        "MERIDIAN",
        "RTM-PORT",
        "SHEKOU-PORT",
    ]
    vote = chain.sign("NL-CUSTOMS", "membership.vote", {"proposal_id": 1, "vote": "yes"})
    with pytest.raises(PortchainError):
        chain.app.check_tx(vote)


def test_a_member_asks_for_new_roles_and_keys_follow_the_orgs_roles(chain: Chain) -> None:
    refused = chain.run(
        "BRIGHTWAVE", "membership.propose", {"kind": "suspend", "org_id": "HOLLANDHOME"}
    )
    assert (refused.codespace, refused.code) == ("membership", 15)
    other = chain.run(
        "BRIGHTWAVE",
        "membership.propose",
        {"kind": "set_roles", "org_id": "HOLLANDHOME", "roles": ["shipper"]},
    )
    assert (other.codespace, other.code) == ("membership", 15)
    _pass(
        chain,
        "BRIGHTWAVE",
        {"kind": "set_roles", "org_id": "BRIGHTWAVE", "roles": ["consignee", "shipper"]},
    )
    assert chain.state("membership/org/BRIGHTWAVE")["roles"] == ["consignee", "shipper"]


def test_a_proposal_about_an_org_waits_for_the_open_one(chain: Chain) -> None:
    assert chain.run(
        "SHEKOU-PORT", "membership.propose", {"kind": "suspend", "org_id": "HOLLANDHOME"}
    ).ok
    second = chain.run(
        "RTM-PORT", "membership.propose", {"kind": "suspend", "org_id": "HOLLANDHOME"}
    )
    assert (second.codespace, second.code) == ("membership", 14)


def test_stewardship_is_granted_by_vote_and_changes_the_quorum(chain: Chain) -> None:
    _pass(chain, "MERIDIAN", {"kind": "set_steward", "org_id": "HOLLANDBANK", "steward": True})
    assert "HOLLANDBANK" in chain.state("membership/stewards")
    assert chain.state("membership/org/HOLLANDBANK")["steward"] is True
    # Six stewards now: four yes votes are no longer more than two thirds (4/6).
    proposed = chain.run(
        "MERIDIAN", "membership.propose", {"kind": "suspend", "org_id": "HOLLANDHOME"}
    )
    proposal = event(proposed, "membership.proposal_created")["proposal"]
    for steward in YES_QUORUM:
        chain.run(steward, "membership.vote", {"proposal_id": proposal, "vote": "yes"})
    assert chain.state("membership/org/HOLLANDHOME")["status"] == "active"
    assert chain.run("HOLLANDBANK", "membership.vote", {"proposal_id": proposal, "vote": "yes"}).ok
    assert chain.state("membership/org/HOLLANDHOME")["status"] == "suspended"


def test_an_unanswered_proposal_expires_at_the_end_of_its_voting_period(chain: Chain) -> None:
    proposed = chain.run(
        "MERIDIAN", "membership.propose", {"kind": "suspend", "org_id": "HOLLANDHOME"}
    )
    proposal = event(proposed, "membership.proposal_created")["proposal"]
    week = 7 * 24 * 3600 * 1000
    result = chain.block(step_ms=week)
    assert [e.type for e in result.events] == ["membership.proposal_expired"]
    assert chain.state(f"membership/proposal/{proposal:012d}")["status"] == "expired"
    late = chain.run("SHEKOU-PORT", "membership.vote", {"proposal_id": proposal, "vote": "yes"})
    assert (late.codespace, late.code) == ("membership", 10)


WHO_MAY = [
    # (action, signer, body builder, allowed?)
    ("membership.vote", "BRIGHTWAVE", lambda: {"proposal_id": 1, "vote": "yes"}, False),
    ("membership.vote", "SHEKOU-PORT", lambda: {"proposal_id": 1, "vote": "yes"}, True),
    (
        "membership.propose",
        "HOLLANDHOME",
        lambda: {"kind": "set_roles", "org_id": "HOLLANDHOME", "roles": ["consignee"]},
        True,
    ),
    (
        "membership.propose",
        "HOLLANDHOME",
        lambda: {"kind": "suspend", "org_id": "BRIGHTWAVE"},
        False,
    ),
    (
        "membership.register_key",
        "HOLLANDHOME",
        lambda: {"public_key": SigningKey.generate().public_key.hex(), "roles": ["consignee"]},
        True,
    ),
    (
        "membership.revoke_key",
        "HOLLANDHOME",
        lambda: {"key_id": seeded_key("MERIDIAN").key_id},
        False,
    ),
]


@pytest.mark.parametrize(("action", "signer", "body", "allowed"), WHO_MAY)
def test_who_may_do_what(chain: Chain, action: str, signer: str, body, allowed: bool) -> None:  # type: ignore[no-untyped-def]
    key = seeded_key("TABLE")
    applied = chain.run(key, "membership.apply", apply_body("TABLE", key, ["shipper"]))
    assert applied.ok
    before = chain.app_hash
    raw = chain.sign(signer, action, body())
    if allowed:
        chain.app.check_tx(raw)
        result = chain.block(raw).tx_results[0]
        assert result.ok, result.log
    else:
        try:
            chain.app.check_tx(raw)
        except Exception as exc:  # refused at the mempool: nothing changes
            assert getattr(exc, "code", 0) > 0
            assert chain.app_hash == before
            return
        result = chain.block(raw).tx_results[0]
        assert not result.ok
