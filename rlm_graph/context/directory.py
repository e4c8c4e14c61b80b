"""A folder as one virtual text: each text file behind a ``=== file: REL/PATH ===`` header.

Files are opened on demand through a small LRU of mmaps, so a folder of thousands of files
never holds thousands of descriptors. Hidden entries are left out, and so are binary ones,
unless ``render`` makes text of them (a PDF's pages, a Latin-1 or compressed file): those are
read from their rendering.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import threading
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import NamedTuple

from rlm_graph.context.encodings import combined
from rlm_graph.context.regex import Pattern, scan
from rlm_graph.context.stores import ContextStore, FileEntry, _open_error, release_mapped
from rlm_graph.context.utf8 import looks_binary
from rlm_graph.errors import ContextError
from rlm_graph.state import ContextKind

SNIFF_BYTES = 8192
# Above this size a file enters the manifest by mtime instead of content hash, so opening a
# folder of huge files does not mean hashing all of them.
HASH_LIMIT = 64 << 20


def file_header(relpath: str) -> bytes:
    return f"=== file: {relpath} ===\n".encode()


def continued_header(relpath: str, line: int) -> str:
    """What a reader of a slice that starts inside a file is told first (never stored)."""
    return f"=== file: {relpath}, continued from its line {line:,} ===\n"


class _Member(NamedTuple):
    rel: str
    path: Path
    header_start: int
    start: int  # content start (after the header)
    end: int  # content end
    stop: int  # end plus the padding newline, if any
    rendered: ContextStore | None = None  # the text of a file that is not UTF-8 as it is


def _scan_file(path: Path) -> tuple[int, str, bool] | None:
    """(size, fingerprint, ends_with_newline) of a text file, or None if it is binary."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        head = f.read(SNIFF_BYTES)
        if looks_binary(head):
            return None
        if size <= HASH_LIMIT:
            digest = hashlib.sha256(head)
            while block := f.read(1 << 20):
                digest.update(block)
            fingerprint = digest.hexdigest()
        else:
            fingerprint = f"mtime:{os.fstat(f.fileno()).st_mtime_ns}"
        ends_nl = True
        if size:
            f.seek(size - 1)
            ends_nl = f.read(1) == b"\n"
    return size, fingerprint, ends_nl


def _walk_files(root: Path) -> tuple[list[tuple[str, Path]], list[str]]:
    """Non-hidden regular files under ``root`` sorted by relpath, plus unreadable dirs."""
    found: list[tuple[str, Path]] = []
    unreadable: list[str] = []

    def on_error(exc: OSError) -> None:
        unreadable.append(os.path.relpath(exc.filename or "?", root).replace(os.sep, "/"))

    for dirpath, dirnames, filenames in os.walk(root, onerror=on_error):
        # Prune in place so os.walk never descends into .git, .venv, ...
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if name.startswith("."):
                continue
            full = Path(dirpath) / name
            if full.is_file():
                found.append((full.relative_to(root).as_posix(), full))
    found.sort(key=lambda item: item[0])
    return found, unreadable


class DirectoryStore(ContextStore):
    """The text files of a folder (recursive) concatenated in relpath order."""

    kind: ContextKind = "dir"

    def __init__(
        self,
        path: str | os.PathLike[str],
        cache_size: int = 16,
        render: Callable[[Path], ContextStore | None] | None = None,
    ) -> None:
        super().__init__()
        try:
            root = Path(path).expanduser().resolve(strict=True)
        except OSError as exc:
            raise _open_error(path, exc) from exc
        if not root.is_dir():
            raise ContextError(f"context path is not a folder: {path}")
        self.uri = str(root)
        self.skipped: list[str] = []
        self._members: list[_Member] = []
        manifest = hashlib.sha256()
        found, unreadable = _walk_files(root)
        self.skipped.extend(unreadable)
        pos = 0
        for rel, full in found:
            try:
                scanned = _scan_file(full)
            except OSError:
                scanned = None  # unreadable files are skipped like binaries
            rendered = render(full) if scanned is None and render is not None else None
            if rendered is not None:
                last = rendered.read_bytes(rendered.size - 1, rendered.size)
                scanned = rendered.size, rendered.store_id, last in (b"", b"\n")
            if scanned is None:
                self.skipped.append(rel)
                continue
            size, fingerprint, ends_nl = scanned
            manifest.update(f"{rel}\0{size}\0{fingerprint}\n".encode())
            start = pos + len(file_header(rel))
            end = start + size
            stop = end if (ends_nl or size == 0) else end + 1
            self._members.append(_Member(rel, full, pos, start, end, stop, rendered))
            pos = stop
        self.size = pos
        self.store_id = manifest.hexdigest()
        # A Latin-1 file or a PDF among UTF-8 files: the start line and ``show`` say so.
        self.encoding = (
            combined(
                (m.rendered.encoding if m.rendered is not None else None) or "utf-8"
                for m in self._members
            )
            or "utf-8"
        )
        self._starts = [m.header_start for m in self._members]
        self._cache: OrderedDict[int, mmap.mmap] = OrderedDict()
        self._cache_size = cache_size
        self._cache_lock = threading.Lock()

    def files(self) -> list[FileEntry]:
        return [FileEntry(path=m.rel, start=m.start, end=m.end) for m in self._members]

    def parts(self) -> list[FileEntry]:
        out = []
        for m in self._members:
            pages = m.rendered.parts() if m.rendered is not None else []
            out.extend(
                page.model_copy(
                    update={"path": m.rel, "start": m.start + page.start, "end": m.start + page.end}
                )
                for page in pages
            )
            if not pages:
                out.append(FileEntry(path=m.rel, start=m.start, end=m.end))
        return out

    def read_bytes(self, start: int, end: int) -> bytes:
        start, end = self._clamp(start, end)
        parts: list[bytes] = []
        i = bisect_right(self._starts, start) - 1
        pos = start
        while pos < end and 0 <= i < len(self._members):
            m = self._members[i]
            if pos < m.start:  # inside the header
                header = file_header(m.rel)
                stop = min(end, m.start)
                parts.append(header[pos - m.header_start : stop - m.header_start])
                pos = stop
            elif pos < m.end:  # inside the file's content
                stop = min(end, m.end)
                parts.append(self._read_member(i, pos - m.start, stop - m.start))
                pos = stop
            elif pos < m.stop:  # the padding newline
                parts.append(b"\n")
                pos += 1
            else:
                i += 1
        return b"".join(parts)

    def _read_member(self, i: int, start: int, end: int) -> bytes:
        rendered = self._members[i].rendered
        if rendered is not None:
            return rendered.read_bytes(start, end)
        with self._cache_lock:  # eviction must not close an mmap another thread is slicing
            mm = self._cache.get(i)
            if mm is None:
                mm = self._map(self._members[i].path)
                self._cache[i] = mm
                if len(self._cache) > self._cache_size:
                    _, old = self._cache.popitem(last=False)
                    old.close()
            else:
                self._cache.move_to_end(i)
            return mm[start:end]

    @staticmethod
    def _map(path: Path) -> mmap.mmap:
        try:
            with open(path, "rb") as f:
                return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError) as exc:  # ValueError: the file was emptied meanwhile
            raise ContextError(f"context changed since it was opened: cannot read {path}") from exc

    def iter_matches(self, pattern: Pattern, start: int, end: int) -> Iterator[tuple[int, int]]:
        start, end = self._clamp(start, end)
        i = max(0, bisect_right(self._starts, start) - 1)
        # Search each file on its own so headers never match and matches never span files.
        for m in self._members[i:]:
            if m.header_start >= end:
                break
            lo, hi = max(start, m.start), min(end, m.end)
            if lo >= hi:
                continue
            if m.rendered is not None:
                for a, b in m.rendered.iter_matches(pattern, lo - m.start, hi - m.start):
                    yield m.start + a, m.start + b
                continue
            # A private mmap: a suspended generator must not see it closed by cache eviction.
            mm = self._map(m.path)
            try:
                release = partial(release_mapped, mm)
                for a, b in scan(pattern, mm, lo - m.start, hi - m.start, release):
                    yield m.start + a, m.start + b
            finally:
                mm.close()

    def close(self) -> None:
        with self._cache_lock:
            for mm in self._cache.values():
                mm.close()
            self._cache.clear()
        for m in self._members:
            if m.rendered is not None:
                m.rendered.close()
