"""Scale-out: the graph on stock ``langgraph-api`` with the MIT PostgreSQL + Redis runtime
(``langgraph-runtime-pg``, served by its ``langhost`` command), two server processes sharing one
database and one Redis. Are runs spread over both, and what happens to a killed server's runs?

    python benchmarks/scale_out.py --langhost /path/to/venv/bin/langhost

``langgraph-runtime-pg`` pins ``langgraph-api`` exactly (0.11.1 for 0.11.1.post1), older than the
project's, so it lives in a virtualenv of its own, with this checkout on ``PYTHONPATH``
(docs/serving.md says how to make one). This script runs in the project's environment: the
scripted model, ``langgraph-sdk``, a fresh database (dropped after) and a Redis database number.

1. Spread: ``--runs`` runs submitted to each server at once; which server executed each run
   (from the servers' logs).
2. Kill: ``--runs`` runs submitted to server A; ``--settle`` seconds after two fan-outs' leaves
   have answered, A is killed (SIGKILL); every run is then awaited through B. Printed: answers
   right, seconds until all ended, and model calls paid twice (a prompt answered before the
   kill and asked again), with how long before the kill the oldest such answer came.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.fake_openai_server import FakeOpenAIServer
from benchmarks.langgraph_server import ROOT, LangGraphServer
from benchmarks.server_load import (
    FAN_OUT,
    QUESTION,
    SETTINGS,
    PeakMemory,
    RunOutcome,
    percentile,
    serve_batch,
    server_env,
    write_documents,
    wrong,
)

POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432"


class LanghostServer(LangGraphServer):
    """``langhost serve``: stock ``langgraph-api`` on the PostgreSQL + Redis runtime."""

    def __init__(self, langhost: Path, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.langhost = langhost

    def command(self) -> list[str]:
        return [
            *(str(self.langhost), "serve", "--port", str(self.port), "--no-browser"),
            *("--config", str(self.work / "langgraph.json")),
            *("--n-jobs-per-worker", str(self.jobs)),
        ]

    def started_runs(self) -> set[str]:
        """Ids of the runs this server began executing, from its log."""
        log = re.sub(r"\x1b\[[0-9;]*m", "", self.log_tail(10**9))
        return {
            match.group(1)
            for line in log.splitlines()
            if "Starting background run" in line
            for match in [re.search(r"\brun_id=([0-9a-f-]+)", line)]
            if match
        }


async def submit(
    url: str, first: int, count: int, durability: str | None = None
) -> list[tuple[int, str, str]]:
    """``count`` runs created (not awaited) on ``url``: (document number, thread, run)."""
    from langgraph_sdk import get_client

    client = get_client(url=url, timeout=600)
    created = []
    for n in range(first, first + count):
        thread = await client.threads.create()
        run = await client.runs.create(
            thread["thread_id"],
            "rlm",
            input={"query": QUESTION, "context": f"doc-{n}.txt"},
            config={"configurable": SETTINGS},
            durability=durability,
        )
        created.append((n, thread["thread_id"], run["run_id"]))
    return created


async def finish(
    url: str, created: list[tuple[int, str, str]], turns: dict[int, int]
) -> list[RunOutcome]:
    """Wait for each run through ``url`` and read its thread's final state (``turns``: the
    turn each thread ended on, by document)."""
    from langgraph_sdk import get_client

    client = get_client(url=url, timeout=900)
    started = time.perf_counter()

    async def one(n: int, thread_id: str, run_id: str) -> RunOutcome:
        await client.runs.join(thread_id, run_id)
        values = (await client.threads.get_state(thread_id))["values"] or {}
        turns[n] = values.get("turn") or 1
        return RunOutcome(
            n=n,
            thread_id=thread_id,
            status=values.get("status"),
            answer=values.get("answer"),
            seconds=time.perf_counter() - started,
        )

    return list(await asyncio.gather(*(one(*c) for c in created)))


def paid_twice(model: FakeOpenAIServer, killed_at: float, kind: str) -> tuple[int, float]:
    """Prompts of ``kind`` answered before ``killed_at`` and asked again after it, and how
    long before the kill the earliest of those answers came (the window in which an answer
    had come but its node's result was not yet saved)."""
    records = [r for r in model.records() if r.kind == kind]
    answered = {r.digest: r.done for r in records if r.done <= killed_at}
    again = [r for r in records if r.arrival > killed_at and r.digest in answered]
    return len(again), max((killed_at - answered[r.digest] for r in again), default=0.0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--langhost", type=Path, required=True, help="langhost in its venv")
    parser.add_argument("--runs", type=int, default=20, help="runs per phase and server")
    parser.add_argument("--latency", type=float, default=1.0, help="model seconds per request")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/7")
    parser.add_argument("--heartbeat", default="2", help="LG_BG_JOB_HEARTBEAT seconds")
    parser.add_argument(
        "--settle", type=float, default=1.0, help="seconds from 2 fan-outs' answers to the kill"
    )
    parser.add_argument(
        "--durability", choices=["sync", "async", "exit"], help="of the killed runs (server's)"
    )
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="rlm-scale-out-"))
    write_documents(work / "docs", 3 * args.runs)
    with (
        FakeOpenAIServer(calls=FAN_OUT, latency=args.latency) as model,
        two_servers(args.langhost, model, work, args.redis, args.heartbeat) as (a, b),
    ):
        report(args, model, a, b)


@contextlib.contextmanager
def two_servers(
    langhost: Path, model: FakeOpenAIServer, work: Path, redis: str, heartbeat: str = "2"
) -> Iterator[tuple[LanghostServer, LanghostServer]]:
    """Two ``langhost serve`` processes on one fresh database (dropped after) and one Redis,
    serving the documents in ``work / "docs"`` with ``model``."""
    import psycopg

    database = f"rlm_scale_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{POSTGRES_ADMIN}/postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {database}")
    try:
        env = {
            **server_env(model.base_url, work / "docs"),
            "PYTHONPATH": str(ROOT),
            "DATABASE_URI": f"{POSTGRES_ADMIN}/{database}",
            "REDIS_URI": redis,
            # A dead server's runs are swept back to the queue after two missed heartbeats.
            "LG_BG_JOB_HEARTBEAT": heartbeat,
        }
        a = LanghostServer(langhost, env=env, work=work / "a", jobs=10)
        b = LanghostServer(langhost, env=env, work=work / "b", jobs=10)
        with a, b:
            yield a, b
    finally:
        with psycopg.connect(f"{POSTGRES_ADMIN}/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


def report(
    args: argparse.Namespace, model: FakeOpenAIServer, a: LanghostServer, b: LanghostServer
) -> None:
    runs = args.runs

    async def spread() -> tuple[list[RunOutcome], list[RunOutcome]]:
        return await asyncio.gather(serve_batch(a.url, runs, runs), serve_batch(b.url, runs, runs))

    with PeakMemory(a) as peak_a, PeakMemory(b) as peak_b:
        started = time.perf_counter()
        to_a, to_b = asyncio.run(spread())
        wall = time.perf_counter() - started
    ran_a, ran_b = a.started_runs(), b.started_runs()
    print(f"Spread: {2 * runs} runs, {runs} submitted to each server at once")
    print("| runs/s | p50 / p95 (s) | executed by A / B | peak RSS A / B | wrong |")
    print("|---:|---:|---:|---:|---:|")
    seconds = [o.seconds for o in to_a + to_b]
    print(
        f"| {2 * runs / wall:.2f} | {percentile(seconds, 50):.2f} / "
        f"{percentile(seconds, 95):.2f} | {len(ran_a)} / {len(ran_b)} "
        f"| {peak_a.peak / 2**20:.0f} / {peak_b.peak / 2**20:.0f} MB "
        f"| {len(wrong(to_a)) + len(wrong(to_b))} |"
    )

    killed = kill_mid_runs(a, b, model, runs, args.settle, args.durability)
    durability = args.durability or "the server's default"
    print(
        f"\nKill: {runs} runs submitted to A (durability {durability}); A killed (SIGKILL) "
        f"{args.settle:.0f} s after 2 fan-outs' leaves were answered"
    )
    print(
        "| began on A before the kill | leaves answered before the kill | finished | on B "
        "| wrong | seconds until all ended "
        "| leaf / planner calls paid twice | answered before the kill by at most "
        "| threads that ended on turn 2 |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    outcomes = killed.outcomes
    print(
        f"| {killed.began_on_a} | {killed.leaves_answered} "
        f"| {sum(o.status is not None for o in outcomes)} | {killed.ran_on_b} "
        f"| {len(wrong(outcomes))} | {max(o.seconds for o in outcomes):.1f} "
        f"| {killed.leaves_paid_twice} / {killed.planners_paid_twice} "
        f"| {killed.oldest_repaid:.2f} s | {sum(t > 1 for t in killed.turns.values())} |"
    )
    for outcome in wrong(outcomes):
        print(f"wrong: doc {outcome.n}: {outcome.status} {outcome.answer!r}")


class Killed(BaseModel):
    """What became of the runs of a server killed mid-run."""

    outcomes: list[RunOutcome]
    turns: dict[int, int]  # the turn each thread ended on, by document
    began_on_a: int
    ran_on_b: int
    leaves_answered: int  # before the kill
    leaves_paid_twice: int
    planners_paid_twice: int
    oldest_repaid: float  # seconds before the kill the oldest answer asked again had come


def kill_mid_runs(
    a: LanghostServer,
    b: LanghostServer,
    model: FakeOpenAIServer,
    runs: int,
    settle: float,
    durability: str | None = None,
) -> Killed:
    """``runs`` runs (documents ``runs`` on) submitted to ``a``, which is killed ``settle``
    seconds after two fan-outs' leaves have answered; every run is then awaited through ``b``."""
    created = asyncio.run(submit(a.url, runs, runs, durability))
    leaves_before = sum(1 for r in model.records() if r.kind == "leaf")
    while sum(1 for r in model.records() if r.kind == "leaf") < leaves_before + 2 * FAN_OUT:
        time.sleep(0.05)
    time.sleep(settle)  # those answers are saved by now; later ones may not be
    killed_at = time.perf_counter()
    a.kill()
    run_ids = {run_id for _, _, run_id in created}
    began_on_a = len(run_ids & a.started_runs())
    turns: dict[int, int] = {}
    outcomes = asyncio.run(finish(b.url, created, turns))
    answered = sum(1 for r in model.records() if r.kind == "leaf" and r.done <= killed_at)
    leaves, oldest = paid_twice(model, killed_at, "leaf")
    planners, oldest_planner = paid_twice(model, killed_at, "planner")
    oldest = max(oldest, oldest_planner)
    return Killed(
        outcomes=outcomes,
        turns=turns,
        began_on_a=began_on_a,
        ran_on_b=len(run_ids & b.started_runs()),
        leaves_answered=answered - leaves_before,
        leaves_paid_twice=leaves,
        planners_paid_twice=planners,
        oldest_repaid=oldest,
    )


if __name__ == "__main__":
    main()
