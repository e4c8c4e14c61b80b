"""Framework overhead per sub-call and parallel fan-out, with fake models (no real model).

    python benchmarks/overhead.py            # prints a Markdown table (quoted in BENCHMARKS.md)

1. Overhead: a map-reduce run with N leaves on a zero-latency fake model, without a
   checkpointer and with the SQLite checkpointer; per sub-call time minus the cost of calling the
   fake model directly the same number of times.
2. Fan-out: 64 sub-calls on a fake model that sleeps 200 ms, at concurrency 16, against the
   ideal ceil(64 / 16) * 200 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import statistics
import tempfile
import time
from pathlib import Path

from langchain_core.messages import HumanMessage, SystemMessage

from rlm_graph import RLM
from rlm_graph.context import Chunking, open_context
from rlm_graph.samples import make_haystack
from rlm_graph.testing import ScriptedChatModel, is_leaf_prompt, needle_finder

CHUNK_TOKENS = 100


def haystack_with_chunks(chunks: int) -> str:
    chunking = Chunking(chunk_tokens=CHUNK_TOKENS, overlap_tokens=CHUNK_TOKENS // 20)
    chars = chunks * CHUNK_TOKENS * 4
    for _ in range(50):
        text = make_haystack(chars)
        count = open_context(text).chunk_count(chunking)
        if count == chunks:
            return text
        chars = int(chars * chunks / count) + (1 if count < chunks else -1)
    raise RuntimeError("could not size the haystack")


def rlm_for(model: ScriptedChatModel, checkpointer, concurrency: int) -> RLM:
    return RLM(
        model=model,
        planner="map-reduce",
        chunk_tokens=CHUNK_TOKENS,
        sub_window_tokens=1024,
        concurrency=concurrency,
        max_calls=10_000,
        checkpointer=checkpointer,
    )


async def run_once(model, text, checkpointer, concurrency) -> float:
    started = time.perf_counter()
    result = await rlm_for(model, checkpointer, concurrency).ainvoke(
        {"query": "code?", "context": text}
    )
    elapsed = time.perf_counter() - started
    assert result.status == "done" and result.answer == "7391-ALPHA", result
    return elapsed


async def bare_model_seconds(model: ScriptedChatModel, calls: int) -> float:
    messages = [SystemMessage("x"), HumanMessage("<<<\nabc\n>>>")]
    started = time.perf_counter()
    for _ in range(calls):
        await model.ainvoke(messages)
    return time.perf_counter() - started


async def overhead(leaves: int, repeats: int) -> list[tuple[str, float, float]]:
    text = haystack_with_chunks(leaves)
    model = ScriptedChatModel(respond=needle_finder(r"\d{4}-ALPHA"))
    bare = min([await bare_model_seconds(model, leaves + 1) for _ in range(repeats)])
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, checkpointer in [
            ("no checkpointer", None),
            ("SQLite checkpointer", str(Path(tmp) / "b.sqlite")),
        ]:
            await run_once(model, text, checkpointer, 16)  # warm-up
            times = [await run_once(model, text, checkpointer, 16) for _ in range(repeats)]
            best = min(times)
            rows.append(
                (
                    label,
                    best * 1000 / leaves,
                    (best - bare) * 1000 / leaves,
                    statistics.median(times) * 1000 / leaves,
                )
            )
    return rows


async def subgraph_overhead(children: int, repeats: int) -> tuple[float, float]:
    """Per child cost when each child is a planning subgraph run (depth 2), not a leaf."""
    chunk_tokens = 400
    chunking = Chunking(chunk_tokens=chunk_tokens, overlap_tokens=chunk_tokens // 20)
    text = make_haystack(children * chunk_tokens * 4)
    count = open_context(text).chunk_count(chunking)
    calls = "\n".join(f'CALL("find", "chunk:{i}")' for i in range(count))

    def respond(messages):
        last = str(messages[-1].content)
        if "Question: find" in last:
            return 'FINAL("nothing")'  # a child answers in one planner turn
        return calls if last.startswith("Question:") else 'FINAL("done")'

    model = ScriptedChatModel(respond=respond)
    bare = min([await bare_model_seconds(model, count + 2) for _ in range(repeats)])

    async def once() -> float:
        rlm = RLM(
            model=model,
            chunk_tokens=chunk_tokens,
            sub_window_tokens=600,
            max_depth=2,
            concurrency=16,
            max_calls=10_000,
            checkpointer=None,
        )
        started = time.perf_counter()
        result = await rlm.ainvoke({"query": "q", "context": text})
        assert result.status == "done" and result.tree.number_of_nodes() == count + 1, result
        return time.perf_counter() - started

    await once()
    best = min([await once() for _ in range(repeats)])
    return best * 1000 / count, (best - bare) * 1000 / count


async def fanout(calls: int, latency: float, concurrency: int, repeats: int):
    text = haystack_with_chunks(calls)
    model = ScriptedChatModel(
        respond=needle_finder(r"\d{4}-ALPHA"),
        latency=lambda messages: latency if is_leaf_prompt(messages) else 0.0,
    )
    times = [await run_once(model, text, None, concurrency) for _ in range(repeats)]
    ideal = math.ceil(calls / concurrency) * latency
    return min(times), statistics.median(times), ideal, model.max_in_flight


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leaves", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    rows = await overhead(args.leaves, args.repeats)
    print(
        f"### Overhead per sub-call ({args.leaves} leaves, zero-latency fake model, best of {args.repeats})\n"
    )
    print(
        "| configuration | per sub-call, total (ms) | minus bare model call (ms) | median total (ms) |"
    )
    print("|---|---:|---:|---:|")
    for label, total, net, median in rows:
        print(f"| {label} | {total:.2f} | {net:.2f} | {median:.2f} |")

    total, net = await subgraph_overhead(args.leaves, args.repeats)
    print(
        f"| child as a planning subgraph (depth 2, one planner turn per child), no checkpointer | {total:.2f} | {net:.2f} | |"
    )

    best, median, ideal, peak = await fanout(64, 0.2, 16, max(2, args.repeats // 2))
    print("\n### Fan-out: 64 sub-calls, fake model sleeping 200 ms, concurrency 16\n")
    print("| ideal (s) | best (s) | median (s) | best / ideal | peak in flight |")
    print("|---:|---:|---:|---:|---:|")
    print(f"| {ideal:.2f} | {best:.2f} | {median:.2f} | {best / ideal:.2f}x | {peak} |")


if __name__ == "__main__":
    asyncio.run(main())
