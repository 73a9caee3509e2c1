"""ABCI socket framing: each protobuf message is preceded by its length as an unsigned varint.

This is CometBFT v0.38's ``libs/protoio`` delimited format (``binary.PutUvarint`` of the byte
length, then the bytes), the same as protobuf's own length-delimited encoding. Older
Tendermint releases used a signed varint, so the unsigned form is pinned here and tested.
"""

from __future__ import annotations

import asyncio

MAX_VARINT_BYTES = 10
"""An unsigned 64-bit varint never needs more than ten bytes."""


class FramingError(Exception):
    """The peer sent bytes that are not a well-formed length-delimited message."""


def encode_uvarint(value: int) -> bytes:
    """Little-endian base-128, seven bits a byte, high bit set on all but the last byte."""
    if value < 0:
        raise ValueError(f"uvarint must be non-negative, got {value}")
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def frame(payload: bytes) -> bytes:
    """Prefix ``payload`` with its length, ready to write to the socket."""
    return encode_uvarint(len(payload)) + payload


def split_frames(buffer: bytes | bytearray, max_bytes: int) -> tuple[list[bytes], int]:
    """The complete messages at the start of ``buffer``, and how many bytes they take.

    A message whose bytes have not all arrived yet is left for the next call.

    Raises:
        FramingError: a length prefix is malformed or larger than ``max_bytes``.
    """
    messages: list[bytes] = []
    position = 0
    size = len(buffer)
    while position < size:
        length = 0
        cursor = position
        for shift in range(0, 7 * MAX_VARINT_BYTES, 7):
            if cursor == size:
                return messages, position  # the prefix itself is still arriving
            byte = buffer[cursor]
            cursor += 1
            length |= (byte & 0x7F) << shift
            if not byte & 0x80:
                break
        else:
            raise FramingError("length prefix longer than ten bytes")
        if length > max_bytes:
            raise FramingError(f"message of {length} bytes exceeds the limit of {max_bytes}")
        if cursor + length > size:
            break
        messages.append(bytes(buffer[cursor : cursor + length]))
        position = cursor + length
    return messages, position


async def read_frame(reader: asyncio.StreamReader, max_bytes: int) -> bytes | None:
    """Read one message; ``None`` when the peer closed cleanly between messages.

    Raises:
        FramingError: the length prefix is malformed or larger than ``max_bytes``.
        asyncio.IncompleteReadError: the connection closed in the middle of a message.
    """
    length = 0
    for position in range(MAX_VARINT_BYTES):
        byte = await reader.read(1)
        if not byte:
            if position == 0:
                return None
            raise asyncio.IncompleteReadError(b"", None)
        length |= (byte[0] & 0x7F) << (7 * position)
        if not byte[0] & 0x80:
            break
    else:
        raise FramingError("length prefix longer than ten bytes")
    if length > max_bytes:
        raise FramingError(f"message of {length} bytes exceeds the limit of {max_bytes}")
    return await reader.readexactly(length)
