"""Bad input at the mempool and in a block: a stable code, a message naming the field, no change."""

from __future__ import annotations

import pytest

from portchain.kernel import codec
from portchain.kernel.crypto import SigningKey, key_id
from portchain.kernel.errors import PortchainError
from portchain.kernel.tx import MAX_TX_BYTES, Tx, sign
from support import Chain, seeded_key

BODY = {"public_key": "ab" * 32, "roles": ["shipper"]}


def refused(chain: Chain, raw: bytes) -> PortchainError:
    before = chain.app_hash
    with pytest.raises(PortchainError) as caught:
        chain.app.check_tx(raw)
    assert chain.app_hash == before
    # The same bytes forced into a block fail there too, with the same code, changing nothing.
    result = chain.block(raw).tx_results[0]
    assert (result.codespace, result.code) == (caught.value.codespace, caught.value.code)
    assert chain.app_hash == before
    return caught.value


def tx(chain: Chain, **changes: object) -> bytes:
    key = seeded_key("BRIGHTWAVE")
    fields: dict[str, object] = {
        "chain_id": "portchain-test",
        "signer": key.key_id,
        "seq": 0,
        "action": "membership.register_key",
        "body": BODY,
    }
    fields.update(changes)
    return sign(Tx(**fields), key)  # type: ignore[arg-type]


def test_malformed_json(chain: Chain) -> None:
    err = refused(chain, b'{"sig": "00", "tx": ')
    assert (err.codespace, err.code) == ("tx", 1)
    assert "not valid JSON" in err.describe()


def test_non_canonical_bytes(chain: Chain) -> None:
    raw = tx(chain)
    err = refused(chain, raw.replace(b'{"sig"', b'{ "sig"', 1))
    assert (err.codespace, err.code) == ("tx", 1)
    assert "canonical" in err.describe()


def test_wrong_chain_id(chain: Chain) -> None:
    err = refused(chain, tx(chain, chain_id="another-chain"))
    assert (err.codespace, err.code, err.field) == ("tx", 3, "tx.chain_id")
    assert "another-chain" in err.message


def test_bad_signature(chain: Chain) -> None:
    raw = tx(chain)
    doc = codec.decode(raw, max_bytes=MAX_TX_BYTES)
    doc["sig"] = SigningKey.generate().sign(b"x", b"y").hex()
    err = refused(chain, codec.canonical(doc))
    assert (err.codespace, err.code, err.field) == ("tx", 4, "sig")


def test_replayed_sequence(chain: Chain) -> None:
    first = tx(chain)
    assert chain.block(first).tx_results[0].ok
    before = chain.app_hash
    with pytest.raises(PortchainError) as caught:
        chain.app.check_tx(first)
    assert (caught.value.code, caught.value.field) == (6, "tx.seq")
    assert "replayed" in caught.value.message
    # Included again anyway, the replay fails and changes nothing.
    again = chain.block(first).tx_results[0]
    assert (again.codespace, again.code) == ("tx", 6)
    assert chain.app_hash == before


def test_skipped_sequence(chain: Chain) -> None:
    err = refused(chain, tx(chain, seq=5))
    assert (err.code, err.field) == (6, "tx.seq")
    assert "skipped ahead; expected 0" in err.message


def test_oversize_transaction(chain: Chain) -> None:
    err = refused(chain, tx(chain, body={**BODY, "label": "x" * MAX_TX_BYTES}))
    assert (err.codespace, err.code) == ("tx", 2)
    assert str(MAX_TX_BYTES) in err.message


def test_unknown_action(chain: Chain) -> None:
    err = refused(chain, tx(chain, action="membership.crown_king"))
    assert (err.code, err.field) == (7, "tx.action")


def test_invalid_message_names_the_field_and_rule(chain: Chain) -> None:
    err = refused(chain, tx(chain, body={"public_key": "xyz", "roles": ["shipper"]}))
    assert (err.code, err.field) == (9, "body.public_key")
    assert "pattern" in err.message
    err = refused(chain, tx(chain, body={**BODY, "roles": ["emperor"]}))
    assert err.field == "body.roles.0"
    err = refused(chain, tx(chain, body={**BODY, "colour": "red"}))
    assert err.field == "body.colour" and "Extra inputs" in err.message


def test_unknown_signer(chain: Chain) -> None:
    stranger = SigningKey.generate()
    raw = sign(Tx("portchain-test", stranger.key_id, 0, "membership.register_key", BODY), stranger)
    err = refused(chain, raw)
    assert (err.code, err.field) == (5, "tx.signer")


def test_unauthorised_signer(chain: Chain) -> None:
    clerk = SigningKey.generate()
    assert chain.run(
        "BRIGHTWAVE",
        "membership.register_key",
        {"public_key": clerk.public_key.hex(), "roles": ["shipper"]},
    ).ok
    raw = sign(Tx("portchain-test", clerk.key_id, 0, "membership.register_key", BODY), clerk)
    err = refused(chain, raw)
    assert (err.code, err.field) == (8, "tx.signer")
    assert "admin key" in err.message


def test_a_vote_by_a_non_steward(chain: Chain) -> None:
    key = seeded_key("HOLLANDHOME")
    raw = sign(
        Tx("portchain-test", key.key_id, 0, "membership.vote", {"proposal_id": 1, "vote": "yes"}),
        key,
    )
    err = refused(chain, raw)
    assert (err.code, err.field) == (8, "tx.signer")
    assert "steward" in err.message


def test_a_failed_action_writes_nothing_but_its_sequence_number(chain: Chain) -> None:
    """A refused action leaves state as it was, except that its signed sequence is used up."""
    result = chain.run(
        "BRIGHTWAVE", "membership.register_key", {"public_key": "cd" * 32, "roles": ["bank"]}
    )
    assert (result.codespace, result.code) == ("membership", 5) and result.events == ()
    refused_key = key_id(bytes.fromhex("cd" * 32))
    assert chain.storage.writer.get("membership/key/" + refused_key) is None
    written = chain.storage.writer.scan("membership/orgkey/BRIGHTWAVE/")
    assert len(written) == 1  # only the admin key from genesis
    assert chain.state("auth/seq/" + seeded_key("BRIGHTWAVE").key_id) == 1


def test_resubmitting_a_pending_transaction_is_refused_as_duplicate(chain: Chain) -> None:
    raw = tx(chain)
    chain.app.check_tx(raw)
    with pytest.raises(PortchainError) as caught:
        chain.app.check_tx(raw)
    assert (caught.value.codespace, caught.value.code) == ("tx", 11)
