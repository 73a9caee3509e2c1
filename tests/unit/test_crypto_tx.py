"""Ed25519 signatures with domain separation (``kernel.crypto``); the envelope (``kernel.tx``)."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portchain.kernel import codec, crypto
from portchain.kernel.crypto import COMMIT_DOMAIN, TX_DOMAIN, SigningKey, verify
from portchain.kernel.errors import DecodeError, InvalidError, TooLargeError
from portchain.kernel.tx import MAX_TX_BYTES, Tx, decode_tx, sign, tx_hash

ALICE = SigningKey.from_seed(bytes(range(32)))
BOB = SigningKey.from_seed(bytes(range(1, 33)))


def flip_bit(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def a_tx(**changes: Any) -> Tx:
    fields: dict[str, Any] = {
        "chain_id": "port-of-rotterdam",
        "signer": ALICE.key_id,
        "seq": 7,
        "action": "ebl.transfer",
        "body": {"ebl": "EBL-1", "to": "carrier", "amount": 125_000},
    }
    fields.update(changes)
    return Tx(**fields)


def wire(doc: dict[str, Any]) -> bytes:
    """Canonical bytes of a (possibly malformed) envelope, so only the checked rule fails."""
    return codec.canonical(doc)


def envelope(**tx_changes: Any) -> dict[str, Any]:
    """A well-formed envelope as a dict, with fields of ``tx`` replaced (or removed by None)."""
    body = a_tx().as_dict()
    for name, value in tx_changes.items():
        if value is None:
            del body[name]
        else:
            body[name] = value
    return {"sig": "ab" * 64, "tx": body}


# -- crypto ----------------------------------------------------------------


def test_rfc8032_test_vector_1() -> None:
    # RFC 8032 section 7.1, TEST 1 (empty message); with an empty domain we sign it bare.
    key = SigningKey.from_seed(
        bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    )
    assert key.public_key.hex() == (
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    )
    assert key.sign(b"", b"").hex() == (
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065"
        "224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
    )


def test_sign_then_verify() -> None:
    signature = ALICE.sign(TX_DOMAIN, b"release container MSKU1234565")
    assert len(signature) == crypto.SIGNATURE_BYTES
    assert verify(ALICE.public_key, TX_DOMAIN, b"release container MSKU1234565", signature)


def test_signing_is_deterministic() -> None:
    assert ALICE.sign(TX_DOMAIN, b"m") == ALICE.sign(TX_DOMAIN, b"m")


def test_generated_keys_differ_and_work() -> None:
    one, two = SigningKey.generate(), SigningKey.generate()
    assert one.seed != two.seed
    assert one.key_id != two.key_id
    assert verify(one.public_key, TX_DOMAIN, b"x", one.sign(TX_DOMAIN, b"x"))
    assert not verify(two.public_key, TX_DOMAIN, b"x", one.sign(TX_DOMAIN, b"x"))


def test_signature_does_not_cross_domains() -> None:
    message = b'{"height":1}'
    tx_signature = ALICE.sign(TX_DOMAIN, message)
    commit_signature = ALICE.sign(COMMIT_DOMAIN, message)
    assert not verify(ALICE.public_key, COMMIT_DOMAIN, message, tx_signature)
    assert not verify(ALICE.public_key, TX_DOMAIN, message, commit_signature)
    assert not verify(ALICE.public_key, b"", message, tx_signature)


def test_domain_is_part_of_the_signed_bytes() -> None:
    # A signature of DOMAIN || message is a signature of the concatenation, nothing more.
    signature = ALICE.sign(TX_DOMAIN, b"abc")
    assert verify(ALICE.public_key, b"", TX_DOMAIN + b"abc", signature)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=64), st.data())
def test_any_flipped_bit_fails(message: bytes, data: st.DataObject) -> None:
    signature = ALICE.sign(TX_DOMAIN, message)
    public = ALICE.public_key
    assert verify(public, TX_DOMAIN, message, signature)
    if message:
        bit = data.draw(st.integers(0, len(message) * 8 - 1), label="message bit")
        assert not verify(public, TX_DOMAIN, flip_bit(message, bit), signature)
    bit = data.draw(st.integers(0, 64 * 8 - 1), label="signature bit")
    assert not verify(public, TX_DOMAIN, message, flip_bit(signature, bit))
    bit = data.draw(st.integers(0, 32 * 8 - 1), label="public key bit")
    assert not verify(flip_bit(public, bit), TX_DOMAIN, message, signature)


@pytest.mark.parametrize(
    ("public", "signature"),
    [
        (ALICE.public_key[:31], ALICE.sign(TX_DOMAIN, b"m")),
        (ALICE.public_key + b"\x00", ALICE.sign(TX_DOMAIN, b"m")),
        (ALICE.public_key, ALICE.sign(TX_DOMAIN, b"m")[:63]),
        (ALICE.public_key, b""),
        (b"\xff" * 32, ALICE.sign(TX_DOMAIN, b"m")),  # not a curve point
        (bytes(32), bytes(64)),
    ],
)
def test_malformed_keys_and_signatures_do_not_verify_and_do_not_raise(
    public: bytes, signature: bytes
) -> None:
    assert verify(public, TX_DOMAIN, b"m", signature) is False


def test_key_id_is_40_hex_of_sha256_of_the_public_key() -> None:
    digest = hashlib.sha256(ALICE.public_key).hexdigest()
    assert crypto.key_id(ALICE.public_key) == digest[:40]
    assert ALICE.key_id == digest[:40]
    assert len(ALICE.key_id) == crypto.KEY_ID_HEX_LEN
    assert ALICE.key_id == ALICE.key_id.lower()
    assert ALICE.key_id != BOB.key_id


def test_from_seed_is_deterministic_and_checks_length() -> None:
    assert SigningKey.from_seed(bytes(range(32))).public_key == ALICE.public_key
    for bad in (b"", bytes(31), bytes(33)):
        with pytest.raises(ValueError, match="32 bytes"):
            SigningKey.from_seed(bad)


def test_repr_never_shows_secrets() -> None:
    assert ALICE.seed.hex() not in repr(ALICE)
    assert ALICE.key_id in repr(ALICE)
    enc = crypto.EncryptionKey.generate()
    assert enc.secret.hex() not in repr(enc)
    assert len(enc.public_key) == 32


# -- tx: sign and decode ----------------------------------------------------


def test_sign_then_decode_round_trips() -> None:
    tx = a_tx()
    raw = sign(tx, ALICE)
    stx = decode_tx(raw)
    assert stx.tx == tx
    assert stx.raw == raw
    assert stx.tx.module == "ebl"
    assert verify(ALICE.public_key, TX_DOMAIN, stx.sign_bytes, stx.signature)


def test_wire_format_is_canonical_json_of_sig_and_tx() -> None:
    tx = a_tx()
    raw = sign(tx, ALICE)
    signature = ALICE.sign(TX_DOMAIN, tx.sign_bytes())
    assert raw == codec.canonical({"sig": signature.hex(), "tx": tx.as_dict()})
    assert raw.startswith(b'{"sig":"' + signature.hex().encode() + b'","tx":{"action":')


def test_tx_hash_is_sha256_of_the_wire_bytes_and_stable() -> None:
    raw = sign(a_tx(), ALICE)
    stx = decode_tx(raw)
    assert stx.hash == hashlib.sha256(raw).digest() == tx_hash(raw)
    assert stx.hash_hex == hashlib.sha256(raw).hexdigest()
    # Signing the same content again gives the same bytes, hence the same id.
    assert sign(a_tx(), ALICE) == raw
    assert decode_tx(sign(a_tx(), ALICE)).hash == stx.hash
    # Any change of content is a different transaction.
    assert decode_tx(sign(a_tx(seq=8), ALICE)).hash != stx.hash


def test_sign_bytes_is_the_tx_slice_of_the_wire() -> None:
    tx = a_tx()
    stx = decode_tx(sign(tx, ALICE))
    assert stx.sign_bytes == tx.sign_bytes() == codec.canonical(tx.as_dict())
    assert stx.raw.endswith(stx.sign_bytes + b"}")


_actions = st.from_regex(r"[a-z][a-z0-9_]{0,31}\.[a-z][a-z0-9_]{0,47}", fullmatch=True)
_chain_ids = st.from_regex(r"[a-z0-9][a-z0-9_-]{0,47}", fullmatch=True)
_bodies = st.dictionaries(
    st.text(max_size=8),
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-codec.MAX_SAFE_INTEGER, codec.MAX_SAFE_INTEGER),
        st.text(max_size=20),
        st.lists(st.text(max_size=5), max_size=3),
    ),
    max_size=6,
)


@settings(max_examples=150, deadline=None)
@given(
    action=_actions,
    chain_id=_chain_ids,
    seq=st.integers(0, codec.MAX_SAFE_INTEGER),
    body=_bodies,
)
def test_any_signed_tx_round_trips(action: str, chain_id: str, seq: int, body: dict) -> None:
    tx = Tx(chain_id=chain_id, signer=BOB.key_id, seq=seq, action=action, body=body)
    raw = sign(tx, BOB)
    stx = decode_tx(raw)
    assert stx.tx == tx
    assert stx.sign_bytes == tx.sign_bytes()
    assert stx.hash == hashlib.sha256(raw).digest()
    assert verify(BOB.public_key, TX_DOMAIN, stx.sign_bytes, stx.signature)


def test_signature_does_not_carry_over_to_another_chain_or_sequence() -> None:
    stx = decode_tx(sign(a_tx(), ALICE))
    for changed in (a_tx(chain_id="other-port"), a_tx(seq=8), a_tx(body={"ebl": "EBL-2"})):
        forged = codec.canonical({"sig": stx.signature.hex(), "tx": changed.as_dict()})
        replay = decode_tx(forged)  # well-formed, so it decodes...
        assert not verify(ALICE.public_key, TX_DOMAIN, replay.sign_bytes, replay.signature)


def test_signature_for_a_commit_is_not_a_tx_signature() -> None:
    tx = a_tx()
    commit_sig = ALICE.sign(COMMIT_DOMAIN, tx.sign_bytes())
    stx = decode_tx(codec.canonical({"sig": commit_sig.hex(), "tx": tx.as_dict()}))
    assert not verify(ALICE.public_key, TX_DOMAIN, stx.sign_bytes, stx.signature)


# -- tx: refusals ------------------------------------------------------------


def test_a_well_formed_envelope_decodes() -> None:
    # The baseline every refusal below changes in one place.
    assert decode_tx(wire(envelope())).tx == a_tx()


@pytest.mark.parametrize("name", ["action", "body", "chain_id", "seq", "signer"])
def test_missing_tx_field_is_named(name: str) -> None:
    with pytest.raises(DecodeError, match="is required") as caught:
        decode_tx(wire(envelope(**{name: None})))
    assert caught.value.field == f"tx.{name}"
    assert caught.value.as_dict()["field"] == f"tx.{name}"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("action", 1),
        ("body", ["not", "an", "object"]),
        ("body", "text"),
        ("chain_id", ["port"]),
        ("seq", "7"),
        ("seq", True),
        ("signer", 123),
    ],
)
def test_wrongly_typed_tx_field_is_named(name: str, value: Any) -> None:
    with pytest.raises(DecodeError, match="must be a") as caught:
        decode_tx(wire(envelope(**{name: value})))
    assert caught.value.field == f"tx.{name}"


def test_extra_tx_field_is_refused() -> None:
    with pytest.raises(DecodeError, match="memo") as caught:
        decode_tx(wire(envelope(memo="hello")))
    assert caught.value.field == "tx"


@pytest.mark.parametrize(
    "doc",
    [
        {"tx": envelope()["tx"]},
        {"sig": "ab" * 64},
        {"sig": "ab" * 64, "tx": envelope()["tx"], "extra": 1},
        {},
    ],
)
def test_envelope_must_have_exactly_sig_and_tx(doc: dict[str, Any]) -> None:
    with pytest.raises(DecodeError, match="exactly 'sig' and 'tx'"):
        decode_tx(wire(doc))


@pytest.mark.parametrize("doc", [[], "tx", 1, None])
def test_envelope_must_be_an_object(doc: Any) -> None:
    with pytest.raises(DecodeError):
        decode_tx(wire(doc))


def test_tx_must_be_an_object() -> None:
    with pytest.raises(DecodeError, match="must be a dict") as caught:
        decode_tx(wire({"sig": "ab" * 64, "tx": [1]}))
    assert caught.value.field == "tx"


@pytest.mark.parametrize(
    "action",
    [
        "",
        "ebl",
        "ebl.",
        ".transfer",
        "Ebl.transfer",
        "ebl.Transfer",
        "ebl.transfer.now",
        "1ebl.transfer",
        "ebl._transfer",
        "e-bl.transfer",
        "ebl transfer",
        "e" * 33 + ".transfer",
        "ebl." + "t" * 49,
    ],
)
def test_bad_action_is_invalid(action: str) -> None:
    with pytest.raises(InvalidError, match=r"module\.verb") as caught:
        decode_tx(wire(envelope(action=action)))
    assert caught.value.field == "tx.action"
    assert caught.value.code == 9


def test_longest_action_is_accepted() -> None:
    action = "e" * 32 + "." + "t" * 48
    assert decode_tx(wire(envelope(action=action))).tx.action == action


@pytest.mark.parametrize("chain_id", ["", "Port", "-port", "_port", "port chain", "p" * 49, "pört"])
def test_bad_chain_id_is_invalid(chain_id: str) -> None:
    with pytest.raises(InvalidError) as caught:
        decode_tx(wire(envelope(chain_id=chain_id)))
    assert caught.value.field == "tx.chain_id"


@pytest.mark.parametrize(
    "signer", ["", "ab" * 19 + "a", "ab" * 20 + "a", "AB" * 20, "zz" * 20, ALICE.public_key.hex()]
)
def test_bad_signer_is_invalid(signer: str) -> None:
    with pytest.raises(InvalidError, match="key id") as caught:
        decode_tx(wire(envelope(signer=signer)))
    assert caught.value.field == "tx.signer"


@pytest.mark.parametrize("field", ["action", "chain_id", "signer"])
def test_trailing_newline_is_invalid(field: str) -> None:
    value = envelope()["tx"][field] + "\n"
    with pytest.raises(InvalidError) as caught:
        decode_tx(wire(envelope(**{field: value})))
    assert caught.value.field == f"tx.{field}"


def test_negative_seq_is_invalid() -> None:
    with pytest.raises(InvalidError, match="negative") as caught:
        decode_tx(wire(envelope(seq=-1)))
    assert caught.value.field == "tx.seq"
    assert decode_tx(wire(envelope(seq=0))).tx.seq == 0


def test_seq_beyond_safe_integers_is_refused() -> None:
    raw = wire(envelope(seq=123)).replace(b'"seq":123', b'"seq":9007199254740992')
    with pytest.raises(DecodeError, match=r"2\^53"):
        decode_tx(raw)


@pytest.mark.parametrize(
    "sig",
    [
        "zz" * 64,
        "ab" * 63,
        "ab" * 65,
        "AB" * 64,
        "",
        " " + "ab" * 63 + "a",
    ],
)
def test_bad_signature_hex_is_refused(sig: str) -> None:
    doc = envelope()
    doc["sig"] = sig
    with pytest.raises(DecodeError, match="128 lowercase hex") as caught:
        decode_tx(wire(doc))
    assert caught.value.field == "sig"


def test_signature_must_be_a_string() -> None:
    doc = envelope()
    doc["sig"] = 5
    with pytest.raises(DecodeError, match="must be a str") as caught:
        decode_tx(wire(doc))
    assert caught.value.field == "sig"


def _padded_to(size: int) -> bytes:
    """A signed transaction of exactly ``size`` wire bytes."""
    base = len(sign(a_tx(body={"pad": ""}), ALICE))
    raw = sign(a_tx(body={"pad": "x" * (size - base)}), ALICE)
    assert len(raw) == size
    return raw


def test_size_limit_is_inclusive() -> None:
    assert decode_tx(_padded_to(MAX_TX_BYTES)).raw == _padded_to(MAX_TX_BYTES)
    with pytest.raises(TooLargeError, match="transaction") as caught:
        decode_tx(_padded_to(MAX_TX_BYTES + 1))
    assert caught.value.code == 2
    assert caught.value.codespace == "tx"


@pytest.mark.parametrize(
    "mangle",
    [
        lambda raw: raw.replace(b'"seq":7', b'"seq": 7'),
        lambda raw: raw + b"\n",
        lambda raw: raw.replace(b'"ebl":"EBL-1"', b'"ebl":"\\u0045BL-1"'),
        lambda raw: (
            b'{"tx":' + raw[raw.index(b'"tx":') + 5 : -1] + b',"sig":"' + raw[8:136] + b'"}'
        ),
    ],
    ids=["space", "newline", "escaped-letter", "tx-before-sig"],
)
def test_non_canonical_wire_bytes_are_refused(mangle: Any) -> None:
    raw = sign(a_tx(), ALICE)
    mangled = mangle(raw)
    assert mangled != raw
    with pytest.raises(DecodeError, match="canonical"):
        decode_tx(mangled)


def test_garbage_is_refused() -> None:
    for raw in (b"", b"\xff\xfe", b"not json", b'{"sig":'):
        with pytest.raises(DecodeError):
            decode_tx(raw)


def test_very_long_integer_in_body_is_a_decode_error() -> None:
    raw = wire(envelope(body={"n": 1})).replace(b'"n":1', b'"n":' + b"9" * 5000)
    with pytest.raises(DecodeError):
        decode_tx(raw)


def test_body_nested_beyond_max_depth_is_refused() -> None:
    # Built by hand: codec.canonical itself refuses to encode it.
    deep = b"[" * 40 + b"]" * 40
    raw = wire(envelope(body={"deep": 1})).replace(b'"deep":1', b'"deep":' + deep)
    with pytest.raises(DecodeError):
        decode_tx(raw)
