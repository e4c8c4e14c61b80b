"""One SQLite checkpointer per file per event loop, shared by every run in that loop.

Why: SQLite lets one connection write at a time, and LangGraph's saver holds that lock from
its INSERT until the event loop comes back to commit. With a connection per run, 24 runs of a
busy loop queued on each other's locks past the busy timeout and failed with "database is
locked" (measured: with a 0.5 s timeout 71 of 72 runs failed, with SQLite's default 5 s about
one in 100). Runs of one loop now share one connection, whose saver's lock orders their writes
in memory; other loops, threads and processes on the same file wait on a long busy timeout, in
WAL mode, where readers never wait for the writer.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rlm_graph.errors import RLMError

# Seconds a write waits for another connection's write to end before "database is locked":
# long, since under load a writer (another process, another event loop) may hold it a while.
BUSY_TIMEOUT_SECONDS = 60.0


@dataclass
class _Shared:
    opening: asyncio.Future[Any]  # the saver, once its connection is open and set up
    users: int = 0


_shared: dict[tuple[Path, asyncio.AbstractEventLoop], _Shared] = {}
_lock = threading.Lock()  # loops in other threads use the same table


@asynccontextmanager
async def shared_sqlite_saver(path: Path) -> AsyncIterator[Any]:
    """The ``AsyncSqliteSaver`` of ``path`` for this event loop, opened by its first user and
    closed when its last user leaves."""
    key = (path.resolve(), asyncio.get_running_loop())
    with _lock:
        entry = _shared.get(key)
        if entry is None:
            entry = _shared[key] = _Shared(asyncio.ensure_future(_open(path)))
        entry.users += 1
    try:
        # shield: one user giving up (cancelled) must not cancel the opening for the others.
        yield await asyncio.shield(entry.opening)
    finally:
        with _lock:
            entry.users -= 1
            last = entry.users == 0
            if last and _shared.get(key) is entry:
                del _shared[key]
        if last:
            await _close(entry.opening)


async def _open(path: Path) -> Any:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RLMError(f"cannot create the checkpoint folder {path.parent}: {exc}") from exc
    if path.is_dir():
        raise RLMError(f"checkpoint path is a folder, expected a file: {path}")
    import aiosqlite
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    conn = await aiosqlite.connect(str(path), timeout=BUSY_TIMEOUT_SECONDS)
    try:
        # The saver turns on WAL mode; NORMAL skips an fsync per step and still loses nothing
        # when the process is killed (only a power cut can take the last few steps).
        await conn.execute("PRAGMA synchronous=NORMAL")
        saver = AsyncSqliteSaver(conn)
        await saver.setup()
    except BaseException:
        await conn.close()
        raise
    return saver


async def _close(opening: asyncio.Future[Any]) -> None:
    if not opening.done():
        await asyncio.wait([opening])
    if opening.cancelled() or opening.exception() is not None:
        return  # it never opened: nothing to close
    await opening.result().conn.close()


def open_savers() -> int:
    """How many shared connections are open in this process (for tests)."""
    with _lock:
        return len(_shared)
