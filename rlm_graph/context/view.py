"""ContextView: the slice of a context one node works on, with offsets relative to the slice.

A child sees its slice as its whole context: chunk numbers, line numbers and ``chars:`` offsets
all start from the beginning of the slice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rlm_graph.context.chunking import Chunking, ChunkLayout
from rlm_graph.context.directory import continued_header, file_header
from rlm_graph.context.sections import Section, find_sections
from rlm_graph.context.stores import ContextStore, FileEntry
from rlm_graph.context.targets import TARGET_FORMS, Target, parse_target
from rlm_graph.context.utf8 import decode, snap_forward
from rlm_graph.errors import ContextError, TargetError
from rlm_graph.state import ContextRef

if TYPE_CHECKING:
    from rlm_graph.context.grep import GrepResult

# Counting lines of a bigger slice means a full pass over it; describe() skips that.
LINE_COUNT_LIMIT = 64 << 20
MAX_LISTED_FILES = 20  # in "file not found" errors
_DEFAULT = Chunking()


class ContextView:
    """A ContextRef bound to its store."""

    def __init__(self, store: ContextStore, ref: ContextRef | None = None) -> None:
        ref = ref if ref is not None else store.ref()
        if ref.store_id != store.store_id:
            raise ContextError(
                f"context reference {ref.store_id[:12]} does not belong to store {store.store_id[:12]}"
            )
        if not 0 <= ref.start <= ref.end <= store.size:
            raise ContextError(
                f"context slice {ref.start}-{ref.end} lies outside the context (size {store.size})"
            )
        self.store = store
        self.ref = ref
        self.start = ref.start
        self.end = ref.end
        self._layouts: dict[Chunking, ChunkLayout] = {}
        self._sections: list[Section] | None = None

    # ----- basics -------------------------------------------------------------------------
    @property
    def size(self) -> int:
        return self.end - self.start

    @property
    def kind(self) -> str:
        return self.store.kind

    @property
    def whole_folder(self) -> bool:
        """The view is a whole folder (the REPL's ``context`` is then file name -> text)."""
        return self.kind == "dir" and self.start == 0 and self.end == self.store.size

    def approx_tokens(self, chunking: Chunking | None = None) -> int:
        return (chunking or _DEFAULT).tokens(self.size)

    def read_bytes(self, start: int = 0, end: int | None = None) -> bytes:
        """Raw bytes of ``[start, end)`` relative to the slice, clamped to it."""
        start, end = self._clamp(start, end)
        return self.store.read_bytes(self.start + start, self.start + end)

    def text(self, start: int = 0, end: int | None = None) -> str:
        """Decoded text of ``[start, end)``; edges move forward to whole UTF-8 characters."""
        start, end = self._clamp(start, end)
        start = snap_forward(self.read_bytes, start, self.size)
        end = snap_forward(self.read_bytes, end, self.size)
        return decode(self.read_bytes(start, end))

    def reader_text(self) -> str:
        """The slice's text as a reader gets it: in a folder, a slice that starts inside a file
        first says which file (the file's own header line stands where the file begins, maybe
        chunks earlier, or just before a ``file:`` slice), so its reader can say where it read."""
        text = self.text()
        if self.kind != "dir" or self.size == 0:
            return text
        inside = next(
            (f for f in self.store.files() if f.start <= self.start < f.end),
            None,
        )
        if inside is None:
            return text  # it starts at (or inside) a file's header line
        if inside.start == self.start:  # the header stands just before the slice
            return file_header(inside.path).decode() + text
        line = self.store.line_index().newlines_between(inside.start, self.start) + 1
        return continued_header(inside.path, line) + text

    def _clamp(self, start: int, end: int | None) -> tuple[int, int]:
        end = self.size if end is None else end
        start = max(0, min(start, self.size))
        return start, max(start, min(end, self.size))

    # ----- lines --------------------------------------------------------------------------
    def line_count(self) -> int:
        """Lines in the slice (a last line without a trailing newline counts)."""
        if self.size == 0:
            return 0
        n = self.store.line_index().newlines_between(self.start, self.end)
        if self.store.read_bytes(self.end - 1, self.end) != b"\n":
            n += 1
        return n

    def line_of(self, offset: int) -> int:
        """1-based line number holding the relative byte ``offset``."""
        offset = max(0, min(offset, self.size))
        return 1 + self.store.line_index().newlines_between(self.start, self.start + offset)

    def line_span(self, a: int, b: int) -> tuple[int, int]:
        """Relative ``(start, end)`` of lines ``a..b`` (1-based, inclusive, end after newline)."""
        total = self.line_count()
        label = f"lines:{a}-{b}"
        if a < 1:
            raise TargetError(f"{label}: lines are numbered from 1; use lines:1-{max(1, b)}")
        if a > b:
            raise TargetError(f"{label} is reversed: write lines:{b}-{a}")
        if b > total:
            raise TargetError(
                f"{label} is out of range: this context has {total:,} lines (lines:1-{total})"
            )
        index = self.store.line_index()
        base = index.newlines_before(self.start)  # newlines before the slice
        start = 0
        if a > 1:
            nl = index.nth_newline(base + a - 2)
            start = self.size if nl is None else min(self.size, nl + 1 - self.start)
        nl = index.nth_newline(base + b - 1)
        end = self.size if nl is None else min(self.size, nl + 1 - self.start)
        return start, end

    # ----- chunks -------------------------------------------------------------------------
    def layout(self, chunking: Chunking | None = None) -> ChunkLayout:
        chunking = chunking or _DEFAULT
        layout = self._layouts.get(chunking)
        if layout is None:
            layout = self._layouts[chunking] = ChunkLayout(self.read_bytes, self.size, chunking)
        return layout

    def chunk_count(self, chunking: Chunking | None = None) -> int:
        return self.layout(chunking).count

    def chunk_span(self, i: int, chunking: Chunking | None = None) -> tuple[int, int]:
        return self.layout(chunking).span(i)

    def chunk_of(self, offset: int, chunking: Chunking | None = None) -> int:
        return self.layout(chunking).chunk_of(offset)

    # ----- files --------------------------------------------------------------------------
    def sections(self) -> list[Section]:
        """The slice's parts by its headings (its files for a folder); see ``sections``."""
        if self._sections is None:
            self._sections = find_sections(self)
        return self._sections

    def files(self) -> list[FileEntry]:
        """Files overlapping the slice, with spans relative to (and clipped to) the slice."""
        out = []
        for f in self.store.files():
            lo, hi = max(f.start, self.start), min(f.end, self.end)
            if lo < hi or (f.start == f.end and self.start <= f.start < self.end):
                out.append(FileEntry(path=f.path, start=lo - self.start, end=hi - self.start))
        return out

    def _find_file(self, path: str) -> FileEntry:
        if self.kind != "dir":
            raise TargetError(
                f"file:{path} only works on folder contexts; this context is one {self.kind}: "
                "use all, chunk:N, chunks:N-M, chars:A-B or lines:A-B"
            )
        files = self.files()
        exact = [f for f in files if f.path == path]
        if exact:
            return exact[0]
        # Models often drop leading folders: accept a unique suffix, then a unique
        # case-insensitive match.
        for matches in (
            [f for f in files if f.path.endswith("/" + path)],
            [f for f in files if f.path.lower() == path.lower()],
            [f for f in files if f.path.lower().endswith("/" + path.lower())],
        ):
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                names = ", ".join(f"file:{f.path}" for f in matches[:MAX_LISTED_FILES])
                raise TargetError(f"file:{path} is ambiguous; it matches {names}")
        names = ", ".join(f.path for f in files[:MAX_LISTED_FILES])
        more = (
            f" (and {len(files) - MAX_LISTED_FILES:,} more)"
            if len(files) > MAX_LISTED_FILES
            else ""
        )
        raise TargetError(f"file:{path} not found; files: {names}{more}")

    # ----- targets ------------------------------------------------------------------------
    def span_of(self, target: Target, chunking: Chunking | None = None) -> tuple[int, int]:
        """Relative ``(start, end)`` of a parsed target, validated against this slice."""
        if target.kind == "all":
            return 0, self.size
        if target.kind == "none":
            return 0, 0
        if target.kind == "file":
            entry = self._find_file(target.path or "")
            return entry.start, entry.end
        a, b = target.a or 0, target.b or 0
        if target.kind == "section":
            sections = self.sections()
            if not sections:
                raise TargetError(
                    f"{target.label}: this context has no sections (no heading lines found)"
                )
            if not 1 <= a <= b <= len(sections):
                raise TargetError(
                    f"{target.label} is out of range: this context has section:1 to "
                    f"section:{len(sections)}"
                )
            return sections[a - 1].start, sections[b - 1].end
        if target.kind == "lines":
            return self.line_span(a, b)
        if target.kind == "chars":
            if a >= b:
                raise TargetError(
                    f"chars:{a}-{b} is empty or reversed: use chars:A-B with A < B "
                    "(A inclusive, B exclusive)"
                )
            if b > self.size:
                raise TargetError(
                    f"chars:{a}-{b} is out of range: this context has {self.size:,} chars "
                    f"(chars:0-{self.size})"
                )
            # Snap to whole characters so a child never starts mid-character.
            return snap_forward(self.read_bytes, a, self.size), snap_forward(
                self.read_bytes, b, self.size
            )
        layout = self.layout(chunking)
        if target.kind == "chunks" and a > b:
            raise TargetError(f"chunks:{a}-{b} is reversed: write chunks:{b}-{a}")
        if not (0 <= a < layout.count and 0 <= b < layout.count):
            raise TargetError(
                f"{target.label} is out of range: this context has {layout.describe_range()}"
            )
        return layout.span(a)[0], layout.span(b)[1]

    def parse(self, target: str) -> Target:
        """Parse a target; ``file:`` paths become the full relpath they matched (for labels)."""
        parsed = parse_target(target)
        if parsed.kind == "file":
            parsed = parsed.model_copy(update={"path": self._find_file(parsed.path or "").path})
        return parsed

    def resolve(self, target: str, chunking: Chunking | None = None) -> ContextRef:
        """The absolute ContextRef a target string names inside this slice."""
        parsed = self.parse(target)
        start, end = self.span_of(parsed, chunking)
        return ContextRef(
            store_id=self.ref.store_id,
            kind=self.ref.kind,
            uri=self.ref.uri,
            start=self.start + start,
            end=self.start + end,
            label=parsed.label,
        )

    def child(self, target: str, chunking: Chunking | None = None) -> ContextView:
        """A view of the slice a target names (what a child call works on)."""
        return ContextView(self.store, self.resolve(target, chunking))

    # ----- rendering for the model ----------------------------------------------------------
    def span_header(self, label: str, start: int, end: int) -> str:
        """E.g. ``[chunk:3 | lines 120-180 of 4,210 | chars 5,000-7,000 of 50,000]``."""
        if start >= end:
            return f"[{label} | empty span]"
        parts = [label]
        if self.kind == "dir":
            names = [f.path for f in self.files() if f.start < end and start < f.end]
            if len(names) == 1:
                parts.append(f"file {names[0]}")
            elif names:
                parts.append(f"files {names[0]} .. {names[-1]} ({len(names)})")
        lo, hi = self.start + start, self.start + end
        pages = [
            p.page for p in self.store.parts() if p.page is not None and p.start < hi and lo < p.end
        ]
        if pages:
            parts.append(f"page {pages[0]}" if len(pages) == 1 else f"pages {pages[0]}-{pages[-1]}")
        first, last = self.line_of(start), self.line_of(end - 1)
        parts.append(f"lines {first:,}-{last:,} of {self.line_count():,}")
        parts.append(f"chars {start:,}-{end:,} of {self.size:,}")
        return "[" + " | ".join(parts) + "]"

    def peek(
        self, target: str = "all", chunking: Chunking | None = None, max_chars: int = 2000
    ) -> str:
        """A header naming the span, then at most ``max_chars`` bytes of its text."""
        parsed = self.parse(target)
        start, end = self.span_of(parsed, chunking)
        header = self.span_header(parsed.label, start, end)
        shown_end = snap_forward(self.read_bytes, min(end, start + max(0, max_chars)), end)
        body = self.text(start, shown_end)
        if shown_end >= end:
            return f"{header}\n{body}"
        rest = end - shown_end
        hint = f"chars:{shown_end}-{min(end, shown_end + max_chars)}"
        return (
            f"{header}\n{body}\n[... {rest:,} more chars not shown; narrow the target, e.g. {hint}]"
        )

    def grep(
        self,
        pattern: str,
        chunking: Chunking | None = None,
        target: str = "all",
        max_hits: int = 50,
    ) -> GrepResult:
        """Case-insensitive regex search; see rlm_graph.context.grep."""
        from rlm_graph.context.grep import grep_view  # grep builds on views

        return grep_view(self, pattern, chunking, target=target, max_hits=max_hits)

    def describe(self, chunking: Chunking | None = None, preview_chars: int = 300) -> str:
        """A few lines telling the model what this context is and how to address it."""
        chunking = chunking or _DEFAULT
        layout = self.layout(chunking)
        what = self.store.what()
        if self.ref.label != "all" or self.size != self.store.size:
            what += f", slice {self.ref.label}"
        lines = (
            f"{self.line_count():,} lines"
            if self.size <= LINE_COUNT_LIMIT
            else "lines not counted (over 64 MiB)"
        )
        out = [
            f"Context: {what}",
            f"Size: {self.size:,} chars (bytes), about {self.approx_tokens(chunking):,} tokens, "
            f"{lines}",
            f"Chunks: {layout.describe_range()}, each about {chunking.chunk_tokens:,} tokens "
            f"with {chunking.overlap_tokens:,} tokens overlap",
            f"Targets: {TARGET_FORMS}",
        ]
        if preview_chars > 0 and self.size:
            preview_end = snap_forward(self.read_bytes, min(self.size, preview_chars), self.size)
            more = " ..." if preview_end < self.size else ""
            out.append(f"Preview (first {preview_end:,} chars):")
            out.append(self.text(0, preview_end) + more)
        if self.kind == "dir":
            out.extend(self._describe_files(layout))
        elif sections := self.sections():
            out.extend(self._describe_sections(sections))
        return "\n".join(out)

    def _describe_sections(self, sections: list[Section], limit: int = 20) -> list[str]:
        out = [f"Sections ({len(sections)}, by their heading lines; target section:N):"]
        for s in sections[:limit]:
            out.append(
                f"  {s.label}  {s.title!r}  line {self.line_of(s.heading):,}, {s.end - s.start:,} chars"
            )
        if len(sections) > limit:
            out.append(f"  ... {len(sections) - limit:,} more sections")
        return out

    def _describe_files(self, layout: ChunkLayout, limit: int = 50) -> list[str]:
        files = self.files()
        out = [f"Files ({len(files):,}):"]
        for f in files[:limit]:
            first, last = layout.chunks_for(f.start, f.end)
            chunks = f"chunk:{first}" if first == last else f"chunks:{first}-{last}"
            out.append(f"  {f.path}  {f.size:,} chars  {chunks}")
        if len(files) > limit:
            out.append(f"  ... {len(files) - limit:,} more files")
        skipped = getattr(self.store, "skipped", [])
        if skipped and self.size == self.store.size:
            out.append(f"({len(skipped):,} binary or unreadable files skipped)")
        return out
