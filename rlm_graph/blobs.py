"""Content-addressed bytes of text contexts, kept beside the checkpoints.

Checkpoints never hold a context's text. Files and folders are reopened from their path and
checked by content hash; text and stdin contexts have no path, so their bytes are stored here
under their sha256, from which a later turn, a resume or another worker reopens them. So are
renderings (decoded text, PDF pages, archives, Documents: ``rlm_graph.context.parts``), and a
link from their source's content hash to them, so the same source is never rendered twice.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from rlm_graph.context import ContextStore, FileStore, TextStore
from rlm_graph.context.parts import load_parts


class BlobStore:
    """Content-addressed bytes of text contexts: ``put`` a store, ``open`` it again by id;
    ``linked`` finds the rendering a source's key was linked to when it was put."""

    def put(self, store: ContextStore) -> None:
        blob = store.blob()
        self._put(store.store_id, blob)
        key = getattr(store, "source_key", None)
        if key is not None:
            self._link(key, store.store_id)

    def open(self, store_id: str) -> ContextStore | None:
        raw = self._open(store_id)
        if raw is None:
            return None
        return load_parts(raw) or raw

    def linked(self, key: str) -> str | None:
        raise NotImplementedError

    def _put(self, store_id: str, blob: ContextStore) -> None:
        raise NotImplementedError

    def _open(self, store_id: str) -> ContextStore | None:
        raise NotImplementedError

    def _link(self, key: str, store_id: str) -> None:
        raise NotImplementedError


class MemoryBlobStore(BlobStore):
    """For in-memory checkpoints: lives as long as the object that holds it."""

    def __init__(self) -> None:
        self._data: dict[str, bytes] = {}
        self._links: dict[str, str] = {}
        self._lock = threading.Lock()

    def _put(self, store_id: str, blob: ContextStore) -> None:
        with self._lock:
            if store_id not in self._data:
                self._data[store_id] = blob.read_bytes(0, blob.size)

    def _open(self, store_id: str) -> ContextStore | None:
        with self._lock:
            data = self._data.get(store_id)
        return None if data is None else TextStore(data)

    def _link(self, key: str, store_id: str) -> None:
        with self._lock:
            self._links[key] = store_id

    def linked(self, key: str) -> str | None:
        with self._lock:
            return self._links.get(key)


class FileBlobStore(BlobStore):
    """One file per blob, named by its sha256, in a folder beside the SQLite checkpoints; a
    reopened blob is memory-mapped like any file context."""

    COPY_BLOCK = 1 << 20

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path_for(self, store_id: str) -> Path:
        return self.folder / store_id

    def _put(self, store_id: str, blob: ContextStore) -> None:
        path = self.path_for(store_id)
        if path.exists():
            return
        self._write(path, lambda out: _copy(blob, out, self.COPY_BLOCK))

    def _write(self, path: Path, fill: Callable[[BinaryIO], object]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        # Write under a temporary name, then rename: a reader never sees half a blob.
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".partial-")
        try:
            with os.fdopen(fd, "wb") as out:
                fill(out)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _link(self, key: str, store_id: str) -> None:
        self._write(self.folder / f"link-{key}", lambda out: out.write(store_id.encode()))

    def linked(self, key: str) -> str | None:
        try:
            return (self.folder / f"link-{key}").read_text().strip() or None
        except OSError:
            return None

    def _open(self, store_id: str) -> ContextStore | None:
        path = self.path_for(store_id)
        if not path.is_file():
            return None
        store = FileStore(path)
        if store.store_id != store_id:  # damaged on disk: better no context than a wrong one
            store.close()
            return None
        return store


POSTGRES_BLOBS_TABLE = (
    "CREATE TABLE IF NOT EXISTS rlm_graph_blobs (store_id TEXT PRIMARY KEY, data BYTEA)"
)


class PostgresBlobStore(BlobStore):
    """A table in the PostgreSQL database (``rlm_graph_blobs``); reopened blobs live in memory."""

    def __init__(self, conn_string: str) -> None:
        self.conn_string = conn_string

    def _connect(self):  # noqa: ANN202 - psycopg is optional
        import psycopg

        conn = psycopg.connect(self.conn_string, autocommit=True)
        conn.execute(POSTGRES_BLOBS_TABLE)
        return conn

    def _put(self, store_id: str, blob: ContextStore) -> None:
        with self._connect() as conn:
            conn.execute(
                "INSERT INTO rlm_graph_blobs VALUES (%s, %s) ON CONFLICT (store_id) DO NOTHING",
                (store_id, blob.read_bytes(0, blob.size)),
            )

    # Links share the table, under a key no sha256 can equal.
    def _link(self, key: str, store_id: str) -> None:
        with self._connect() as conn:
            conn.execute(
                "INSERT INTO rlm_graph_blobs VALUES (%s, %s) ON CONFLICT (store_id) DO NOTHING",
                (f"link:{key}", store_id.encode()),
            )

    def linked(self, key: str) -> str | None:
        with self._connect() as conn:
            row = conn.execute(
                "SELECT data FROM rlm_graph_blobs WHERE store_id = %s", (f"link:{key}",)
            ).fetchone()
        return None if row is None else bytes(row[0]).decode()

    def _open(self, store_id: str) -> ContextStore | None:
        with self._connect() as conn:
            row = conn.execute(
                "SELECT data FROM rlm_graph_blobs WHERE store_id = %s", (store_id,)
            ).fetchone()
        if row is None:
            return None
        store = TextStore(bytes(row[0]))
        return store if store.store_id == store_id else None


def _copy(blob: ContextStore, out: BinaryIO, block: int) -> None:
    for start in range(0, blob.size, block):
        out.write(blob.read_bytes(start, start + block))
