"""Case-insensitive regex search over a view, with line and chunk numbers for each hit.

Patterns run on RE2 in linear time (``rlm_graph.context.regex``). Matches come straight from the
store (the regex runs on the memory map, block by block), and line numbers are computed by
walking the hits in order with a running newline count, so a 1 GB file is never copied.
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from rlm_graph.context.chunking import Chunking
from rlm_graph.context.regex import compile_pattern
from rlm_graph.context.scopes import scope_of
from rlm_graph.context.targets import parse_target
from rlm_graph.context.utf8 import decode, is_continuation

if TYPE_CHECKING:
    from rlm_graph.context.stores import FileEntry
    from rlm_graph.context.view import ContextView

# Counting every match of a pattern like "e" in 1 GB takes long and tells the model nothing.
COUNT_CAP = 100_000
# However many hits are shown, what goes back to the model stays this short.
MAX_RENDER_CHARS = 6_000
SNIPPET_CHARS = 200
_LOOKAROUND = 600  # bytes read on each side of a hit to find its line


class GrepHit(BaseModel):
    """One match: 1-based line, byte offset and first chunk, all relative to the view."""

    line: int
    offset: int
    chunk: int
    text: str = Field(description="the matching line, stripped, cut to ~200 chars around the match")
    file: str | None = Field(default=None, description="in a folder: the file the line is in")
    scope: str = Field(
        default="", description="in code: the function or class around the line (`function run`)"
    )

    def place(self) -> str:
        """``chunk 6``, and where known ``a.py``, ``in function send_signal``."""
        where = [f"chunk {self.chunk}"]
        if self.file:
            where.append(self.file)
        if self.scope:
            where.append(f"in {self.scope}")
        return ", ".join(where)


class GrepResult(BaseModel):
    pattern: str
    hits: list[GrepHit] = Field(default_factory=list)
    total: int = 0
    truncated: bool = False
    capped: bool = Field(default=False, description="counting stopped at COUNT_CAP")

    def render(self) -> str:
        """Hits as ``line 812 (chunk 6, a.py, in function run): text`` plus a summary line."""
        if self.total == 0:
            return f"no matches for {self.pattern!r}"
        out, size = [], 0
        for hit in self.hits:
            line = f"line {hit.line:,} ({hit.place()}): {hit.text}"
            size += len(line) + 1
            if size > MAX_RENDER_CHARS:
                out.append(f"[... {len(self.hits) - len(out):,} more hits not shown]")
                break
            out.append(line)
        if self.truncated or self.capped:
            total = f"at least {self.total:,}" if self.capped else f"{self.total:,}"
            out.append(f"showing {len(self.hits)} of {total} matches; refine the pattern")
        else:
            out.append(f"{self.total:,} match" + ("" if self.total == 1 else "es"))
        return "\n".join(out)


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


def _file_at(files: list[FileEntry], offset: int) -> FileEntry | None:
    """The file whose span holds ``offset`` (spans are in order and do not overlap)."""
    at = bisect.bisect_right([f.start for f in files], offset) - 1
    return files[at] if at >= 0 and offset < files[at].end else None


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
    files = view.files() if view.kind == "dir" else []
    result = GrepResult(pattern=pattern)
    prev_abs, line = view.start, 1
    for abs_start, abs_end in view.store.iter_matches(rx, view.start + start, view.start + end):
        result.total += 1
        if len(result.hits) < max_hits:
            # Running count: each hit only counts newlines since the previous one.
            line += index.newlines_between(prev_abs, abs_start)
            prev_abs = abs_start
            rel = abs_start - view.start
            file = _file_at(files, rel)
            result.hits.append(
                GrepHit(
                    line=line,
                    offset=rel,
                    chunk=layout.chunk_of(rel),
                    text=_snippet(view, rel, abs_end - view.start),
                    file=file.path if file else None,
                    scope=scope_of(view.read_bytes, rel, file.start if file else 0),
                )
            )
        if result.total >= COUNT_CAP:
            result.capped = True
            break
    result.truncated = result.total > len(result.hits)
    return result
