"""One limit on model calls in flight for the whole tree, sync or async, with per-model defaults."""

from __future__ import annotations

import asyncio
import threading

import pytest

from rlm_graph import RLM, build_rlm_graph
from rlm_graph.context import open_context
from rlm_graph.limiter import ConcurrencyLimiter
from rlm_graph.models import ResolvedModel
from rlm_graph.samples import make_haystack
from rlm_graph.testing import ScriptedChatModel, is_leaf_prompt
from tests.unit.conftest import chunk_calls, final_from_results, make_rlm, planner


def test_limiter_holds_across_threads_and_event_loops():
    limiter = ConcurrencyLimiter(3)
    lock = threading.Lock()
    counts = {"now": 0, "peak": 0}

    async def one() -> None:
        async with limiter:
            with lock:
                counts["now"] += 1
                counts["peak"] = max(counts["peak"], counts["now"])
            await asyncio.sleep(0.005)
            with lock:
                counts["now"] -= 1

    async def many() -> None:
        await asyncio.gather(*(one() for _ in range(12)))

    threads = [threading.Thread(target=asyncio.run, args=(many(),)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counts["peak"] == 3 == limiter.peak
    assert (limiter.in_flight, limiter.waiting) == (0, 0)


async def test_cancelled_waiters_do_not_leak_slots():
    limiter = ConcurrencyLimiter(1)
    await limiter.acquire()
    waiters = [asyncio.create_task(limiter.acquire()) for _ in range(5)]
    await asyncio.sleep(0)
    for waiter in waiters[:4]:
        waiter.cancel()
    limiter.release()
    await asyncio.wait_for(waiters[4], 1)  # the one left gets the slot
    assert limiter.in_flight == 1 and limiter.waiting == 0
    limiter.release()
    assert limiter.in_flight == 0


def test_sync_graph_invoke_keeps_one_limit():
    """graph.invoke runs nodes in worker threads, each with its own event loop; the limit
    must still hold for the whole run (per-loop semaphores allowed 6 in flight at 2)."""
    text = make_haystack(20_000, seed=3)
    model = planner(
        lambda m, t: chunk_calls("find", 8) if t == 0 else final_from_results(m), latency=0.05
    )
    rlm = make_rlm(model, concurrency=2)
    runtime = rlm.runtime()
    view = open_context(text, runtime.registry)
    final = (
        build_rlm_graph()
        .compile()
        .invoke(
            {"query": "What is the vault access code?", "context": view.ref.model_dump()},
            context=runtime,
        )
    )
    assert final["status"] == "done"
    assert model.max_in_flight == 2


def resolved(concurrency: int) -> ResolvedModel:
    chat = ScriptedChatModel(respond=lambda m: "x")
    return ResolvedModel(chat=chat, name="m", window_tokens=8192, concurrency=concurrency)


def test_default_concurrency_follows_the_sub_model():
    assert RLM(model=ScriptedChatModel(respond=lambda m: "x")).limiter.limit == 16
    assert RLM(model=resolved(2)).limiter.limit == 2  # e.g. the local server's two slots
    assert RLM(model=resolved(16), sub_model=resolved(2)).limiter.limit == 2
    assert RLM(model=resolved(2), concurrency=5).limiter.limit == 5


@pytest.mark.parametrize("runs", [1, 2])
async def test_depth_two_tree_keeps_the_limit_full(runs):
    """8 planning children, each fanning out 8 leaves: 64 leaves share one limit of 16."""
    text = make_haystack(140_000, seed=3)  # about 70 chunks of 500 tokens

    def turns(messages, turn):
        first = str(messages[1].content)
        last = str(messages[-1].content)
        if last.startswith("Question: part"):  # a child's first turn
            count = int(first.split(" chunks (chunk:0 to chunk:")[1].split(")")[0]) + 1
            return chunk_calls("find", min(8, count))
        if last.startswith("Question:"):
            return "\n".join(f'CALL("part {i}", "chunks:{8 * i}-{8 * i + 7}")' for i in range(8))
        return final_from_results(messages)

    model = planner(turns, latency=lambda m: 0.05 if is_leaf_prompt(m) else 0.0)
    rlm = make_rlm(model, max_depth=2, concurrency=None)
    for _ in range(runs):
        result = await rlm.ainvoke({"query": "What is the vault access code?", "context": text})
        assert result.status == "done", result.error
    leaves = [r for r in result.records if r.kind == "leaf"]
    assert len(leaves) == 64
    assert model.max_in_flight == 16 == rlm.limiter.peak
