"""Maps store ids to open stores, so graph state can carry ContextRefs instead of text.

When a ref arrives for a store this process has not opened (a resumed checkpoint, another
worker), the file or folder is reopened from ``ref.uri`` and checked against ``ref.store_id``;
text contexts and renderings (decoded text, PDF pages, archives, Documents) come back from the
blob store, if one was given, and a rendering missing there is rendered again from its path.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Protocol

from rlm_graph.context.parts import PartsStore
from rlm_graph.context.paths import open_path
from rlm_graph.context.stores import ContextStore
from rlm_graph.context.view import ContextView
from rlm_graph.errors import ContextError
from rlm_graph.state import ContextRef


class BlobSource(Protocol):
    def open(self, store_id: str) -> ContextStore | None: ...

    def put(self, store: ContextStore) -> None: ...

    def linked(self, key: str) -> str | None: ...


class ContextRegistry:
    """A thread-safe dict of open stores keyed by store_id.

    ``close()`` releases the stores the registry opened or was given to own; stores registered
    with ``owned=False`` (a view the caller keeps using) are left open.
    """

    def __init__(self, blobs: BlobSource | None = None) -> None:
        self._stores: dict[str, ContextStore] = {}
        self._borrowed: set[str] = set()
        self._users: dict[str, int] = {}
        self._lock = threading.Lock()
        self.blobs = blobs

    def register(self, store: ContextStore, *, owned: bool = True) -> None:
        with self._lock:
            if store.store_id not in self._stores:
                self._stores[store.store_id] = store
                if not owned:
                    self._borrowed.add(store.store_id)

    def __contains__(self, store_id: object) -> bool:
        with self._lock:
            return store_id in self._stores

    def __len__(self) -> int:
        with self._lock:
            return len(self._stores)

    def store_for(self, ref: ContextRef) -> ContextStore:
        """The store a ref points into, reopening it from ``ref.uri`` if needed."""
        with self._lock:
            store = self._stores.get(ref.store_id)
        if store is not None:
            return store
        # Reopen outside the lock: hashing a big file must not block other lookups.
        if ref.kind == "text" or ref.uri is None:
            store = self._stored(ref)
            if store is None:
                raise ContextError(
                    f"context {ref.store_id[:12]} is missing: it was given directly (text, "
                    "bytes or documents) and is not in the blob store; pass it again"
                )
            return self._keep(store)
        try:
            store = open_path(Path(ref.uri), self.blobs)
        except ContextError as exc:
            stored = self._stored(ref)  # a rendering outlives its source file
            if stored is None:
                raise ContextError(f"context is missing: cannot reopen {ref.uri} ({exc})") from exc
            return self._keep(stored)
        if store.store_id != ref.store_id:
            store.close()
            raise ContextError(
                f"context changed since it was opened: {ref.uri} has different content now; "
                "open it again to start over"
            )
        return self._keep(store)

    def _stored(self, ref: ContextRef) -> ContextStore | None:
        """The ref's store from the blob store: text, or a rendering (never a plain file's)."""
        store = self.blobs.open(ref.store_id) if self.blobs is not None else None
        if store is None or ref.kind == "text" or isinstance(store, PartsStore):
            if isinstance(store, PartsStore):
                store.uri = ref.uri
            return store
        store.close()
        return None

    def _keep(self, store: ContextStore) -> ContextStore:
        with self._lock:
            # Another thread may have reopened it meanwhile; keep the first one.
            kept = self._stores.setdefault(store.store_id, store)
        if kept is not store:
            store.close()
        return kept

    def view(self, ref: ContextRef) -> ContextView:
        return ContextView(self.store_for(ref), ref)

    def acquire(self, ref: ContextRef) -> ContextView:
        """A view that stays open until a matching ``release``: a run holds its context so a
        registry shared by many runs (a server's) can close each store when its last run ends."""
        view = self.view(ref)
        with self._lock:
            self._users[ref.store_id] = self._users.get(ref.store_id, 0) + 1
        return view

    def release(self, store_id: str) -> None:
        with self._lock:
            users = self._users.get(store_id, 0) - 1
            if users > 0:
                self._users[store_id] = users
                return
            self._users.pop(store_id, None)
            store = None if store_id in self._borrowed else self._stores.pop(store_id, None)
        if store is not None:
            store.close()

    def close(self) -> None:
        """Close every store this registry owns (mmaps, cached file handles)."""
        with self._lock:
            stores = [s for sid, s in self._stores.items() if sid not in self._borrowed]
            self._stores, self._borrowed, self._users = {}, set(), {}
        for store in stores:
            store.close()
