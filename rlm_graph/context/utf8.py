"""UTF-8 helpers: slice edges never split a character and decoding never fails."""

from __future__ import annotations

from collections.abc import Callable

# Reads the bytes in [start, end) of some byte space.
ByteReader = Callable[[int, int], bytes]


def is_continuation(byte: int) -> bool:
    """True for a UTF-8 continuation byte (0b10xxxxxx), which can never start a character."""
    return byte & 0xC0 == 0x80


def snap_forward(read: ByteReader, pos: int, limit: int) -> int:
    """Move ``pos`` forward past continuation bytes so it sits on a character boundary.

    A UTF-8 character has at most 3 continuation bytes, so only 3 bytes are ever read.
    """
    if pos >= limit:
        return limit
    head = read(pos, min(pos + 3, limit))
    n = 0
    while n < len(head) and is_continuation(head[n]):
        n += 1
    return pos + n


def decode(data: bytes) -> str:
    """Decode UTF-8, replacing invalid bytes instead of failing (contexts are untrusted input)."""
    return data.decode("utf-8", errors="replace")


def looks_binary(head: bytes) -> bool:
    """True when a file's first bytes are not UTF-8 text (a NUL byte or invalid UTF-8).

    The sample may end in the middle of a character, so a truncated last character is allowed.
    """
    if b"\x00" in head:
        return True
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        truncated_tail = exc.reason == "unexpected end of data" and exc.end == len(head)
        return not truncated_tail
    return False
