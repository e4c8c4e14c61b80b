"""The parts a text is divided into: found from its heading lines, so that a question about
every part ("For each essay, say what it is about") can give each part its own call.

A heading is a line of one of a few shapes that documents use (``=== Essay 2 ===``, a
Markdown ``#``/``##`` heading, ``Chapter 3``/``Part II``/``Section 4 ...``). The first shape
with at least two and at most ``MAX_SECTIONS`` lines in the slice wins; every part runs from
its heading to the next one, and the first also takes what stands before it. A folder's parts
are its files. Parts are addressed as ``section:N`` (from 1).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel

from rlm_graph.context.regex import compile_pattern
from rlm_graph.context.utf8 import decode

if TYPE_CHECKING:
    from rlm_graph.context.view import ContextView

MAX_SECTIONS = 64
# Heading shapes, most explicit first (RE2, case-insensitive, ``^``/``$`` per line).
HEADING_SHAPES = (
    r"^[ \t]*={2,}[ \t]*[^=\s][^\n]{0,120}?={2,}[ \t]*$",
    r"^#{1,2}[ \t]+\S[^\n]{0,120}$",
    r"^[ \t]*(?:chapter|part|section|essay|article|book|appendix)[ \t]+(?:\d+|[ivxlc]+)\b[^\n]{0,100}$",
)
TITLE_CHARS = 80


class Section(BaseModel):
    """One part of a slice: its number (from 1), title, span and heading's offset, relative to
    the slice."""

    number: int
    title: str
    start: int
    end: int
    heading: int

    @property
    def label(self) -> str:
        return f"section:{self.number}"


def find_sections(view: ContextView) -> list[Section]:
    """The slice's parts (its files for a folder), or ``[]`` when it has fewer than two."""
    if view.kind == "dir":
        files = view.files()
        if 2 <= len(files) <= MAX_SECTIONS:
            return [
                Section(
                    number=i,
                    title=f.path,
                    start=0 if i == 1 else f.start,
                    end=f.end,
                    heading=f.start,
                )
                for i, f in enumerate(files, start=1)
            ]
        return []
    for shape in HEADING_SHAPES:
        starts = _heading_starts(view, shape)
        if 2 <= len(starts) <= MAX_SECTIONS:
            ends = [*starts[1:], view.size]
            return [
                Section(number=i, title=_title(view, a), start=0 if i == 1 else a, end=b, heading=a)
                for i, (a, b) in enumerate(zip(starts, ends, strict=True), start=1)
            ]
    return []


def _heading_starts(view: ContextView, shape: str) -> list[int]:
    rx = compile_pattern(shape)
    starts: list[int] = []
    for abs_start, _ in view.store.iter_matches(rx, view.start, view.end):
        starts.append(abs_start - view.start)
        if len(starts) > MAX_SECTIONS:
            break
    return starts


def _title(view: ContextView, start: int) -> str:
    line = decode(view.read_bytes(start, start + 4 * TITLE_CHARS)).split("\n", 1)[0]
    title = line.strip().strip("=#").strip()
    return title[:TITLE_CHARS] or line.strip()[:TITLE_CHARS]


def pieces(view: ContextView, start: int, end: int, max_bytes: int) -> list[tuple[int, int]]:
    """``[start, end)`` cut into spans of at most ``max_bytes``, at line ends where one is
    near: the parts of a section too long for one call, in order."""
    out: list[tuple[int, int]] = []
    while end - start > max_bytes:
        cut = start + max_bytes
        newline = view.read_bytes(start + max_bytes // 2, cut).rfind(b"\n")
        if newline >= 0:
            cut = start + max_bytes // 2 + newline + 1
        out.append((start, cut))
        start = cut
    if end > start:
        out.append((start, end))
    return out
