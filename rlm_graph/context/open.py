"""open_context: turn what a user passed (text, bytes, a file or folder path) into a view."""

from __future__ import annotations

import os
import re
from pathlib import Path

from rlm_graph.context.directory import SNIFF_BYTES, DirectoryStore
from rlm_graph.context.registry import ContextRegistry
from rlm_graph.context.stores import ContextStore, FileStore, TextStore, _open_error
from rlm_graph.context.utf8 import looks_binary
from rlm_graph.context.view import ContextView
from rlm_graph.errors import ContextError

_NON_SPACE = re.compile(rb"\S")
# Strings that are clearly meant as a path: a short final extension, or an explicit prefix.
_EXTENSION = re.compile(r"\.[A-Za-z][A-Za-z0-9]{0,5}$")
_PATH_PREFIX = re.compile(r"^(?:~?[\\/]|\.{1,2}[\\/]|[A-Za-z]:[\\/])")
_MAX_PATH_CHARS = 1024


def looks_like_path(text: str) -> bool:
    """Judge whether a string that names no existing path was meant as one (a typo'd path).

    A single short line with no spaces that has a separator or a file extension
    (``data/log.txt``, ``notes.md``), or that starts like a path (``/``, ``./``, ``~/``, ``C:\\``)
    or contains a separator and ends in an extension even with spaces (``My Docs/a.txt``).
    """
    s = text.strip()
    if not s or "\n" in text or len(s) >= _MAX_PATH_CHARS:
        return False
    has_sep = "/" in s or "\\" in s
    has_ext = bool(_EXTENSION.search(s))
    if not any(c.isspace() for c in s):
        return has_sep or has_ext or bool(_PATH_PREFIX.match(s))
    return (has_sep or bool(_PATH_PREFIX.match(s))) and has_ext


def _existing_path(text: str) -> Path | None:
    if "\n" in text or not text.strip() or len(text) >= 4096:
        return None
    try:
        path = Path(text.strip()).expanduser()
        return path if path.exists() else None
    except (OSError, ValueError):  # name too long, embedded NUL, ...
        return None


def _text_store(data: str | bytes, what: str) -> TextStore:
    if not data.strip():
        raise ContextError(f"context is empty: {what} is blank")
    if isinstance(data, bytes) and looks_binary(data[:SNIFF_BYTES]):
        raise ContextError(f"context looks binary (not UTF-8 text): {what}")
    return TextStore(data)


def _file_store(path: Path) -> FileStore:
    # Sniff before FileStore hashes the whole file: a binary file fails fast.
    try:
        with open(path, "rb") as f:
            head = f.read(SNIFF_BYTES)
    except OSError as exc:
        raise _open_error(path, exc) from exc
    if looks_binary(head):
        raise ContextError(f"context file looks binary (not UTF-8 text): {path}")
    store = FileStore(path)
    if next(store.iter_matches(_NON_SPACE, 0, store.size), None) is None:
        store.close()
        raise ContextError(f"context is empty: {path}")
    return store


def _dir_store(path: Path) -> DirectoryStore:
    store = DirectoryStore(path)
    files = store.files()
    if not files:
        raise ContextError(
            f"context folder has no text files: {path} "
            f"({len(store.skipped):,} binary or unreadable files skipped)"
        )
    if all(f.size == 0 for f in files):
        raise ContextError(f"context is empty: {path} (all {len(files):,} text files are empty)")
    return store


def _path_store(path: Path) -> ContextStore:
    if path.is_dir():
        return _dir_store(path)
    if not path.exists():
        raise ContextError(f"context file not found: {path}")
    return _file_store(path)


def open_context(
    source: str | os.PathLike[str] | bytes,
    registry: ContextRegistry | None = None,
) -> ContextView:
    """Open text, bytes, a file or a folder as a context; register it when given a registry.

    A ``str`` naming an existing path opens that path; a ``str`` that looks like a path but
    names nothing is an error (better than silently answering questions about a file name);
    any other ``str`` is the context text itself.
    """
    store: ContextStore
    if isinstance(source, bytes | bytearray | memoryview):
        store = _text_store(bytes(source), "the given bytes")
    elif isinstance(source, os.PathLike):
        store = _path_store(Path(source).expanduser())
    elif isinstance(source, str):
        path = _existing_path(source)
        if path is not None:
            store = _path_store(path)
        elif looks_like_path(source):
            raise ContextError(f"context file not found: {source.strip()}")
        else:
            store = _text_store(source, "the given text")
    else:
        raise ContextError(
            f"cannot use a {type(source).__name__} as a context: pass text, bytes or a path"
        )
    if registry is not None:
        registry.register(store)
    return ContextView(store)
