"""Where a line of code sits: the function or class around it.

A search hit in source code says more with its place: ``self._check_proc()`` is worth little
alone, "in function ``send_signal``" answers "which functions call ``_check_proc``?". The
scope is the nearest line above that opens a definition (``def``, ``async def``, ``class``, and
the ``function``/``func``/``fn`` of other languages) and is indented less than the line itself;
a less indented line of other code on the way up (module level code) means there is none, and
so does a line that is not indented at all. Only text is read, never parsed: it works on any
indented source and on a part of a file.
"""

from __future__ import annotations

import re
from collections.abc import Callable

# Bytes read above a line to find its definition: a function longer than this has its name
# far away, and the search gives up rather than read the file.
SCOPE_LOOKBACK_BYTES = 16_000
_DEFINITION = re.compile(
    rb"^([ \t]*)(?:export\s+)?(?:pub\s+)?(?:async\s+)?(def|class|function|func|fn)\s+"
    rb"(?:\([^)]*\)\s*)?([A-Za-z_$][\w$]*)"
)
# Lines at the left margin that close or lead a definition rather than end it.
_MARGIN_OK = (b"@", b"#", b"//", b")", b"]", b"}")


def _indent(line: bytes) -> int:
    return len(line) - len(line.lstrip(b" \t"))


def scope_of(read_bytes: Callable[[int, int], bytes], offset: int, floor: int = 0) -> str:
    """The definition around the line that holds ``offset``, as a reader says it
    (``function send_signal``, ``class Queue``; '' for none), looking no further up than
    ``floor`` (the first byte of the line's file)."""
    lo = max(floor, offset - SCOPE_LOOKBACK_BYTES)
    above = read_bytes(lo, offset)
    cut = above.rfind(b"\n") + 1
    line = (above[cut:] + read_bytes(offset, offset + 400)).split(b"\n", 1)[0]
    depth = _indent(line)
    if not line.strip() or depth == 0:
        return ""
    lines = above[:cut].split(b"\n")
    if lo > floor:
        lines = lines[1:]  # the first may be cut
    for candidate in reversed(lines):
        if not candidate.strip():
            continue
        indent = _indent(candidate)
        if indent >= depth:
            continue
        match = _DEFINITION.match(candidate)
        if match:
            kind = "class" if match.group(2) == b"class" else "function"
            return f"{kind} {match.group(3).decode('utf-8', 'replace')}"
        if indent == 0 and not candidate.lstrip().startswith(_MARGIN_OK):
            return ""  # module-level code above: not inside any definition
        depth = indent  # a block (if, for, with) of the definition: keep climbing
    return ""
