"""``run_sync``: synchronous entry points share one background event loop per process, which
nothing a coroutine raises may take down."""

from __future__ import annotations

import asyncio
import contextvars
import threading

import pytest

from rlm_graph.sync import run_sync

LABEL: contextvars.ContextVar[str] = contextvars.ContextVar("label", default="none")


async def current_loop() -> asyncio.AbstractEventLoop:
    return asyncio.get_running_loop()


def test_calls_from_many_threads_share_one_loop_and_keep_their_context():
    loops, labels = set(), []

    def call(n: int) -> None:
        LABEL.set(f"thread {n}")
        loops.add(run_sync(current_loop))
        labels.append(run_sync(lambda: _label()))

    threads = [threading.Thread(target=call, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(loops) == 1 and loops == {run_sync(current_loop)}
    assert sorted(labels) == sorted(f"thread {n}" for n in range(8))


async def _label() -> str:
    return LABEL.get()


@pytest.mark.parametrize("error", [KeyboardInterrupt, SystemExit, ValueError])
def test_what_a_coroutine_raises_reaches_the_caller_and_the_loop_lives_on(error):
    async def fail() -> None:
        await asyncio.sleep(0)
        raise error("stop")

    before = run_sync(current_loop)
    with pytest.raises(error):
        run_sync(fail)
    assert run_sync(current_loop) is before  # the same loop still runs


async def test_from_inside_a_running_loop_it_still_returns():
    assert run_sync(lambda: asyncio.sleep(0, result=7)) == 7
