"""Content-addressed bytes of text contexts, kept beside the checkpoints.

Checkpoints never hold a context's text. Files and folders are reopened from their path and
checked by content hash; text and stdin contexts have no path, so their bytes are stored here
under their sha256, from which a later turn, a resume or another worker reopens them.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

from rlm_graph.context import ContextStore, FileStore, TextStore


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


class PostgresBlobStore(BlobStore):
    """A table in the PostgreSQL database (``rlm_graph_blobs``); reopened blobs live in memory."""

    def __init__(self, conn_string: str) -> None:
        self.conn_string = conn_string

    def _connect(self):  # noqa: ANN202 - psycopg is optional
        import psycopg

        conn = psycopg.connect(self.conn_string, autocommit=True)
        conn.execute(
            "CREATE TABLE IF NOT EXISTS rlm_graph_blobs (store_id TEXT PRIMARY KEY, data BYTEA)"
        )
        return conn

    def put(self, store: ContextStore) -> None:
        with self._connect() as conn:
            conn.execute(
                "INSERT INTO rlm_graph_blobs VALUES (%s, %s) ON CONFLICT (store_id) DO NOTHING",
                (store.store_id, store.read_bytes(0, store.size)),
            )

    def open(self, store_id: str) -> ContextStore | None:
        with self._connect() as conn:
            row = conn.execute(
                "SELECT data FROM rlm_graph_blobs WHERE store_id = %s", (store_id,)
            ).fetchone()
        if row is None:
            return None
        store = TextStore(bytes(row[0]))
        return store if store.store_id == store_id else None
