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

# Blocks of this size are searched one after another; a match that starts in a block may run
# this far past its end (one that would run further is cut short or missed: this only concerns
# patterns that cross lines, matches are shown as line snippets anyway).
SCAN_BLOCK = 64 << 20
SCAN_OVERLAP = 1 << 20

_UNSUPPORTED = [
    (re.compile(r"\(\?<?[=!]"), "lookahead and lookbehind ((?=...), (?!...), (?<=...))"),
    (re.compile(r"\\[1-9]|\(\?P="), "backreferences (\\1, (?P=name))"),
    (re.compile(r"[*+?}]\+"), "possessive quantifiers (a++, a*+)"),
    (re.compile(r"\(\?>"), "atomic groups ((?>...))"),
]
# RE2 errors whose usual fix is not "escape the special character".
_HINTS = [
    (
        "invalid repetition size",
        "RE2 allows counts up to {1000}, and nested counts multiply: use + or * or a smaller count",
    ),
    ("pattern too large", "use smaller counts, or several simpler GREPs"),
    ("invalid escape sequence: \\Z", "write $ (end of a line) or \\z (end of the text)"),
    ("invalid escape sequence", "write the character itself, or escape only punctuation"),
    ("invalid perl operator: (?#", "comments (?#...) are not supported: leave them out"),
]
# ^ and $ match at every line, as models expect from grep.
_PREFIX = b"(?m)"


class Pattern(Protocol):
    """What a store searches with: a compiled RE2 or Python ``re`` pattern over bytes."""

    def search(self, text: Any, pos: int = ..., endpos: int = ...) -> Any: ...


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
        return re2.compile(_PREFIX + pattern.encode("utf-8"), options)
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
    raw = exc.args[0] if exc.args else exc
    reason = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    # RE2 echoes the regex it was given: leave out the (?m) we put in front of the model's.
    reason = reason.replace(": " + _PREFIX.decode(), ": ", 1)
    for needle, hint in _HINTS:
        if needle in reason:
            return f"invalid regex {pattern!r}: {reason}; {hint}"
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

    The same matches as Python's ``re.finditer``: a match that starts in a block is found whole
    (up to ``SCAN_OVERLAP`` past the block) and the next block goes on after it, so no match is
    reported twice; an empty match is reported once and the search moves one byte on.
    ``release(a, b)`` is told when a block is done (a memory map hands its pages back).
    """
    pos = released = start
    while True:
        block_start = pos
        block_end = min(end, pos + SCAN_BLOCK)
        window_end = min(end, block_end + SCAN_OVERLAP)
        last = block_end == end
        # Our own loop, not pattern.finditer: google-re2's finditer reports an empty match
        # twice when it is not where the search started (``^``, ``$``, ``\b`` on every line).
        while pos <= block_end:
            match = pattern.search(buffer, pos, window_end)
            if match is None:
                break
            a, b = match.span()
            if a > block_end or (a == block_end and not last):
                break  # it belongs to the next block
            yield a, b
            pos = b + 1 if a == b else b
        if release is not None:
            # From the previous block's start: RE2 reads the byte before where a search starts
            # (for ^ and \b), and the kernel maps the whole folio around it (up to 2 MB) back in;
            # without this, each block would leave that much of the file resident.
            release(released, block_end)
            released = block_start
        if last:
            return
        pos = max(pos, block_end)
