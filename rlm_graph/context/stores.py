"""Where a context's bytes live: in memory, in a memory-mapped file, or across a folder.

A store exposes one flat UTF-8 byte space. Nothing here ever loads a whole file into memory:
files are memory-mapped and read or searched in place.
"""

from __future__ import annotations

import contextlib
import hashlib
import mmap
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from rlm_graph.context.lines import LineIndex
from rlm_graph.context.regex import Pattern, scan
from rlm_graph.errors import ContextError
from rlm_graph.state import ContextKind, ContextRef


class FileEntry(BaseModel):
    """One file of a folder context: its content span (header excluded) in the byte space.

    Parts finer than a file (a PDF's pages) and the parts of a LangChain ``Document`` list carry
    their ``page`` and ``metadata`` too, so a citation can point back to where a person looks.
    """

    path: str
    start: int
    end: int
    page: int | None = None
    metadata: dict[str, Any] | None = None

    @property
    def size(self) -> int:
        return self.end - self.start


class ContextStore(ABC):
    """A read-only byte space with an id that changes whenever the content does."""

    store_id: str
    kind: ContextKind
    uri: str | None
    size: int
    # How the source's bytes were decoded into this UTF-8 byte space (shown to the user).
    encoding: str | None = "utf-8"
    # True when the bytes cannot be read again from ``uri`` as they are (text given directly,
    # decoded or extracted text): the blob store keeps them for a later turn or a resume.
    kept_in_blobs: bool = False

    def __init__(self) -> None:
        self._line_index: LineIndex | None = None
        self._index_lock = threading.Lock()

    @abstractmethod
    def read_bytes(self, start: int, end: int) -> bytes:
        """The bytes in ``[start, end)``, clamped to the store."""

    @abstractmethod
    def iter_matches(self, pattern: Pattern, start: int, end: int) -> Iterator[tuple[int, int]]:
        """Absolute spans of ``pattern`` matches inside ``[start, end)``, in order."""

    def files(self) -> list[FileEntry]:
        """Files of a folder context; other stores have none."""
        return []

    def parts(self) -> list[FileEntry]:
        """The finest named parts a citation can point to (a PDF's pages, else the files), in
        order; absolute spans."""
        return self.files()

    def what(self) -> str:
        """What the context is, for the model and the user (``file /a/b.txt``)."""
        if self.kind == "text":
            return "text (given directly)"
        if self.kind == "file":
            return f"file {self.uri}"
        return f"folder {self.uri} ({len(self.files()):,} text files)"

    def blob(self) -> ContextStore:
        """The store whose bytes are what the blob store keeps under ``store_id``."""
        return self

    def ref(self) -> ContextRef:
        """A reference to the whole store."""
        return ContextRef(
            store_id=self.store_id,
            kind=self.kind,
            uri=self.uri,
            start=0,
            end=self.size,
            encoding=self.encoding,
        )

    def line_index(self) -> LineIndex:
        """The store's line index, built on first use and shared by every view of the store."""
        with self._index_lock:  # two threads asking at once must not both scan a huge file
            if self._line_index is None:
                self._line_index = LineIndex(self.read_bytes, self.size, self.release_pages)
            return self._line_index

    def release_pages(self, start: int, end: int) -> None:
        """A hint that ``[start, end)`` will not be read again soon (a long scan is past it)."""
        return None

    def close(self) -> None:
        """Release OS resources (mmaps, file handles); nothing to do for in-memory text."""
        return None

    def _clamp(self, start: int, end: int) -> tuple[int, int]:
        start = max(0, min(start, self.size))
        return start, max(start, min(end, self.size))


class TextStore(ContextStore):
    """A context held in memory (text passed directly by the caller)."""

    kind: ContextKind = "text"
    kept_in_blobs = True

    def __init__(self, text: str | bytes) -> None:
        super().__init__()
        data = text.encode("utf-8", errors="replace") if isinstance(text, str) else bytes(text)
        self._data = data
        self.size = len(data)
        self.store_id = hashlib.sha256(data).hexdigest()
        self.uri = None

    def read_bytes(self, start: int, end: int) -> bytes:
        start, end = self._clamp(start, end)
        return self._data[start:end]

    def iter_matches(self, pattern: Pattern, start: int, end: int) -> Iterator[tuple[int, int]]:
        start, end = self._clamp(start, end)
        yield from scan(pattern, self._data, start, end)


def release_mapped(mm: mmap.mmap, start: int, end: int) -> None:
    """Hand the pages of ``mm[start:end]`` back to the OS: a scan of a 1 GB file then keeps
    one block resident, not the whole file. Reading them again just maps them back in."""
    if not hasattr(mmap, "MADV_DONTNEED"):
        return
    first = start - start % mmap.PAGESIZE
    if end > first:
        with contextlib.suppress(OSError, ValueError):  # advice only: never worth failing over
            mm.madvise(mmap.MADV_DONTNEED, first, end - first)


def _open_error(path: str | os.PathLike[str], exc: OSError) -> ContextError:
    """One readable line for an OS error while opening a context path."""
    if isinstance(exc, FileNotFoundError):
        return ContextError(f"context file not found: {path}")
    if isinstance(exc, PermissionError):
        return ContextError(f"cannot read context {path}: permission denied")
    return ContextError(f"cannot read context {path}: {exc.strerror or exc}")


class FileStore(ContextStore):
    """A single file, memory-mapped read-only; regex and line counting run on the mmap."""

    kind: ContextKind = "file"

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__()
        try:
            resolved = Path(path).expanduser().resolve(strict=True)
        except OSError as exc:
            raise _open_error(path, exc) from exc
        if not resolved.is_file():
            raise ContextError(f"context path is not a regular file: {path}")
        self.uri = str(resolved)
        self._mm: mmap.mmap | None = None
        try:
            with open(resolved, "rb") as f:
                self.size = os.fstat(f.fileno()).st_size
                # file_digest streams in small buffers: hashing 1 GB needs no 1 GB buffer.
                self.store_id = hashlib.file_digest(f, "sha256").hexdigest()
                if self.size:  # mmap refuses empty files
                    self._mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except OSError as exc:
            raise _open_error(path, exc) from exc

    def read_bytes(self, start: int, end: int) -> bytes:
        start, end = self._clamp(start, end)
        if self._mm is None or start == end:
            return b""
        return self._mm[start:end]

    def iter_matches(self, pattern: Pattern, start: int, end: int) -> Iterator[tuple[int, int]]:
        start, end = self._clamp(start, end)
        if self._mm is None:
            return
        yield from scan(pattern, self._mm, start, end, self.release_pages)

    def release_pages(self, start: int, end: int) -> None:
        if self._mm is not None:
            release_mapped(self._mm, start, end)

    def close(self) -> None:
        if self._mm is not None:
            self._mm.close()
            self._mm = None
