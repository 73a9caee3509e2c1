"""The canonical encoding (RFC 8785 subset) and the strict decoders of ``kernel.codec``.

``rfc8785`` is an independent implementation of RFC 8785 and serves as the oracle:
whatever portchain hashes or signs must be byte-for-byte what any other JCS
implementation produces, or other clients cannot verify our signatures.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from portchain.kernel import codec
from portchain.kernel.errors import DecodeError, TooLargeError

MAX = codec.MAX_SAFE_INTEGER


def nested_lists(levels: int) -> Any:
    """``levels`` arrays, each inside the next: 1 -> [], 2 -> [[]], ..."""
    value: Any = []
    for _ in range(levels - 1):
        value = [value]
    return value


# -- strategies --------------------------------------------------------------

# Text without lone surrogates, with extra weight on the characters that decide
# RFC 8785 ordering and escaping: controls, quotes, backslash, the top of the BMP
# and characters beyond it (which sort differently by UTF-16 unit than by code point).
_tricky = st.sampled_from(
    ["\x00", "\x1f", "\x7f", '"', "\\", "/", "\u2028", "\ue000", "\uffff", "\U00010000", "😀"]
)
_chars = st.characters(exclude_categories=["Cs"])
texts = st.text(alphabet=st.one_of(_chars, _tricky), max_size=12)
safe_ints = st.integers(min_value=-MAX, max_value=MAX)
scalars = st.one_of(st.none(), st.booleans(), safe_ints, texts)


def _extend(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(texts, children, max_size=5),
    )


json_values = st.recursive(scalars, _extend, max_leaves=25)


# -- encoding: RFC 8785 vectors ----------------------------------------------


def test_object_keys_are_sorted() -> None:
    assert codec.canonical({"b": 1, "a": 2, "c": {"z": 0, "y": 1}}) == (
        b'{"a":2,"b":1,"c":{"y":1,"z":0}}'
    )


def test_rfc8785_sorting_vector() -> None:
    # RFC 8785 section 3.2.3: keys sort by UTF-16 code units, so the emoji
    # (surrogate pair D83D DE00) comes before U+FB33 although its code point is larger.
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    expected = (
        '{"\\r":"Carriage Return","1":"One","\u0080":"Control",'
        '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",'
        '"\U0001f600":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}'
    ).encode()
    assert codec.canonical(value) == expected
    assert codec.canonical(value) == rfc8785.dumps(value)


def test_non_bmp_key_sorts_before_uffff_key() -> None:
    # By code point U+FFFF < U+10000; by UTF-16 unit 0xFFFF > 0xD800. RFC 8785 uses units.
    value = {"\uffff": 1, "\U00010000": 2}
    assert codec.canonical(value) == '{"\U00010000":2,"\uffff":1}'.encode()
    assert codec.canonical(value) == rfc8785.dumps(value)


def test_non_bmp_key_order_is_applied_in_nested_objects() -> None:
    value = {"outer": [{"\uffff": 1, "\U0001f600": 2, "a": 3}]}
    assert codec.canonical(value) == '{"outer":[{"a":3,"\U0001f600":2,"\uffff":1}]}'.encode()


def test_non_bmp_character_in_a_value_does_not_disturb_bmp_key_order() -> None:
    value = {"b": "\U0001f600", "a": "\uffff"}
    assert codec.canonical(value) == '{"a":"\uffff","b":"\U0001f600"}'.encode()


@pytest.mark.parametrize(
    ("text", "encoded"),
    [
        ('"', b'"\\""'),
        ("\\", b'"\\\\"'),
        ("/", b'"/"'),  # the solidus is not escaped
        ("\b\t\n\f\r", b'"\\b\\t\\n\\f\\r"'),
        ("\x00\x01\x0f\x1f", b'"\\u0000\\u0001\\u000f\\u001f"'),  # lowercase hex
        ("\x7f", b'"\x7f"'),  # DEL is not a C0 control
        ("\u2028\u2029", '"\u2028\u2029"'.encode()),
        ("é€😀", '"é€😀"'.encode()),  # non-ASCII is left raw, as UTF-8
        ("", b'""'),
    ],
)
def test_string_escaping(text: str, encoded: bytes) -> None:
    assert codec.canonical(text) == encoded
    assert codec.canonical(text) == rfc8785.dumps(text)


def test_rfc8785_string_vector() -> None:
    # RFC 8785 section 3.2.2.2.
    value = "\u20ac$\u000f\u000aA'\u0042\u0022\u005c\\\"/"
    assert codec.canonical(value) == '"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"'.encode()


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (0, b"0"),
        (-1, b"-1"),
        (1_000_000, b"1000000"),
        (MAX, b"9007199254740991"),
        (-MAX, b"-9007199254740991"),
        (True, b"true"),
        (False, b"false"),
        (None, b"null"),
        ([1, True, None, "x"], b'[1,true,null,"x"]'),
        ((1, 2), b"[1,2]"),
        ({}, b"{}"),
        ([], b"[]"),
    ],
)
def test_scalars_and_containers(value: Any, encoded: bytes) -> None:
    assert codec.canonical(value) == encoded


def test_encoding_ignores_dict_insertion_order() -> None:
    assert codec.canonical({"x": 1, "y": {"b": 2, "a": 1}}) == codec.canonical(
        {"y": {"a": 1, "b": 2}, "x": 1}
    )


# -- encoding: property against the oracle ---------------------------------


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_canonical_matches_independent_rfc8785(value: Any) -> None:
    assert codec.canonical(value) == rfc8785.dumps(value)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(texts, scalars, min_size=2, max_size=8), st.randoms())
def test_key_order_of_input_never_matters(value: dict[str, Any], rnd: Any) -> None:
    items = list(value.items())
    rnd.shuffle(items)
    assert codec.canonical(dict(items)) == rfc8785.dumps(value)


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_canonical_bytes_decode_back_to_the_value(value: Any) -> None:
    encoded = codec.canonical(value)
    assert codec.decode_canonical(encoded, max_bytes=len(encoded)) == value
    assert codec.decode(encoded, max_bytes=len(encoded)) == value


# -- encoding: refusals name the path ------------------------------------------


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ({"amount": 1.5}, "amount"),
        ({"lc": {"lines": [1, 2.0]}}, "lc.lines[1]"),
        ({"amount": 2**53}, "amount"),
        ({"amount": -(2**53)}, "amount"),
        ([0, [MAX + 1]], "[1][0]"),
        ({"rate": float("nan")}, "rate"),
        ({"rate": float("inf")}, "rate"),
        ({"name": "a\ud800b"}, "name"),
        ({"docs": ["ok", "\udfff"]}, "docs[1]"),
        ({"when": object()}, "when"),
    ],
)
def test_canonical_refuses_and_names_the_path(value: Any, field: str) -> None:
    with pytest.raises(DecodeError) as caught:
        codec.canonical(value)
    assert caught.value.field == field
    assert field in str(caught.value)


def test_canonical_refuses_a_lone_surrogate_in_a_key() -> None:
    with pytest.raises(DecodeError, match="surrogate"):
        codec.canonical({"party": {"\ud83d": 1}})


def test_canonical_refuses_a_float_at_the_top() -> None:
    with pytest.raises(DecodeError, match="integers"):
        codec.canonical(2.5)


def test_canonical_accepts_the_integer_bounds_and_refuses_one_beyond() -> None:
    assert codec.canonical([MAX, -MAX]) == b"[9007199254740991,-9007199254740991]"
    for beyond in (MAX + 1, -MAX - 1, 10**30):
        with pytest.raises(DecodeError, match=r"2\^53"):
            codec.canonical(beyond)


def test_canonical_refuses_non_string_keys_with_decode_error() -> None:
    with pytest.raises(DecodeError, match="keys must be strings"):
        codec.canonical({1: "a"})


def test_canonical_nesting_limit() -> None:
    assert codec.canonical(nested_lists(codec.MAX_DEPTH)) == (
        b"[" * codec.MAX_DEPTH + b"]" * codec.MAX_DEPTH
    )
    with pytest.raises(DecodeError, match="nesting deeper"):
        codec.canonical(nested_lists(codec.MAX_DEPTH + 1))


def test_canonical_nesting_limit_counts_objects_too() -> None:
    value: Any = {}
    for _ in range(codec.MAX_DEPTH):
        value = {"k": value}
    with pytest.raises(DecodeError, match="nesting deeper") as caught:
        codec.canonical(value)
    assert caught.value.field == ".".join(["k"] * codec.MAX_DEPTH)


# -- decode ----------------------------------------------------------------


def test_decode_accepts_plain_json_with_whitespace() -> None:
    assert codec.decode(b' {"b": [1, true, null], "a": "\\u00e9"} ', max_bytes=100) == {
        "a": "é",
        "b": [1, True, None],
    }


def test_decode_accepts_str_input() -> None:
    assert codec.decode('{"a":1}', max_bytes=10) == {"a": 1}


def test_decode_refuses_duplicate_keys_naming_the_key() -> None:
    with pytest.raises(DecodeError, match="duplicate") as caught:
        codec.decode(b'{"payee":1,"payee":2}', max_bytes=100)
    assert caught.value.field == "payee"
    with pytest.raises(DecodeError, match="duplicate"):
        codec.decode(b'{"lc":{"amount":1,"amount":1}}', max_bytes=100)


@pytest.mark.parametrize("text", [b"1.0", b"[1e3]", b'{"a":-0.5}', b"1E2", b"[0.0]"])
def test_decode_refuses_floats(text: bytes) -> None:
    with pytest.raises(DecodeError, match="integers"):
        codec.decode(text, max_bytes=100)


@pytest.mark.parametrize("text", [b"NaN", b"[Infinity]", b'{"a":-Infinity}'])
def test_decode_refuses_nan_and_infinity(text: bytes) -> None:
    with pytest.raises(DecodeError, match="not valid JSON"):
        codec.decode(text, max_bytes=100)


@pytest.mark.parametrize(
    "text", [b"9007199254740992", b"[-9007199254740992]", b'{"a":100000000000000000000}']
)
def test_decode_refuses_integers_beyond_the_safe_range(text: bytes) -> None:
    with pytest.raises(DecodeError, match=r"2\^53"):
        codec.decode(text, max_bytes=100)


def test_decode_accepts_the_safe_integer_bounds() -> None:
    assert codec.decode(b"[9007199254740991,-9007199254740991]", max_bytes=100) == [MAX, -MAX]


@pytest.mark.parametrize("decoder", ["decode", "decode_canonical"])
def test_decode_refuses_a_very_long_integer_with_decode_error(decoder: str) -> None:
    text = b"[" + b"9" * 5000 + b"]"
    with pytest.raises(DecodeError):
        getattr(codec, decoder)(text, max_bytes=10_000)


def test_decode_refuses_lone_surrogate_naming_the_path() -> None:
    with pytest.raises(DecodeError, match="surrogate") as caught:
        codec.decode(b'{"party":{"name":["ok","\\ud800"]}}', max_bytes=100)
    assert caught.value.field == "party.name[1]"


@pytest.mark.parametrize("text", [b'"\xff"', b'{"a":"\xc3"}', b'"\xed\xa0\x80"'])
def test_decode_refuses_invalid_utf8(text: bytes) -> None:
    with pytest.raises(DecodeError, match="UTF-8"):
        codec.decode(text, max_bytes=100)
    with pytest.raises(DecodeError, match="UTF-8"):
        codec.decode_canonical(text, max_bytes=100)


def test_decode_nesting_limit() -> None:
    ok = b"[" * codec.MAX_DEPTH + b"]" * codec.MAX_DEPTH
    assert codec.decode(ok, max_bytes=1000) == nested_lists(codec.MAX_DEPTH)
    too_deep = b"[" * (codec.MAX_DEPTH + 1) + b"]" * (codec.MAX_DEPTH + 1)
    with pytest.raises(DecodeError, match="nesting deeper"):
        codec.decode(too_deep, max_bytes=1000)


def test_decode_canonical_nesting_limit_however_many_brackets_the_text_holds() -> None:
    ok = b"[" * codec.MAX_DEPTH + b"]" * codec.MAX_DEPTH
    assert codec.decode_canonical(ok, max_bytes=1000) == nested_lists(codec.MAX_DEPTH)
    wide = b"[" + b",".join([b"[]"] * 100) + b"]"  # 101 brackets, two levels
    assert codec.decode_canonical(wide, max_bytes=1000) == [[]] * 100
    too_deep = b"[" * (codec.MAX_DEPTH + 1) + b"]" * (codec.MAX_DEPTH + 1)
    with pytest.raises(DecodeError, match="nests deeper"):
        codec.decode_canonical(too_deep, max_bytes=1000)
    in_strings = b'["' + b"[" * 100 + b'"]'  # brackets inside a string nest nothing
    assert codec.decode_canonical(in_strings, max_bytes=1000) == ["[" * 100]


def test_decode_survives_pathological_nesting() -> None:
    text = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(DecodeError):
        codec.decode(text, max_bytes=len(text))
    with pytest.raises(DecodeError):
        codec.decode_canonical(text, max_bytes=len(text))


def test_decode_size_limit_is_inclusive() -> None:
    text = b'"' + b"x" * 98 + b'"'  # 100 bytes
    assert codec.decode(text, max_bytes=100) == "x" * 98
    with pytest.raises(TooLargeError, match="101 bytes; the limit is 100") as caught:
        codec.decode(text + b" ", max_bytes=100)
    assert caught.value.code == 2


def test_too_large_names_what_was_decoded() -> None:
    with pytest.raises(TooLargeError, match="genesis"):
        codec.decode(b"[" + b"1," * 100 + b"1]", max_bytes=10, what="genesis")


def test_decode_size_limit_counts_bytes_of_str_input() -> None:
    text = '"' + "é" * 10 + '"'  # 12 characters, 22 bytes
    with pytest.raises(TooLargeError):
        codec.decode(text, max_bytes=12)


def test_decode_refuses_str_input_holding_a_lone_surrogate() -> None:
    with pytest.raises(DecodeError, match="body is not valid Unicode"):
        codec.decode('{"a":"\ud800"}', max_bytes=100, what="body")


@pytest.mark.parametrize("text", [b"", b"{", b'{"a":1}x', b"[1,]", b"'a'", b"01"])
def test_decode_refuses_malformed_json(text: bytes) -> None:
    with pytest.raises(DecodeError, match="not valid JSON"):
        codec.decode(text, max_bytes=100)


# -- decode_canonical ------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        b'{"a":1,"b":[true,false,null]}',
        '{"\U00010000":2,"\uffff":1}'.encode(),
        '"é\\n\\u001f"'.encode(),
        b"-9007199254740991",
        b"[]",
    ],
)
def test_decode_canonical_accepts_canonical_bytes(text: bytes) -> None:
    value = codec.decode_canonical(text, max_bytes=100)
    assert codec.canonical(value) == text


@pytest.mark.parametrize(
    "text",
    [
        b'{"a": 1}',  # whitespace after the colon
        b'{ "a":1}',
        b'{"a":1}\n',
        b' {"a":1}',
        b"[1, 2]",
        b'{"b":1,"a":2}',  # unsorted keys
        '{"\uffff":1,"\U00010000":2}'.encode(),  # sorted by code point, not UTF-16 unit
        b'"\\u00e9"',  # escaped non-ASCII
        b'"\\/"',  # escaped solidus
        b'"\\u001F"',  # uppercase hex
        b'"\\u000a"',  # long form of \n
        b"-0",
        b'{"a":1,"a":1}',  # a duplicate key re-encodes shorter
    ],
)
def test_decode_canonical_refuses_non_canonical_bytes(text: bytes) -> None:
    with pytest.raises(DecodeError, match="not canonically encoded"):
        codec.decode_canonical(text, max_bytes=100)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (b"[1.5]", "integers"),
        (b"[NaN]", "not valid JSON"),
        (b"[9007199254740992]", r"2\^53"),
        (b'["\\ud800"]', "surrogate"),
        (b'{"a"', "not valid JSON"),
    ],
)
def test_decode_canonical_refuses_outside_the_subset(text: bytes, match: str) -> None:
    with pytest.raises(DecodeError, match=match):
        codec.decode_canonical(text, max_bytes=100)


def test_decode_canonical_size_limit() -> None:
    text = b'"' + b"x" * 98 + b'"'
    assert codec.decode_canonical(text, max_bytes=100) == "x" * 98
    with pytest.raises(TooLargeError, match="transaction"):
        codec.decode_canonical(text, max_bytes=99, what="transaction")


def test_decode_canonical_accepts_the_nesting_limit() -> None:
    ok = b"[" * codec.MAX_DEPTH + b"]" * codec.MAX_DEPTH
    assert codec.decode_canonical(ok, max_bytes=1000) == nested_lists(codec.MAX_DEPTH)


def test_decode_canonical_refuses_nesting_beyond_max_depth() -> None:
    too_deep = b"[" * (codec.MAX_DEPTH + 1) + b"]" * (codec.MAX_DEPTH + 1)
    with pytest.raises(DecodeError):
        codec.decode_canonical(too_deep, max_bytes=1000)


def test_sha256_is_sha256() -> None:
    assert codec.sha256(b"abc").hex() == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )


def test_decode_agrees_with_the_standard_parser_on_accepted_input() -> None:
    text = '{"z":[1,-2,{"y":null}],"a":"\\t\\u00e9😀"}'
    assert codec.decode(text.encode(), max_bytes=1000) == json.loads(text)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(_json_values)
def test_the_reused_c_encoder_writes_what_the_standard_encoder_writes(value: object) -> None:
    standard = json.JSONEncoder(
        ensure_ascii=False, separators=(",", ":"), allow_nan=False, sort_keys=True
    ).encode
    assert codec._dumps_sorted(value) == standard(value)
