"""Case-insensitive regex search over a view, with line and chunk numbers for each hit.

Matches come straight from the store (regex on the mmap), and line numbers are computed by
walking the hits in order with a running newline count, so a 200 MB file is never copied.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from rlm_graph.context.chunking import Chunking
from rlm_graph.context.targets import parse_target
from rlm_graph.context.utf8 import decode, is_continuation
from rlm_graph.errors import TargetError

if TYPE_CHECKING:
    from rlm_graph.context.view import ContextView

# Counting every match of a pattern like "e" in 1 GB takes long and tells the model nothing.
COUNT_CAP = 100_000
SNIPPET_CHARS = 200
_LOOKAROUND = 600  # bytes read on each side of a hit to find its line


class GrepHit(BaseModel):
    """One match: 1-based line, byte offset and first chunk, all relative to the view."""

    line: int
    offset: int
    chunk: int
    text: str = Field(description="the matching line, stripped, cut to ~200 chars around the match")


class GrepResult(BaseModel):
    pattern: str
    hits: list[GrepHit] = Field(default_factory=list)
    total: int = 0
    truncated: bool = False
    capped: bool = Field(default=False, description="counting stopped at COUNT_CAP")

    def render(self) -> str:
        """Hits as ``line 812 (chunk 6): text`` plus a one-line summary."""
        if self.total == 0:
            return f"no matches for {self.pattern!r}"
        out = [f"line {h.line:,} (chunk {h.chunk}): {h.text}" for h in self.hits]
        if self.truncated or self.capped:
            total = f"at least {self.total:,}" if self.capped else f"{self.total:,}"
            out.append(f"showing {len(self.hits)} of {total} matches; refine the pattern")
        else:
            out.append(f"{self.total:,} match" + ("" if self.total == 1 else "es"))
        return "\n".join(out)


def compile_pattern(pattern: str) -> re.Pattern[bytes]:
    """Compile a model-written regex for bytes; errors say how to fix it."""
    if not pattern:
        raise TargetError("empty grep pattern: give a word or regex, e.g. GREP('error')")
    try:
        # MULTILINE so ^ and $ work per line, as models expect from grep.
        return re.compile(pattern.encode("utf-8"), re.IGNORECASE | re.MULTILINE)
    except re.error as exc:
        raise TargetError(
            f"invalid regex {pattern!r}: {exc}; escape special characters like ( [ . * + ? "
            "with a backslash"
        ) from exc


def _snippet(view: ContextView, start: int, end: int) -> str:
    """The stripped line holding the match ``[start, end)`` (relative), cut around the match."""
    lo = max(0, start - _LOOKAROUND)
    hi = min(view.size, max(end, start) + _LOOKAROUND)
    data = view.read_bytes(lo, hi)
    ms = start - lo
    ls = data.rfind(b"\n", 0, ms) + 1
    le = data.find(b"\n", ms)
    if le < 0:
        le = len(data)
    a, b = ls, le
    if b - a > SNIPPET_CHARS:  # long line: keep a window that starts a bit before the match
        a = max(ls, ms - SNIPPET_CHARS // 4)
        b = min(le, a + SNIPPET_CHARS)
        while a < b and is_continuation(data[a]):
            a += 1
    text = decode(data[a:b]).strip()
    prefix = "..." if a > ls else ""
    suffix = "..." if b < le else ""
    return f"{prefix}{text}{suffix}"


def grep_view(
    view: ContextView,
    pattern: str,
    chunking: Chunking | None = None,
    target: str = "all",
    max_hits: int = 50,
) -> GrepResult:
    """Search ``target`` inside ``view``; numbers in the hits are relative to ``view``."""
    rx = compile_pattern(pattern)
    start, end = view.span_of(parse_target(target), chunking)
    layout = view.layout(chunking)
    index = view.store.line_index()
    result = GrepResult(pattern=pattern)
    prev_abs, line = view.start, 1
    for abs_start, abs_end in view.store.iter_matches(rx, view.start + start, view.start + end):
        result.total += 1
        if len(result.hits) < max_hits:
            # Running count: each hit only counts newlines since the previous one.
            line += index.newlines_between(prev_abs, abs_start)
            prev_abs = abs_start
            rel = abs_start - view.start
            result.hits.append(
                GrepHit(
                    line=line,
                    offset=rel,
                    chunk=layout.chunk_of(rel),
                    text=_snippet(view, rel, abs_end - view.start),
                )
            )
        if result.total >= COUNT_CAP:
            result.capped = True
            break
    result.truncated = result.total > len(result.hits)
    return result
