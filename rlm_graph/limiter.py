"""One limit on model calls in flight for a whole run, whatever threads and event loops it uses.

``asyncio.Semaphore`` binds to one event loop. A run driven by sync ``graph.invoke`` executes
each node in a worker thread with a loop of its own, so per-loop semaphores would each allow the
full limit (six calls in flight at a limit of two was measured). This limiter keeps one count
under a thread lock and hands a freed slot straight to the oldest waiter, waking it on its own
loop, so the limit holds across every loop and the order is first come, first served.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque


class ConcurrencyLimiter:
    """``async with limiter:`` holds one of ``limit`` slots shared by every thread and loop."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("concurrency must be at least 1")
        self.limit = limit
        self.peak = 0  # the most calls ever in flight at once
        self._in_flight = 0
        self._waiters: deque[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = deque()
        self._lock = threading.Lock()

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight

    @property
    def waiting(self) -> int:
        with self._lock:
            return len(self._waiters)

    async def acquire(self) -> None:
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._in_flight < self.limit and not self._waiters:
                self._take()
                return
            waiter: asyncio.Future[None] = loop.create_future()
            entry = (loop, waiter)
            self._waiters.append(entry)
        try:
            await waiter
        except asyncio.CancelledError:
            with self._lock:
                granted = entry not in self._waiters
                if not granted:
                    self._waiters.remove(entry)
            # A slot handed over just before the cancellation must be passed on, not lost.
            if granted and waiter.done() and not waiter.cancelled():
                self.release()
            raise

    def release(self) -> None:
        with self._lock:
            while self._waiters:
                loop, waiter = self._waiters.popleft()
                try:
                    # The slot moves to the waiter as is: in_flight does not change.
                    loop.call_soon_threadsafe(self._grant, waiter)
                    return
                except RuntimeError:  # that waiter's loop is closed: try the next one
                    continue
            self._in_flight -= 1

    def _grant(self, waiter: asyncio.Future[None]) -> None:
        if waiter.done():  # cancelled between hand-over and wake-up
            self.release()
        else:
            waiter.set_result(None)

    def _take(self) -> None:
        self._in_flight += 1
        self.peak = max(self.peak, self._in_flight)

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(self, *exc: object) -> None:
        self.release()
