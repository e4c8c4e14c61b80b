"""open_context: turn what a user passed (text, bytes, a file or folder path) into a view."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rlm_graph.context.documents import documents_store, is_documents
from rlm_graph.context.encodings import (
    NO_ENCODING,
    SAMPLE_BYTES,
    decode_stream,
    detect_encoding,
    display_name,
)
from rlm_graph.context.formats import sniff
from rlm_graph.context.paths import open_path
from rlm_graph.context.registry import ContextRegistry
from rlm_graph.context.stores import ContextStore, TextStore
from rlm_graph.context.view import ContextView
from rlm_graph.errors import ContextError

if TYPE_CHECKING:
    from langchain_core.documents import Document

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


def _text_store(data: str | bytes, what: str) -> ContextStore:
    if not data.strip():
        raise ContextError(f"context is empty: {what} is blank")
    if isinstance(data, str):
        return TextStore(data)
    head = data[:SAMPLE_BYTES]
    fmt, found = sniff(head)
    if fmt == "binary":
        raise ContextError(f"context looks binary ({found}): {what}")
    if fmt != "text":  # compressed bytes or an archive on stdin: read like a file of them
        with tempfile.NamedTemporaryFile(prefix="rlm-graph-stdin-") as spool:
            spool.write(data)
            spool.flush()
            store = open_path(Path(spool.name))
        store.uri = None  # the spool is gone; the blob store keeps the rendering
        return store
    codec = detect_encoding(head)
    if codec is None:
        raise ContextError(f"context looks binary ({NO_ENCODING}): {what}")
    if codec == "utf-8":
        return TextStore(data)
    store = TextStore(b"".join(decode_stream([data], codec)))
    store.encoding = display_name(codec)
    return store


def open_context(
    source: str | os.PathLike[str] | bytes | Sequence[Document],
    registry: ContextRegistry | None = None,
) -> ContextView:
    """Open text, bytes, a file, a folder or a list of LangChain ``Document``s as a context;
    register it when given a registry (whose blob store then caches renderings).

    A ``str`` naming an existing path opens that path; a ``str`` that looks like a path but
    names nothing is an error (better than silently answering questions about a file name);
    any other ``str`` is the context text itself.
    """
    store: ContextStore
    blobs = registry.blobs if registry is not None else None
    if is_documents(source):
        store = documents_store(source)
    elif isinstance(source, bytes | bytearray | memoryview):
        store = _text_store(bytes(source), "the given bytes")
    elif isinstance(source, os.PathLike):
        store = open_path(Path(source).expanduser(), blobs)
    elif isinstance(source, str):
        path = _existing_path(source)
        if path is not None:
            store = open_path(path, blobs)
        elif looks_like_path(source):
            raise ContextError(f"context file not found: {source.strip()}")
        else:
            store = _text_store(source, "the given text")
    else:
        raise ContextError(
            f"cannot use a {type(source).__name__} as a context: pass text, bytes, a path or "
            "a list of LangChain Documents"
        )
    if registry is not None:
        registry.register(store)
    return ContextView(store)
