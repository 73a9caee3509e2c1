"""Canonical encoding of everything portchain hashes or signs.

The encoding is RFC 8785 (JSON Canonicalization Scheme) restricted to the
values a ledger needs, which makes it fast and leaves exactly one encoding
for every value:

* objects with string keys, sorted by their UTF-16 code units (RFC 8785 §3.2.3);
* arrays, strings, ``true``, ``false``, ``null``;
* integers only, in the I-JSON safe range ``[-(2**53 - 1), 2**53 - 1]``. Money is
  integer minor units and rates are integer ppm or basis points (DESIGN.md,
  invariant 7), so floats are refused rather than rounded.

Within that subset, RFC 8785's output equals ``json.dumps`` with sorted keys,
no whitespace and ``ensure_ascii=False``: both escape exactly ``"``, ``\\`` and
the C0 controls (``\\b \\t \\n \\f \\r`` short, the rest as lowercase ``\\u00xx``)
and print integers in plain decimal. The test suite checks this claim against an
independent RFC 8785 implementation on generated values.

Decoding is strict: duplicate keys, floats, NaN, lone surrogates, excessive
nesting and oversize input are refused with :class:`DecodeError` or
:class:`TooLargeError`, naming the rule.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from portchain.kernel.errors import DecodeError, TooLargeError

MAX_SAFE_INTEGER = 2**53 - 1
"""Largest integer every JSON implementation represents exactly (I-JSON, RFC 7493 §2.2)."""

MAX_DEPTH = 32
"""Deepest nesting of arrays and objects accepted in any decoded document."""

JsonValue = Any
"""A decoded JSON value: None, bool, int, str, list or dict with str keys."""

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


def sha256(data: bytes) -> bytes:
    """SHA-256 digest of ``data`` (32 bytes)."""
    return hashlib.sha256(data).digest()


def _utf16_key(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def _check_str(value: str, path: str) -> None:
    # A lone surrogate cannot be encoded as UTF-8 and RFC 8785 refuses it.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise DecodeError(
            "strings must be valid Unicode (no lone surrogates)", field=path
        ) from None


def _normalise(value: Any, path: str, depth: int) -> Any:
    """Validate ``value`` and return a copy whose dicts are in canonical key order."""
    if value is None or value is True or value is False:
        return value
    kind = type(value)
    if kind is str:
        _check_str(value, path)
        return value
    if kind is int:
        if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            return value
        raise DecodeError("integers must lie within +/-(2^53 - 1)", field=path)
    if depth >= MAX_DEPTH:
        raise DecodeError(f"nesting deeper than {MAX_DEPTH} levels", field=path)
    if kind is dict:
        out = {}
        for key in value:
            if type(key) is not str:
                raise DecodeError("object keys must be strings", field=path)
        for key in sorted(value, key=_utf16_key):
            _check_str(key, path)
            out[key] = _normalise(value[key], f"{path}.{key}" if path else key, depth + 1)
        return out
    if kind is list or kind is tuple:
        return [_normalise(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value)]
    if kind is float:
        raise DecodeError("numbers must be integers (amounts are integer minor units)", field=path)
    raise DecodeError(f"cannot encode a value of type {kind.__name__}", field=path)


_dumps_sorted: Callable[[Any], str] = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), allow_nan=False, sort_keys=True
).encode

try:
    from _json import encode_basestring as _c_encode_string
    from _json import make_encoder as _c_make_encoder
except ImportError:  # pragma: no cover  (CPython always has its C accelerator)
    pass
else:

    def _unencodable(value: Any) -> Any:
        raise TypeError(f"cannot encode a value of type {type(value).__name__}")

    # The same encoding as the encoder above (json.JSONEncoder.encode makes exactly this C
    # encoder on every call); made once and reused, as it keeps no state without cycle
    # markers. Values reach it only after _plain() has bounded their depth, so it needs none.
    _sorted_encoder = _c_make_encoder(
        None, _unencodable, _c_encode_string, None, ":", ",", True, False, False
    )

    def _dumps_sorted_fast(value: Any) -> str:
        return "".join(_sorted_encoder(value, 0))

    _dumps_sorted = _dumps_sorted_fast


_BEYOND_BMP = re.compile(rb"[\xf0-\xf4]")


def _plain(value: Any, depth: int = 0) -> bool:
    """True if ``value`` holds only JSON types and safe integers, at most MAX_DEPTH deep."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return bool(-MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER)
    if depth >= MAX_DEPTH:
        return False
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str:
                return False
            if type(item) is not str and not _plain(item, depth + 1):
                return False
        return True
    if kind is list or kind is tuple:
        return all(type(item) is str or _plain(item, depth + 1) for item in value)
    return False


_FIELDS: dict[type, tuple[str, ...]] = {}


def plain(value: Any) -> Any:
    """A record (a dataclass, possibly holding tuples of dataclasses) as JSON types, for
    :func:`canonical`: what ``dataclasses.asdict`` gives, without its deep copies (a
    handler's records are frozen, so nothing needs copying)."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    names = _FIELDS.get(kind)
    if names is None:
        if kind is tuple or kind is list:
            return [plain(item) for item in value]
        if kind is dict:
            return {key: plain(item) for key, item in value.items()}
        if not dataclasses.is_dataclass(value):
            return value
        names = _FIELDS[kind] = tuple(f.name for f in dataclasses.fields(value))
    return {name: plain(getattr(value, name)) for name in names}


def canonical(value: Any) -> bytes:
    """The RFC 8785 encoding of ``value`` as UTF-8 bytes.

    Raises :class:`DecodeError` naming the offending path for floats, integers
    outside the safe range, non-string keys, lone surrogates or nesting deeper
    than :data:`MAX_DEPTH`.
    """
    if _plain(value):
        try:
            out = _dumps_sorted(value).encode("utf-8")
        except UnicodeEncodeError:
            pass  # a lone surrogate: the slow path names where
        else:
            # Sorting by code point equals sorting by UTF-16 unit unless a key holds a
            # character beyond the BMP (4-byte UTF-8, lead byte 0xF0 or more).
            if out.isascii() or not _BEYOND_BMP.search(out):
                return out
    return _dumps(_normalise(value, "", 0)).encode("utf-8")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DecodeError("duplicate key in object", field=key)
            seen.add(key)
    return out


def _no_float(text: str) -> Any:
    raise DecodeError(f"numbers must be integers, got {text}")


def _safe_int(text: str) -> int:
    if len(text) > 17:  # 2**53 - 1 has 16 digits; refuse before int() parses a huge literal
        raise DecodeError(f"integers must lie within +/-(2^53 - 1), got {text[:40]}...")
    value = int(text)
    if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        return value
    raise DecodeError(f"integers must lie within +/-(2^53 - 1), got {text[:40]}")


def _no_constant(text: str) -> Any:
    raise DecodeError(f"{text} is not valid JSON")


_decoder = json.JSONDecoder(
    object_pairs_hook=_no_duplicates,
    parse_float=_no_float,
    parse_int=_safe_int,
    parse_constant=_no_constant,
)


def _parse(data: bytes | str, max_bytes: int, what: str) -> Any:
    if isinstance(data, str):
        try:
            data = data.encode("utf-8")
        except UnicodeEncodeError:
            raise DecodeError(f"{what} is not valid Unicode") from None
    if len(data) > max_bytes:
        raise TooLargeError(f"{what} is {len(data)} bytes; the limit is {max_bytes}")
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        value = _decoder.decode(text)
    except UnicodeDecodeError:
        raise DecodeError(f"{what} is not valid UTF-8") from None
    except json.JSONDecodeError as exc:
        raise DecodeError(f"{what} is not valid JSON: {exc.msg} at offset {exc.pos}") from None
    except RecursionError:
        raise DecodeError(f"{what} nests too deeply") from None
    return value


_number_checked = json.JSONDecoder(
    parse_float=_no_float, parse_int=_safe_int, parse_constant=_no_constant
)


def decode(data: bytes | str, *, max_bytes: int, what: str = "document") -> Any:
    """Parse strict JSON of at most ``max_bytes`` bytes.

    Raises :class:`TooLargeError` when over the limit and :class:`DecodeError`
    for anything outside the canonical subset (see the module docstring).
    """
    value = _parse(data, max_bytes, what)
    _normalise(value, "", 0)  # integer range, surrogates and depth
    return value


def decode_canonical(data: bytes, *, max_bytes: int, what: str = "document") -> Any:
    """Parse ``data`` and insist it is already in canonical form (one encoding per value).

    Parsed by the C decoder with number checks only: a parsed value holds nothing but
    JSON types, and a duplicate key cannot survive the comparison with the canonical
    re-encoding (it re-encodes shorter), so the re-encoding needs no validating walk.
    """
    if len(data) > max_bytes:
        raise TooLargeError(f"{what} is {len(data)} bytes; the limit is {max_bytes}")
    try:
        value = _number_checked.decode(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise DecodeError(f"{what} is not valid UTF-8") from None
    except json.JSONDecodeError as exc:
        raise DecodeError(f"{what} is not valid JSON: {exc.msg} at offset {exc.pos}") from None
    except RecursionError:
        raise DecodeError(f"{what} nests too deeply") from None
    # Only depth can fail the walk: the parser made every value. Text with no more brackets
    # than MAX_DEPTH, as any transaction, cannot nest deeper, and needs no walk.
    if data.count(b"[") + data.count(b"{") > MAX_DEPTH and not _plain(value):
        raise DecodeError(f"{what} nests deeper than {MAX_DEPTH} levels")
    try:
        encoded = _dumps_sorted(value).encode("utf-8")
    except UnicodeEncodeError:
        raise DecodeError(f"{what} holds a lone surrogate") from None
    if not encoded.isascii() and _BEYOND_BMP.search(encoded):
        encoded = canonical(value)  # keys beyond the BMP sort by UTF-16 units
    if encoded != data:
        raise DecodeError(f"{what} is not canonically encoded (RFC 8785)")
    return value
