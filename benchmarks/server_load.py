"""The graph served by LangGraph (``langgraph dev``) under load, against the library doing the
same work.

    python benchmarks/server_load.py                     # 50 runs, 1 and 50 at a time
    python benchmarks/server_load.py --runs 20 --concurrency 1 10

Each run asks for the code in its own document (about 20 chunks, a 16-way fan-out) of a
scripted OpenAI-compatible model over HTTP. The same documents are asked once through
``RLM.ainvoke`` (in-memory checkpoints, as the dev server's in-memory runtime keeps) and once
through the server's HTTP API with ``langgraph-sdk`` (a thread, then ``runs.wait``), ``C`` at a
time. Printed: runs per second, p50/p95 latency per run, the server's overhead per run (its
latency minus the library's on the same document), the server's peak resident memory, and how
many answers were wrong (must be 0).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from pydantic import BaseModel

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.fake_openai_server import FakeOpenAIServer
from benchmarks.langgraph_server import LangGraphDevServer, LangGraphServer
from rlm_graph.graph.outcome import TERMINAL
from rlm_graph.samples import make_haystack

QUESTION = "What is the vault access code?"
FAN_OUT = 16
# Small chunks make a small document fan out 16 ways; the judge's extra calls are not the point.
SETTINGS = {"chunk_tokens": 100, "sub_window_tokens": 400, "judge": False}


class RunOutcome(BaseModel):
    n: int
    thread_id: str
    status: str | None
    answer: str | None
    seconds: float


def code_of(n: int) -> str:
    return f"{1000 + n}-ALPHA"


def write_documents(folder: Path, count: int) -> list[str]:
    """``count`` small documents, the n-th holding only its own code; their file names."""
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for n in range(count):
        name = f"doc-{n}.txt"
        text = make_haystack(8_000, needle=f"The vault access code is {code_of(n)}.", seed=n)
        (folder / name).write_text(text)
        names.append(name)
    return names


def server_env(model_url: str, folder: Path) -> dict[str, str]:
    return {
        "RLM_GRAPH_MODEL": "m",
        "OPENAI_BASE_URL": model_url,
        "OPENAI_API_KEY": "not-a-real-key",
        "RLM_GRAPH_CONTEXT_ROOT": str(folder),
    }


async def _bounded(
    count: int, concurrency: int, one: Callable[[int], Awaitable[RunOutcome]]
) -> list[RunOutcome]:
    gate = asyncio.Semaphore(concurrency)

    async def run(n: int) -> RunOutcome:
        async with gate:
            return await one(n)

    return list(await asyncio.gather(*(run(n) for n in range(count))))


# How long a run's state is read again after ``wait`` returned it unfinished.
SETTLE_SECONDS = 120.0


async def serve_batch(url: str, count: int, concurrency: int) -> list[RunOutcome]:
    """``count`` runs through the server's HTTP API, ``concurrency`` at a time."""
    from langgraph_sdk import get_client

    client = get_client(url=url, timeout=600)

    async def one(n: int) -> RunOutcome:
        started = time.perf_counter()
        thread = await client.threads.create()
        final = await client.runs.wait(
            thread["thread_id"],
            "rlm",
            input={"query": QUESTION, "context": f"doc-{n}.txt"},
            config={"configurable": SETTINGS},
        )
        values = final if isinstance(final, dict) else {}
        deadline = time.perf_counter() + SETTLE_SECONDS
        while values.get("status") not in TERMINAL and time.perf_counter() < deadline:
            # A run handed from one server to another can end ``wait`` with the thread's state
            # mid-run (seen once under CI load, status "running"): read it until the run ends.
            await asyncio.sleep(0.5)
            state = await client.threads.get_state(thread["thread_id"])
            values = state.get("values") or {}
        return RunOutcome(
            n=n,
            thread_id=thread["thread_id"],
            status=values.get("status"),
            answer=values.get("answer"),
            seconds=time.perf_counter() - started,
        )

    return await _bounded(count, concurrency, one)


async def library_batch(
    model_url: str, folder: Path, count: int, concurrency: int
) -> list[RunOutcome]:
    """The same runs through ``RLM.ainvoke`` in this process."""
    from rlm_graph import RLM

    rlm = RLM(model="m", base_url=model_url, api_key="not-a-real-key", **SETTINGS)

    async def one(n: int) -> RunOutcome:
        started = time.perf_counter()
        result = await rlm.ainvoke({"query": QUESTION, "context": folder / f"doc-{n}.txt"})
        return RunOutcome(
            n=n,
            thread_id=result.thread_id,
            status=result.status,
            answer=result.answer,
            seconds=time.perf_counter() - started,
        )

    return await _bounded(count, concurrency, one)


def wrong(outcomes: list[RunOutcome]) -> list[RunOutcome]:
    return [o for o in outcomes if (o.status, o.answer) != ("done", code_of(o.n))]


class PeakMemory:
    """Samples the server's resident memory in the background; ``peak`` in bytes."""

    def __init__(self, server: LangGraphServer, every: float = 0.1) -> None:
        self.server = server
        self.every = every
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.server.rss_bytes())
            self._stop.wait(self.every)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100), linear between ranks."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[int(q) - 1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 50])
    parser.add_argument("--latency", type=float, default=0.0, help="model seconds per request")
    parser.add_argument("--fail-rate", type=float, default=0.0, help="first attempts refused")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="rlm-server-load-"))
    folder = work / "docs"
    write_documents(folder, args.runs)
    rows = []
    with FakeOpenAIServer(calls=FAN_OUT, latency=args.latency, fail_rate=args.fail_rate) as model:
        jobs = max(args.concurrency)
        env = server_env(model.base_url, folder)
        with LangGraphDevServer(env=env, work=work / "server", jobs=jobs) as server:
            # Warm both up (imports, model clients, the server's graph), untimed.
            asyncio.run(library_batch(model.base_url, folder, 1, 1))
            asyncio.run(serve_batch(server.url, 1, 1))
            idle = server.rss_bytes()
            for concurrency in args.concurrency:
                started = time.perf_counter()
                library = asyncio.run(library_batch(model.base_url, folder, args.runs, concurrency))
                library_wall = time.perf_counter() - started
                with PeakMemory(server) as memory:
                    started = time.perf_counter()
                    served = asyncio.run(serve_batch(server.url, args.runs, concurrency))
                    served_wall = time.perf_counter() - started
                overhead = [s.seconds - lib.seconds for s, lib in zip(served, library, strict=True)]
                rows.append(
                    (
                        concurrency,
                        args.runs / library_wall,
                        args.runs / served_wall,
                        [o.seconds for o in library],
                        [o.seconds for o in served],
                        overhead,
                        memory.peak,
                        len(wrong(library)) + len(wrong(served)),
                    )
                )
            final = server.rss_bytes()

    print(
        f"{args.runs} runs, each a {FAN_OUT}-way fan-out; model latency {args.latency}s, "
        f"{args.fail_rate:.0%} of first attempts refused; server RSS idle "
        f"{idle / 2**20:.0f} MB, after all runs {final / 2**20:.0f} MB"
    )
    print(
        "| at once | runs/s library | runs/s server | library p50 / p95 (s) "
        "| server p50 / p95 (s) | overhead per run p50 / p95 (s) | server peak RSS | wrong |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for concurrency, lib_rate, srv_rate, lib, srv, extra, peak, bad in rows:
        print(
            f"| {concurrency} | {lib_rate:.2f} | {srv_rate:.2f} "
            f"| {percentile(lib, 50):.2f} / {percentile(lib, 95):.2f} "
            f"| {percentile(srv, 50):.2f} / {percentile(srv, 95):.2f} "
            f"| {percentile(extra, 50):.2f} / {percentile(extra, 95):.2f} "
            f"| {peak / 2**20:.0f} MB | {bad} |"
        )


if __name__ == "__main__":
    main()
