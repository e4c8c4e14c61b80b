"""Leases: one worker at a time advances a thread, and a dead worker's thread can be taken over.

A worker holds a thread's lease while it runs it, renewing it every few seconds. Another worker
(another process, maybe on another machine, sharing the database) that wants the thread is told
it is "running elsewhere" while the lease is live; once the holder stops renewing (it crashed or
was killed), the lease expires and the thread can be resumed anywhere. On the holder's own
machine a dead process is recognised at once, without waiting for the expiry.

The lease also dates a crash: its last renewal is the last moment the run was alive, so the time
until the resume is not charged to the run's time budget.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sqlite3
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from pydantic import BaseModel

from rlm_graph.errors import ThreadError
from rlm_graph.shared_sqlite import BUSY_TIMEOUT_SECONDS

DEFAULT_TTL_SECONDS = 30.0


def lease_ttl() -> float:
    """Seconds a lease outlives its last renewal (``RLM_GRAPH_LEASE_SECONDS``, default 30)."""
    raw = os.environ.get("RLM_GRAPH_LEASE_SECONDS", "").strip()
    try:
        return max(1.0, float(raw)) if raw else DEFAULT_TTL_SECONDS
    except ValueError:
        return DEFAULT_TTL_SECONDS


class Holder(BaseModel):
    """Who holds a thread: a worker id, its machine and process, and when it last renewed."""

    owner: str
    host: str
    pid: int
    heartbeat_at: float
    expires_at: float

    def alive(self, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        if self.expires_at <= now:
            return False
        if self.host == socket.gethostname():
            return _pid_alive(self.pid)
        return True

    def describe(self) -> str:
        ago = max(0.0, time.time() - self.heartbeat_at)
        return f"process {self.pid} on {self.host}, seen {ago:.0f}s ago"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    return True


def new_holder(ttl: float) -> Holder:
    now = time.time()
    return Holder(
        owner=uuid.uuid4().hex,
        host=socket.gethostname(),
        pid=os.getpid(),
        heartbeat_at=now,
        expires_at=now + ttl,
    )


class Leases(ABC):
    """Where leases are kept: beside the checkpoints they guard."""

    def __init__(self, ttl: float | None = None) -> None:
        self.ttl = ttl if ttl is not None else lease_ttl()

    @abstractmethod
    async def _swap(self, thread_id: str, expected: str | None, new: Holder | None) -> bool:
        """Set the thread's holder to ``new`` (None: remove it) if the current holder's owner
        is ``expected`` (None: no holder); True if it was set."""

    @abstractmethod
    async def holder(self, thread_id: str) -> Holder | None:
        """The thread's recorded holder, live or not."""

    @abstractmethod
    async def holders(self) -> dict[str, Holder]:
        """Every recorded holder, by thread."""

    async def acquire(self, thread_id: str) -> Holder:
        """Take the thread, or raise ``ThreadError`` if a live worker holds it."""
        mine = new_holder(self.ttl)
        for _ in range(3):  # a lost compare-and-swap means someone moved: look again
            current = await self.holder(thread_id)
            if current is not None and current.alive():
                raise ThreadError(
                    f"thread {thread_id} is running elsewhere ({current.describe()}); wait for "
                    f"it to finish, or resume it once that worker has stopped"
                )
            if await self._swap(thread_id, current.owner if current else None, mine):
                return mine
        raise ThreadError(f"thread {thread_id} is being taken by another worker right now")

    async def renew(self, thread_id: str, holder: Holder) -> Holder:
        now = time.time()
        renewed = holder.model_copy(update={"heartbeat_at": now, "expires_at": now + self.ttl})
        if not await self._swap(thread_id, holder.owner, renewed):
            raise ThreadError(f"lost the lease on thread {thread_id} to another worker")
        return renewed

    async def release(self, thread_id: str, holder: Holder) -> None:
        await self._swap(thread_id, holder.owner, None)

    @asynccontextmanager
    async def hold(
        self, thread_id: str, settle: Callable[[], Awaitable[None]] | None = None
    ) -> AsyncIterator[Holder]:
        """Hold the thread for the block, renewing the lease in the background. ``settle``
        runs before the release (it ends what an aborted run left open in the database)."""
        holder = await self.acquire(thread_id)
        state = {"holder": holder}

        async def heartbeat() -> None:
            while True:
                await asyncio.sleep(self.ttl / 3)
                state["holder"] = await self.renew(thread_id, state["holder"])

        task = asyncio.create_task(heartbeat())
        try:
            yield holder
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, ThreadError):
                await task
            if settle is not None:
                await settle()
            await self.release(thread_id, state["holder"])


class MemoryLeases(Leases):
    """For in-memory checkpoints: the workers are this process's."""

    def __init__(self, ttl: float | None = None) -> None:
        super().__init__(ttl)
        self._holders: dict[str, Holder] = {}
        self._lock = threading.Lock()

    async def _swap(self, thread_id: str, expected: str | None, new: Holder | None) -> bool:
        with self._lock:
            current = self._holders.get(thread_id)
            if (current.owner if current else None) != expected:
                return False
            if new is None:
                self._holders.pop(thread_id, None)
            else:
                self._holders[thread_id] = new
            return True

    async def holder(self, thread_id: str) -> Holder | None:
        with self._lock:
            return self._holders.get(thread_id)

    async def holders(self) -> dict[str, Holder]:
        with self._lock:
            return dict(self._holders)


LEASES_TABLE = """
CREATE TABLE IF NOT EXISTS rlm_graph_leases (
    thread_id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    heartbeat_at DOUBLE PRECISION NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL
)"""
_FIELDS = ("owner", "host", "pid", "heartbeat_at", "expires_at")


def _row_holder(row: tuple | None) -> Holder | None:
    return None if row is None else Holder(**dict(zip(_FIELDS, row, strict=True)))


class SqliteLeases(Leases):
    """A table in the SQLite checkpoint file; short transactions in a worker thread."""

    def __init__(self, path: Path, ttl: float | None = None) -> None:
        super().__init__(ttl)
        self.path = path
        self._ready = False

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        if not self._ready:
            conn.execute(LEASES_TABLE)
            self._ready = True
        return conn

    def _swap_sync(self, thread_id: str, expected: str | None, new: Holder | None) -> bool:
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")  # one writer at a time: the check and set are one
            row = conn.execute(
                "SELECT owner FROM rlm_graph_leases WHERE thread_id = ?", (thread_id,)
            ).fetchone()
            if (row[0] if row else None) != expected:
                conn.execute("ROLLBACK")
                return False
            if new is None:
                conn.execute("DELETE FROM rlm_graph_leases WHERE thread_id = ?", (thread_id,))
            else:
                conn.execute(
                    "INSERT OR REPLACE INTO rlm_graph_leases VALUES (?, ?, ?, ?, ?, ?)",
                    (thread_id, *(getattr(new, f) for f in _FIELDS)),
                )
            conn.execute("COMMIT")
            return True
        finally:
            conn.close()

    def _select(self, thread_id: str | None) -> list[tuple]:
        conn = self._connect()
        try:
            query = f"SELECT thread_id, {', '.join(_FIELDS)} FROM rlm_graph_leases"
            if thread_id is None:
                return conn.execute(query).fetchall()
            return conn.execute(query + " WHERE thread_id = ?", (thread_id,)).fetchall()
        finally:
            conn.close()

    async def _swap(self, thread_id: str, expected: str | None, new: Holder | None) -> bool:
        return await asyncio.to_thread(self._swap_sync, thread_id, expected, new)

    async def holder(self, thread_id: str) -> Holder | None:
        rows = await asyncio.to_thread(self._select, thread_id)
        return _row_holder(rows[0][1:]) if rows else None

    async def holders(self) -> dict[str, Holder]:
        rows = await asyncio.to_thread(self._select, None)
        return {row[0]: _row_holder(row[1:]) for row in rows}


class PostgresLeases(Leases):
    """A table in the PostgreSQL database; compare-and-swap in one statement each."""

    def __init__(self, conn_string: str, ttl: float | None = None) -> None:
        super().__init__(ttl)
        self.conn_string = conn_string
        self._ready = False

    @asynccontextmanager
    async def _conn(self) -> AsyncIterator[object]:
        import psycopg

        async with await psycopg.AsyncConnection.connect(self.conn_string, autocommit=True) as conn:
            if not self._ready:
                await conn.execute(LEASES_TABLE)
                self._ready = True
            yield conn

    async def _swap(self, thread_id: str, expected: str | None, new: Holder | None) -> bool:
        async with self._conn() as conn:
            if new is None:
                cursor = await conn.execute(
                    "DELETE FROM rlm_graph_leases WHERE thread_id = %s AND owner = %s",
                    (thread_id, expected),
                )
            elif expected is None:
                cursor = await conn.execute(
                    "INSERT INTO rlm_graph_leases VALUES (%s, %s, %s, %s, %s, %s) "
                    "ON CONFLICT (thread_id) DO NOTHING",
                    (thread_id, *(getattr(new, f) for f in _FIELDS)),
                )
            else:
                cursor = await conn.execute(
                    "UPDATE rlm_graph_leases SET owner = %s, host = %s, pid = %s, "
                    "heartbeat_at = %s, expires_at = %s WHERE thread_id = %s AND owner = %s",
                    (*(getattr(new, f) for f in _FIELDS), thread_id, expected),
                )
            return cursor.rowcount == 1

    async def _select(self, thread_id: str | None) -> list[tuple]:
        query = f"SELECT thread_id, {', '.join(_FIELDS)} FROM rlm_graph_leases"
        async with self._conn() as conn:
            if thread_id is None:
                cursor = await conn.execute(query)
            else:
                cursor = await conn.execute(query + " WHERE thread_id = %s", (thread_id,))
            return await cursor.fetchall()

    async def holder(self, thread_id: str) -> Holder | None:
        rows = await self._select(thread_id)
        return _row_holder(rows[0][1:]) if rows else None

    async def holders(self) -> dict[str, Holder]:
        return {row[0]: _row_holder(row[1:]) for row in await self._select(None)}
