"""A path as a store: a folder as a ``DirectoryStore``, a UTF-8 file memory-mapped as it is,
and anything else (another encoding, a PDF, a compressed file, an archive) rendered to UTF-8
once: the rendering is kept in the blob store, linked from the source's content hash, so a
resume or a follow-up turn on the same file never renders it again."""

from __future__ import annotations

import hashlib
import re
import stat
from pathlib import Path
from typing import Protocol

from rlm_graph.context.directory import SNIFF_BYTES, DirectoryStore
from rlm_graph.context.encodings import NO_ENCODING, SAMPLE_BYTES, detect_encoding
from rlm_graph.context.formats import Format, sniff
from rlm_graph.context.parts import PartsStore
from rlm_graph.context.stores import ContextStore, FileStore, _open_error
from rlm_graph.errors import ContextError

# Bump when a renderer's output changes: renderings cached by an older version are not reused.
RENDER_VERSION = "2"  # 2: an archive of mixed encodings names them
_NON_SPACE = re.compile(rb"\S")
_NOT_REGULAR = (
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


class RenderCache(Protocol):
    """What ``open_path`` needs of a blob store (see ``rlm_graph.blobs``)."""

    def open(self, store_id: str) -> ContextStore | None: ...

    def put(self, store: ContextStore) -> None: ...

    def linked(self, key: str) -> str | None: ...


def open_path(path: Path, blobs: RenderCache | None = None) -> ContextStore:
    """The store for a file or folder path; raises ContextError with one readable line."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise _open_error(path, exc) from exc
    if stat.S_ISDIR(mode):
        return _dir_store(path, blobs)
    for test, name in _NOT_REGULAR:
        # Opening a pipe with no writer would wait forever: refuse before opening anything.
        if test(mode):
            raise ContextError(
                f"context path is {name}, not a file: {path}; to read a stream, pipe it in "
                "with --context -"
            )
    try:
        with open(path, "rb") as f:
            head = f.read(max(SNIFF_BYTES, SAMPLE_BYTES))
    except OSError as exc:
        raise _open_error(path, exc) from exc
    fmt, found = sniff(head)
    codec = detect_encoding(head) if fmt == "text" else None
    if fmt == "binary" or (fmt == "text" and codec is None):
        found = found if fmt == "binary" else NO_ENCODING
        raise ContextError(f"context file looks binary ({found}): {path}")
    if codec == "utf-8":
        return _nonempty(FileStore(path), path)
    return _rendered(path, fmt, blobs)


def _rendered(path: Path, fmt: Format, blobs: RenderCache | None) -> ContextStore:
    from rlm_graph.context.archives import render_path  # only when a file needs it

    resolved = str(path.resolve())
    with open(path, "rb") as f:
        key = f"{hashlib.file_digest(f, 'sha256').hexdigest()}.{fmt}.v{RENDER_VERSION}"
    if blobs is not None and (store_id := blobs.linked(key)) is not None:
        cached = blobs.open(store_id)
        if isinstance(cached, PartsStore):
            cached.uri, cached.source_key = resolved, key
            return cached
        if cached is not None:
            cached.close()
    store = _nonempty(render_path(path, fmt, resolved, key), path)
    if blobs is not None:
        blobs.put(store)
    return store


def _nonempty(store: ContextStore, path: Path) -> ContextStore:
    files = store.files()
    empty = (
        all(f.size == 0 for f in files)
        if files
        else next(store.iter_matches(_NON_SPACE, 0, store.size), None) is None
    )
    if empty:
        store.close()
        raise ContextError(f"context is empty: {path}")
    return store


def _member(path: Path, blobs: RenderCache | None) -> ContextStore | None:
    """A folder's file that is not UTF-8 as it stands, rendered as one text (a PDF, another
    encoding, a compressed file); None for a binary, an archive or an unreadable file."""
    try:
        with open(path, "rb") as f:
            head = f.read(SAMPLE_BYTES)
        fmt, _ = sniff(head)
        if fmt in ("binary", "zip", "tar") or (fmt == "text" and detect_encoding(head) is None):
            return None  # a binary is known from its head, before it is hashed
        store = _rendered(path, fmt, blobs)
    except (ContextError, OSError):
        return None
    if store.kind != "file":  # a compressed tar: an archive inside a folder is not read
        store.close()
        return None
    return store


def _dir_store(path: Path, blobs: RenderCache | None) -> DirectoryStore:
    store = DirectoryStore(path, render=lambda member: _member(member, blobs))
    files = store.files()
    if not files:
        raise ContextError(
            f"context folder has no text files: {path} "
            f"({len(store.skipped):,} binary or unreadable files skipped)"
        )
    if all(f.size == 0 for f in files):
        raise ContextError(f"context is empty: {path} (all {len(files):,} text files are empty)")
    return store
