"""Contexts made from a source that is not UTF-8 text as it stands: decoded text, PDF pages,
archive members, LangChain Documents.

A ``PartsWriter`` streams the UTF-8 rendering to a file (memory stays one block, whatever the
size) and ends it with a JSON trailer naming its parts; the file, trailer included, is the
blob the blob store keeps, so a ``PartsStore``'s id is the sha256 of exactly what is stored
and a resume or a follow-up turn reopens it without rendering again. The layout follows a
folder's: each file behind a ``=== file: PATH ===`` line, each page behind ``=== page N ===``.
"""

from __future__ import annotations

import contextlib
import os
import struct
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from rlm_graph.context.directory import file_header
from rlm_graph.context.regex import Pattern
from rlm_graph.context.stores import ContextStore, FileEntry, FileStore
from rlm_graph.errors import ContextError

MAGIC = b"\n\x00rlm-graph parts 1\x00\n"
_LENGTH = struct.Struct("<Q")


class ExpansionError(ContextError):
    """A source expands past its limit (a zip bomb): it ends the whole rendering."""


def page_header(number: int) -> bytes:
    return f"=== page {number} ===\n".encode()


class PartsHeader(BaseModel):
    """The trailer of a rendering: what it came from and where its parts stand."""

    kind: Literal["file", "dir"]
    noun: str = Field(description="what it is: file, archive, documents")
    source: str = Field(description="a few words: 'PDF, 3 pages', 'tar.gz archive, 12 files'")
    encoding: str | None = None
    files: list[FileEntry] = Field(default_factory=list)
    pages: list[FileEntry] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list)


class PartsStore(ContextStore):
    """A rendering: the UTF-8 body of a blob (a file or bytes) with its parts."""

    kept_in_blobs = True

    def __init__(
        self,
        inner: ContextStore,
        header: PartsHeader,
        body_size: int,
        uri: str | None = None,
        source_key: str | None = None,
    ) -> None:
        super().__init__()
        self.inner = inner
        self.header = header
        self.store_id = inner.store_id
        self.kind = header.kind
        self.size = body_size
        self.uri = uri
        self.encoding = header.encoding
        self.skipped = header.skipped
        # The raw source's key (sha256 + renderer version): the blob store links it to this
        # rendering, so opening the same source again finds it without rendering.
        self.source_key = source_key

    def read_bytes(self, start: int, end: int) -> bytes:
        start, end = self._clamp(start, end)
        return self.inner.read_bytes(start, end)

    def iter_matches(self, pattern: Pattern, start: int, end: int) -> Iterator[tuple[int, int]]:
        start, end = self._clamp(start, end)
        yield from self.inner.iter_matches(pattern, start, end)

    def files(self) -> list[FileEntry]:
        return list(self.header.files) if self.kind == "dir" else []

    def parts(self) -> list[FileEntry]:
        files, pages = self.header.files, self.header.pages
        if not (files and pages):
            return list(files or pages)
        out: list[FileEntry] = []
        for f in files:  # a PDF in an archive stands for its pages
            inside = [p for p in pages if f.start <= p.start < f.end]
            out.extend(inside or [f])
        return out

    def what(self) -> str:
        named = " ".join(part for part in (self.header.noun, self.uri) if part)
        return f"{named} ({self.header.source})"

    def blob(self) -> ContextStore:
        return self.inner

    def release_pages(self, start: int, end: int) -> None:
        self.inner.release_pages(start, end)

    def close(self) -> None:
        self.inner.close()


def load_parts(
    inner: ContextStore, uri: str | None = None, source_key: str | None = None
) -> PartsStore | None:
    """``inner`` read as a rendering, or None when it is plain text (no trailer)."""
    tail = len(MAGIC) + _LENGTH.size
    if inner.size < tail or inner.read_bytes(inner.size - len(MAGIC), inner.size) != MAGIC:
        return None
    (length,) = _LENGTH.unpack(inner.read_bytes(inner.size - tail, inner.size - len(MAGIC)))
    body_size = inner.size - tail - length
    if body_size < 0:
        return None
    header = PartsHeader.model_validate_json(inner.read_bytes(body_size, body_size + length))
    return PartsStore(inner, header, body_size, uri=uri, source_key=source_key)


class PartsWriter:
    """Writes a rendering block by block; ``finish`` turns it into a ``PartsStore``.

    ``limit`` caps the body's size: a small archive that expands past it is refused (a zip
    bomb) before it fills the disk. Use as a context manager so a failure removes the file.
    """

    def __init__(self, what: str, limit: int | None = None) -> None:
        self.what = what
        self.limit = limit
        fd, name = tempfile.mkstemp(prefix="rlm-graph-render-")
        self.path = Path(name)
        self._out = os.fdopen(fd, "wb")
        self.pos = 0
        self.files: list[FileEntry] = []
        self.pages: list[FileEntry] = []
        self.skipped: list[str] = []
        self._last = b"\n"

    def __enter__(self) -> PartsWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self._out.close()
        with contextlib.suppress(OSError):
            self.path.unlink()

    def write(self, data: bytes) -> None:
        if not data:
            return
        if self.limit is not None and self.pos + len(data) > self.limit:
            raise ExpansionError(
                f"{self.what} expands past {self.limit:,} bytes of text: refused (a zip bomb, "
                "or an archive too big to read)"
            )
        self._out.write(data)
        self.pos += len(data)
        self._last = data[-1:]

    def mark(self) -> tuple[int, int, int, bytes]:
        return self.pos, len(self.files), len(self.pages), self._last

    def rollback(self, mark: tuple[int, int, int, bytes]) -> None:
        """Forget what was written since ``mark`` (a member that failed half-way)."""
        self.pos, files, pages, self._last = mark
        del self.files[files:], self.pages[pages:]
        self._out.seek(self.pos)
        self._out.truncate()

    def part(
        self,
        path: str,
        blocks: Iterable[bytes],
        header: bytes,
        page: int | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> FileEntry:
        """Write ``header``, the content, and a newline if it lacks one; the content's span."""
        self.write(header)
        start = self.pos
        for block in blocks:
            self.write(block)
        end = self.pos
        if end > start and self._last != b"\n":
            self.write(b"\n")  # the next header starts on its own line
        return FileEntry(path=path, start=start, end=end, page=page, metadata=metadata)

    def add_file(
        self, path: str, blocks: Iterable[bytes], metadata: dict[str, Any] | None = None
    ) -> FileEntry:
        entry = self.part(path, blocks, file_header(path), metadata=metadata)
        self.files.append(entry)
        return entry

    def add_pages(self, path: str, pages: Iterable[str], in_folder: bool) -> int:
        """A paged document (a PDF): each page behind its own heading; the page count.

        In a folder the document is a file too, behind its file header.
        """
        if in_folder:
            self.write(file_header(path))
        start, count = self.pos, 0
        for count, text in enumerate(pages, start=1):
            self.pages.append(self.part(path, [text.encode("utf-8")], page_header(count), count))
        if in_folder:
            self.files.append(FileEntry(path=path, start=start, end=self.pos))
        return count

    def finish(
        self,
        kind: Literal["file", "dir"],
        noun: str,
        source: str,
        encoding: str | None = None,
        uri: str | None = None,
        source_key: str | None = None,
    ) -> PartsStore:
        header = PartsHeader(
            kind=kind,
            noun=noun,
            source=source,
            encoding=encoding,
            files=self.files,
            pages=self.pages,
            skipped=self.skipped,
        )
        trailer = header.model_dump_json(exclude_defaults=True).encode()
        self._out.write(trailer + _LENGTH.pack(len(trailer)) + MAGIC)
        self._out.close()
        # Mapped, then unlinked: the file lives as long as the store, and no longer.
        inner = FileStore(self.path)
        with contextlib.suppress(OSError):
            self.path.unlink()
        store = load_parts(inner, uri=uri, source_key=source_key)
        assert store is not None  # we just wrote its trailer
        return store
