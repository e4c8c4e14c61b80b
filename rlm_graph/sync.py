"""Run a coroutine to completion from synchronous code, on one event loop per process.

Why one loop: chat model clients keep async HTTP connections bound to the loop that opened
them (``langchain-openai`` even shares one client between model objects), so a second
``invoke`` on a fresh loop failed with "Event loop is closed", and ``invoke`` from several
threads at once with "bound to a different event loop". Every synchronous entry point therefore
runs its coroutine on a long-lived loop in a background thread; runs from many threads proceed
there side by side, sharing connections as ``ainvoke`` callers on one loop do.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import os
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

# How long an interrupted call (Ctrl-C) may take to stop: its run drains its last checkpoint
# writes before the database closes.
STOP_SECONDS = 30.0

_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None
_loop_lock = threading.Lock()


def _shared_loop() -> asyncio.AbstractEventLoop:
    global _loop, _thread
    with _loop_lock:
        if _loop is None or _thread is None or not _thread.is_alive():
            _loop = asyncio.new_event_loop()
            _thread = threading.Thread(target=_loop.run_forever, name="rlm-graph-loop", daemon=True)
            _thread.start()
        return _loop


def _forget_loop() -> None:
    global _loop, _thread
    _loop = _thread = None  # a forked child has the loop object but not the thread that runs it


os.register_at_fork(after_in_child=_forget_loop)


def run_sync(factory: Callable[[], Awaitable[T]]) -> T:
    """Run the coroutine ``factory()`` makes on the process's shared loop and wait for it.
    Context variables (LangGraph's config and runtime) travel along. Interrupted while waiting
    (Ctrl-C), the coroutine is cancelled and given time to stop cleanly."""
    loop = _shared_loop()
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:  # a coroutine on that loop cannot wait for it: use a loop of its own
        context = contextvars.copy_context()
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(context.run, lambda: asyncio.run(factory())).result()

    outcome: Future[T] = Future()
    tasks: list[asyncio.Task[Any]] = []

    async def main() -> None:
        try:
            result = await factory()
        except asyncio.CancelledError:
            outcome.set_exception(asyncio.CancelledError())
            raise
        except BaseException as exc:  # noqa: BLE001 - the caller's to handle, not the loop's
            # KeyboardInterrupt and SystemExit would escape the task and stop the shared loop.
            outcome.set_exception(exc)
        else:
            outcome.set_result(result)

    def start() -> None:
        task = loop.create_task(main())
        # Cancelled before it began, main() never ran to say so.
        task.add_done_callback(
            lambda _: outcome.done() or outcome.set_exception(asyncio.CancelledError())
        )
        tasks.append(task)

    # The callback runs in a copy of the caller's context, and the task inherits it.
    loop.call_soon_threadsafe(start, context=contextvars.copy_context())
    try:
        return outcome.result()
    except BaseException:
        if not outcome.done():  # interrupted here, not by the coroutine: stop it
            loop.call_soon_threadsafe(lambda: [task.cancel() for task in tasks])
            # Not stopped in time: the interrupt is raised anyway.
            with contextlib.suppress(TimeoutError):
                outcome.exception(timeout=STOP_SECONDS)
        raise
