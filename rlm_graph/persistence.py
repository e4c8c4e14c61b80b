"""Where runs are kept: a checkpointer, the blob store and the leases, for one target.

A target is ``None`` / ``":memory:"`` (this process only), a SQLite file path (``"default"``:
``$RLM_GRAPH_HOME/checkpoints.sqlite``), a ``postgresql://`` URL (LangGraph's Postgres
checkpointer: the way to share runs between processes and machines), or a
``BaseCheckpointSaver`` you built yourself. Blobs and leases live beside the checkpoints: a
``NAME.sqlite.blobs/`` folder and a lease table in the same file, or tables in the same database.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver

from rlm_graph.blobs import (
    POSTGRES_BLOBS_TABLE,
    BlobStore,
    FileBlobStore,
    MemoryBlobStore,
    PostgresBlobStore,
)
from rlm_graph.errors import RLMError
from rlm_graph.home import default_db_path
from rlm_graph.leases import LEASES_TABLE, Leases, MemoryLeases, PostgresLeases, SqliteLeases
from rlm_graph.secrets import redact
from rlm_graph.shared_sqlite import shared_sqlite_saver

CheckpointTarget = BaseCheckpointSaver | str | os.PathLike | None

__all__ = [
    "Backend",
    "CheckpointTarget",
    "MemoryParts",
    "default_db_path",
    "describe_target",
    "is_postgres",
    "open_backend",
    "open_checkpointer",
    "sqlite_path",
]


def is_postgres(target: CheckpointTarget) -> bool:
    return isinstance(target, str | os.PathLike) and str(target).startswith(
        ("postgres://", "postgresql://")
    )


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


@dataclass
class MemoryParts:
    """What an in-memory target keeps between runs of one ``RLM`` object (or a saver passed in
    code, which has no database of its own for blobs and leases)."""

    saver: BaseCheckpointSaver = field(default_factory=InMemorySaver)
    blobs: BlobStore = field(default_factory=MemoryBlobStore)
    leases: Leases = field(default_factory=MemoryLeases)


@dataclass
class Backend:
    saver: BaseCheckpointSaver
    blobs: BlobStore
    leases: Leases
    where: str

    async def settle(self) -> None:
        """End a transaction an aborted run left open (a write cancelled half-way would hold
        SQLite's write lock until the connection closes)."""
        conn = getattr(self.saver, "conn", None)
        if conn is None or not getattr(conn, "in_transaction", False):
            return
        # The connection is shared by the runs of this event loop: under the saver's lock no
        # other run is half-way through a write, so what is open is the aborted one's.
        async with self.saver.lock:
            if conn.in_transaction:
                await conn.rollback()

    async def thread_ids(self, limit: int | None = None) -> list[str]:
        """Threads with checkpoints, the most recently advanced first."""
        ids = await _thread_ids(self.saver)
        return ids if limit is None else ids[:limit]


async def _thread_ids(saver: BaseCheckpointSaver) -> list[str]:
    query = (
        "SELECT thread_id FROM checkpoints WHERE checkpoint_ns = '' "
        "GROUP BY thread_id ORDER BY MAX(checkpoint_id) DESC"
    )
    conn = getattr(saver, "conn", None)
    if isinstance(saver, InMemorySaver):
        latest = {
            thread: max((cid for ns in spaces.values() for cid in ns), default="")
            for thread, spaces in saver.storage.items()
        }
        return sorted(latest, key=lambda thread: latest[thread], reverse=True)
    if type(saver).__name__ == "AsyncSqliteSaver":
        await saver.setup()
        async with conn.execute(query) as cursor:
            return [row[0] for row in await cursor.fetchall()]
    if type(saver).__name__ == "AsyncPostgresSaver":
        async with conn.cursor() as cursor:
            await cursor.execute(query)
            return [row["thread_id"] for row in await cursor.fetchall()]
    raise RLMError(f"cannot list the threads of a {type(saver).__name__}")


@asynccontextmanager
async def open_backend(
    target: CheckpointTarget, memory: MemoryParts | None = None
) -> AsyncIterator[Backend]:
    """The checkpointer, blobs and leases of ``target``, ready for a run.

    ``memory`` holds the in-process parts used for ``None`` / ``":memory:"`` and for a saver
    passed in code; without it they last for this block only.
    """
    memory = memory or MemoryParts()
    where = describe_target(target)
    if isinstance(target, BaseCheckpointSaver):
        yield Backend(target, memory.blobs, memory.leases, where)
        return
    if target is None or str(target) == ":memory:":
        yield Backend(memory.saver, memory.blobs, memory.leases, where)
        return
    if is_postgres(target):
        async with _postgres_saver(str(target)) as saver:
            url = str(target)
            yield Backend(saver, PostgresBlobStore(url), PostgresLeases(url), where)
        return
    if "://" in str(target):
        raise RLMError(
            f"unsupported checkpoint database {where}: use a SQLite file path or postgresql://"
        )
    path = sqlite_path(target)
    assert path is not None
    async with shared_sqlite_saver(path) as saver:
        blobs = FileBlobStore(path.with_name(path.name + ".blobs"))
        yield Backend(saver, blobs, SqliteLeases(path), where)


@asynccontextmanager
async def _postgres_saver(url: str) -> AsyncIterator[BaseCheckpointSaver]:
    try:
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
    except ImportError as exc:
        raise RLMError(
            "PostgreSQL checkpoints need the postgres extra: pip install 'rlm-graph[postgres]'"
        ) from exc
    try:
        async with AsyncPostgresSaver.from_conn_string(url) as saver:
            await _create_tables(saver, url)
            yield saver
    except RLMError:
        raise
    except Exception as exc:
        if type(exc).__module__.startswith("psycopg"):
            raise RLMError(f"cannot use the database {redact(url)}: {redact(str(exc))}") from None
        raise


# First runs on a fresh database, started at once (many users, many workers), raced in
# CREATE TABLE IF NOT EXISTS, which PostgreSQL does not make safe under concurrency: 23 of 24
# failed with "duplicate key value". Whoever creates the tables holds this advisory lock; the
# others poll for it rather than wait in a statement, since a waiting statement's snapshot
# deadlocks the CREATE INDEX CONCURRENTLY of LangGraph's migrations.
_SETUP_LOCK = 0x726C6D67  # "rlmg"
_tables_ready: set[str] = set()  # databases this process has set up


async def _create_tables(saver: Any, url: str) -> None:
    """LangGraph's checkpoint tables and ours, by one connection at a time."""
    if url in _tables_ready:
        return
    async with saver.conn.cursor() as cursor:
        while True:
            await cursor.execute("SELECT pg_try_advisory_lock(%s) AS locked", (_SETUP_LOCK,))
            if (await cursor.fetchone())["locked"]:
                break
            await asyncio.sleep(0.05)
        try:
            await saver.setup()
            await cursor.execute(LEASES_TABLE)
            await cursor.execute(POSTGRES_BLOBS_TABLE)
        finally:
            await cursor.execute("SELECT pg_advisory_unlock(%s)", (_SETUP_LOCK,))
    _tables_ready.add(url)


@asynccontextmanager
async def open_checkpointer(target: CheckpointTarget) -> AsyncIterator[BaseCheckpointSaver]:
    """Just the checkpointer of ``target`` (see :func:`open_backend`)."""
    async with open_backend(target) as backend:
        yield backend.saver
