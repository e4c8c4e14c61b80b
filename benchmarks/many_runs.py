"""Many runs at once in one process on one checkpoint database: do any fail, how fast do they go.

    python benchmarks/many_runs.py                          # 24 runs at once, 3 rounds, SQLite
    python benchmarks/many_runs.py --db postgresql://postgres@127.0.0.1:5432/postgres

Each run has its own document (only it holds its code) and fans out 16 ways on a scripted
OpenAI-compatible model that refuses 5% of first attempts (the client retries). Printed per
round: runs that failed or answered another run's code, wall time, runs per second.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.fake_openai_server import FakeOpenAIServer
from benchmarks.server_load import FAN_OUT, QUESTION, SETTINGS, code_of
from rlm_graph import RLM
from rlm_graph.samples import make_haystack


async def one_round(rlm: RLM, first: int, runs: int) -> tuple[Counter[str], float]:
    numbers = range(first, first + runs)
    documents = [
        make_haystack(8_000, needle=f"The vault access code is {code_of(n)}.", seed=n)
        for n in numbers
    ]
    started = time.perf_counter()
    results = await asyncio.gather(
        *(rlm.ainvoke({"query": QUESTION, "context": doc}) for doc in documents),
        return_exceptions=True,
    )
    seconds = time.perf_counter() - started
    problems: Counter[str] = Counter()
    for n, result in zip(numbers, results, strict=True):
        if isinstance(result, BaseException):
            problems[repr(result)[:100]] += 1
        elif (result.status, result.answer) != ("done", code_of(n)):
            problems[f"{result.status}: {result.answer!r} {result.error or ''}"[:100]] += 1
    return problems, seconds


async def main_async(args: argparse.Namespace) -> None:
    db = args.db or str(Path(tempfile.mkdtemp(prefix="rlm-many-runs-")) / "runs.sqlite")
    with FakeOpenAIServer(calls=FAN_OUT, fail_rate=args.fail_rate) as model:
        rlm = RLM(
            model="m",
            base_url=model.base_url,
            api_key="not-a-real-key",
            checkpointer=db,
            **SETTINGS,
        )
        print(f"{args.runs} runs at once, {FAN_OUT}-way fan-out each, checkpoints: {db}")
        print("| round | failed or wrong | seconds | runs/s |")
        print("|---:|---:|---:|---:|")
        every: Counter[str] = Counter()
        for round_ in range(args.rounds):
            problems, seconds = await one_round(rlm, round_ * args.runs, args.runs)
            every.update(problems)
            bad = sum(problems.values())
            print(f"| {round_ + 1} | {bad} | {seconds:.1f} | {args.runs / seconds:.1f} |")
        print(f"model requests refused on first attempt: {model.failures}")
        for problem, count in every.most_common():
            print(f"{count} x {problem}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=24, help="runs at once (24)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--db", help="checkpoint target (default: a fresh SQLite file)")
    parser.add_argument("--fail-rate", type=float, default=0.05)
    asyncio.run(main_async(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
