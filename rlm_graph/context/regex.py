"""Model-written regular expressions, compiled for RE2 and run in bounded blocks.

A model's GREP pattern runs on RE2 (``google-re2``): matching time is linear in the text for any
pattern, so ``(a+)+$`` on a long line of a's takes microseconds, where Python's backtracking
``re`` takes longer than the age of the universe. RE2 leaves out what needs backtracking
(backreferences, lookaround, possessive quantifiers); such a pattern becomes an error the model
reads, saying what to write instead.

Stores scan a file in blocks through :func:`scan`, handing a memory map's pages back to the OS
after each block, so searching a 1 GB file does not leave 1 GB resident.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from rlm_graph.errors import TargetError

# Blocks of this size are searched one after another; a match may run this far past a block's
# end (a match longer than that is cut at it: matches are shown as line snippets anyway).
SCAN_BLOCK = 64 << 20
SCAN_OVERLAP = 1 << 20

_UNSUPPORTED = [
    (re.compile(r"\(\?<?[=!]"), "lookahead and lookbehind ((?=...), (?!...), (?<=...))"),
    (re.compile(r"\\[1-9]|\(\?P="), "backreferences (\\1, (?P=name))"),
    (re.compile(r"[*+?}]\+"), "possessive quantifiers (a++, a*+)"),
    (re.compile(r"\(\?>"), "atomic groups ((?>...))"),
]


class Pattern(Protocol):
    """What a store searches with: a compiled RE2 or Python ``re`` pattern over bytes."""

    def finditer(self, text: Any, pos: int = ..., endpos: int = ...) -> Iterator[Any]: ...


def compile_pattern(pattern: str) -> Pattern:
    """Compile a model-written regex for RE2: case-insensitive, ``^``/``$`` per line (as
    models expect from grep), over UTF-8 bytes. Errors say how to fix the pattern."""
    import re2

    if not pattern:
        raise TargetError("empty grep pattern: give a word or regex, e.g. GREP('error')")
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False  # RE2 would print parse errors on the user's terminal
    try:
        return re2.compile(b"(?m)" + pattern.encode("utf-8"), options)
    except re2.error as exc:
        raise TargetError(_explain(pattern, exc)) from None


def _explain(pattern: str, exc: Exception) -> str:
    for construct, name in _UNSUPPORTED:
        if construct.search(pattern):
            return (
                f"GREP does not support {name} (it runs on RE2, in linear time): rewrite "
                f"{pattern!r} without them, e.g. match the plain text and read the lines around "
                "the hits with PEEK"
            )
    reason = str(exc).strip("b'\"")
    return (
        f"invalid regex {pattern!r}: {reason}; escape special characters like ( [ . * + ? "
        "with a backslash"
    )


def scan(
    pattern: Pattern,
    buffer: Any,
    start: int,
    end: int,
    release: Callable[[int, int], None] | None = None,
) -> Iterator[tuple[int, int]]:
    """Spans of ``pattern``'s matches in ``buffer[start:end]``, searched block by block.

    A match that starts in a block is found whole (up to ``SCAN_OVERLAP`` past the block); the
    next block goes on after it, so no match is reported twice. ``release(a, b)`` is told when
    a block is done (a memory map hands its pages back).
    """
    pos = start
    while pos < end:
        block_end = min(end, pos + SCAN_BLOCK)
        window_end = min(end, block_end + SCAN_OVERLAP)
        next_pos = block_end
        for match in pattern.finditer(buffer, pos, window_end):
            if match.start() >= block_end:
                break
            next_pos = max(next_pos, match.end())
            yield match.start(), match.end()
        if release is not None:
            release(pos, block_end)
        pos = next_pos
