"""Where runs are kept: checkpointers from a user's choice, and a blob store beside them.

Checkpoints never hold a context's text (state carries ``ContextRef``s). Files and folders are
reopened from their path and checked by content hash; text and stdin contexts have no path, so
their bytes go to a content-addressed blob store next to the checkpoints, from which a later
turn (or a resumed run) reopens them.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver

from rlm_graph.context import ContextStore, FileStore, TextStore
from rlm_graph.errors import RLMError
from rlm_graph.home import default_db_path
from rlm_graph.secrets import redact

CheckpointTarget = BaseCheckpointSaver | str | os.PathLike | None


def sqlite_path(target: CheckpointTarget) -> Path | None:
    """The SQLite file a target names, or None for memory, a saver object or a database URL."""
    if target is None or isinstance(target, BaseCheckpointSaver):
        return None
    text = str(target)
    if text == ":memory:" or "://" in text:
        return None
    return default_db_path() if text == "default" else Path(text).expanduser()


def describe_target(target: CheckpointTarget) -> str:
    """A printable name for where checkpoints go (a URL's password is masked)."""
    path = sqlite_path(target)
    if path is not None:
        return str(path)
    if isinstance(target, BaseCheckpointSaver):
        return type(target).__name__
    return "memory" if target is None or str(target) == ":memory:" else redact(str(target))


@asynccontextmanager
async def open_checkpointer(target: CheckpointTarget) -> AsyncIterator[BaseCheckpointSaver]:
    """Yield a ready async checkpointer.

    - a ``BaseCheckpointSaver``: used as is (the caller owns it);
    - ``None`` or ``":memory:"``: an in-process ``InMemorySaver``;
    - ``"default"``: the SQLite file at :func:`default_db_path`;
    - any other string or path: a SQLite file there (parent folders are created).
    """
    if isinstance(target, BaseCheckpointSaver):
        yield target
        return
    if target is None or str(target) == ":memory:":
        yield InMemorySaver()
        return
    if "://" in str(target):
        raise RLMError(
            f"unsupported checkpoint database {describe_target(target)}: use a SQLite file path"
        )
    path = sqlite_path(target)
    assert path is not None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RLMError(f"cannot create the checkpoint folder {path.parent}: {exc}") from exc
    if path.is_dir():
        raise RLMError(f"checkpoint path is a folder, expected a file: {path}")
    import aiosqlite
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    async with aiosqlite.connect(str(path)) as conn:
        # The saver runs in WAL mode; NORMAL skips an fsync per step and still loses nothing
        # when the process is killed (only a power cut can take the last few steps).
        await conn.execute("PRAGMA synchronous=NORMAL")
        yield AsyncSqliteSaver(conn)


class BlobStore:
    """Content-addressed bytes of text contexts: ``put`` a store, ``open`` it again by id."""

    def put(self, store: ContextStore) -> None:
        raise NotImplementedError

    def open(self, store_id: str) -> ContextStore | None:
        raise NotImplementedError


class MemoryBlobStore(BlobStore):
    """For in-memory checkpoints: lives as long as the object that holds it."""

    def __init__(self) -> None:
        self._data: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def put(self, store: ContextStore) -> None:
        with self._lock:
            if store.store_id not in self._data:
                self._data[store.store_id] = store.read_bytes(0, store.size)

    def open(self, store_id: str) -> ContextStore | None:
        with self._lock:
            data = self._data.get(store_id)
        return None if data is None else TextStore(data)


class FileBlobStore(BlobStore):
    """One file per blob, named by its sha256, in a folder beside the SQLite checkpoints; a
    reopened blob is memory-mapped like any file context."""

    COPY_BLOCK = 1 << 20

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path_for(self, store_id: str) -> Path:
        return self.folder / store_id

    def put(self, store: ContextStore) -> None:
        path = self.path_for(store.store_id)
        if path.exists():
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        # Write under a temporary name, then rename: a reader never sees half a blob.
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".partial-")
        try:
            with os.fdopen(fd, "wb") as out:
                for start in range(0, store.size, self.COPY_BLOCK):
                    out.write(store.read_bytes(start, start + self.COPY_BLOCK))
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def open(self, store_id: str) -> ContextStore | None:
        path = self.path_for(store_id)
        if not path.is_file():
            return None
        store = FileStore(path)
        if store.store_id != store_id:  # damaged on disk: better no context than a wrong one
            store.close()
            return None
        return store


def blob_store_for(target: CheckpointTarget) -> BlobStore:
    """Blobs go beside a SQLite file (``NAME.sqlite`` -> ``NAME.sqlite.blobs/``); in memory
    otherwise."""
    path = sqlite_path(target)
    if path is None:
        return MemoryBlobStore()
    return FileBlobStore(path.with_name(path.name + ".blobs"))
