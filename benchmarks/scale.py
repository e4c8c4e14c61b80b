"""Fan-out at the default concurrency, depth-2 trees, and what checkpoints cost as runs grow.

    .venv/bin/python benchmarks/scale.py            # prints Markdown tables (in BENCHMARKS.md)

Every run goes the way a user's does: ``RLM(model=NAME, base_url=URL)`` over real HTTP to a fake
OpenAI-compatible server (``benchmarks/fake_openai_server.py``), LangChain's ``ChatOpenAI``,
the default concurrency for a remote model, and (where stated) the default SQLite checkpointer.

1. 64 sub-calls at 200 ms each, default concurrency, against the ideal ceil(64 / 16) x 0.2 s.
2. A depth-2 tree: 8 planning children, each fanning out to 8 leaves at 200 ms, against the same
   ideal: one limit shared by both levels must stay full.
3. Checkpoint bytes per step, for a run of 10 and of 200 planner turns (one CALL each): with
   delta channels the bytes a step writes do not grow with the run's length. And the same
   4-leaf run over a 16 KB and a 40 MB context, in calls mode and in REPL mode: checkpoints do
   not grow with the context (``--only context`` runs just that table).
4. 1,000 leaves (10 range children x 100 leaves) on a zero-latency server with SQLite: model
   calls per second and checkpoint bytes per model call.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.fake_openai_server import FakeOpenAIServer, summarize  # noqa: E402
from rlm_graph import RLM  # noqa: E402
from rlm_graph.context import open_context  # noqa: E402
from rlm_graph.samples import make_haystack  # noqa: E402

QUESTION = "What is the vault access code?"
ANSWER = "7391-ALPHA"


def haystack(path: Path, chunks: int, position: float = 0.55) -> Path:
    """A document of exactly ``chunks`` chunks at the default chunking for a remote model."""
    chunking = RLM(model="m", base_url="http://127.0.0.1:9/v1").runtime().chunking_for_view()
    chars = chunks * chunking.stride
    for _ in range(60):
        text = make_haystack(chars, seed=11, position=position)
        count = open_context(text).chunk_count(chunking)
        if count == chunks:
            path.write_text(text)
            return path
        chars += (chunks - count) * chunking.stride // 2 or (1 if count < chunks else -1)
    raise RuntimeError(f"could not size a document to {chunks} chunks")


def checkpoint_bytes(db: Path) -> tuple[int, int, int]:
    """(checkpoints, bytes in checkpoints, bytes in pending writes) over every namespace."""
    with sqlite3.connect(db) as conn:
        count, blob = conn.execute(
            "select count(*), coalesce(sum(length(checkpoint)), 0) from checkpoints"
        ).fetchone()
        (writes,) = conn.execute("select coalesce(sum(length(value)), 0) from writes").fetchone()
    return count, blob, writes


async def run(rlm: RLM, context: Path) -> tuple[float, object]:
    started = time.perf_counter()
    result = await rlm.ainvoke({"query": QUESTION, "context": str(context)})
    elapsed = time.perf_counter() - started
    if result.answer != ANSWER:
        raise SystemExit(f"wrong answer {result.answer!r} ({result.status}: {result.error})")
    return elapsed, result


async def fan_out(tmp: Path, latency: float, repeats: int) -> list[str]:
    rows = []
    # Depth 2 at the defaults needs ranges larger than one call reads: 8 ranges of 16 chunks,
    # each child CALLs 8 of its chunks (the needle sits in one of them).
    for label, chunks, calls, ranges, max_depth in [
        ("64 leaves under the root", 64, 64, 0, 1),
        ("8 planning children x 8 leaves (depth 2)", 128, 8, 8, 2),
    ]:
        doc = haystack(tmp / f"fan{chunks}.txt", chunks, position=0.53)
        with FakeOpenAIServer(
            latency=latency, subcalls_only=True, calls=calls, ranges=ranges
        ) as fake:
            db = str(tmp / f"fan{ranges}.sqlite")
            rlm = RLM(model="m", base_url=fake.base_url, max_depth=max_depth, checkpointer=db)
            best = None
            for _ in range(repeats):
                fake.reset()
                wall, result = await run(rlm, doc)
                stats = summarize(fake.records())
                if best is None or stats["subcall_span"] < best[1]["subcall_span"]:
                    best = (wall, stats, result)
        wall, stats, result = best
        ideal = math.ceil(stats["subcalls"] / rlm.limiter.limit) * latency
        rows.append(
            f"| {label} | {rlm.limiter.limit} | {stats['subcalls']} | {ideal:.2f} | "
            f"{stats['subcall_span']:.2f} | {stats['subcall_span'] / ideal:.2f}x | "
            f"{stats['peak_subcalls_in_flight']} | {wall:.2f} |"
        )
    return rows


async def bytes_per_step(tmp: Path, turns: int) -> str:
    """A planner that CALLs one chunk per turn for ``turns`` turns, then answers."""
    doc = haystack(tmp / f"steps{turns}.txt", turns + 1)
    db = tmp / f"steps{turns}.sqlite"
    with FakeOpenAIServer(calls=1) as fake:

        def one_call_per_turn(messages, calls, ranges=0):
            seen = sum(1 for m in messages if m.get("role") == "assistant")
            if seen < turns:
                return f'CALL("find the code", "chunk:{seen}")'
            return f'FINAL("{ANSWER}")'

        with scripted("_planner_reply", one_call_per_turn):
            rlm = RLM(
                model="m",
                base_url=fake.base_url,
                checkpointer=str(db),
                max_iterations=turns + 2,
                max_calls=turns * 3,
                direct_below=0,  # plan even when the document would fit one call
            )
            await run(rlm, doc)
    count, blob, writes = checkpoint_bytes(db)
    return (
        f"| {turns} | {count} | {blob + writes:,} | {(blob + writes) / count:,.0f} | "
        f"{blob / count:,.0f} | {writes / count:,.0f} |"
    )


async def thousand_leaves(tmp: Path) -> str:
    doc = haystack(tmp / "thousand.txt", 1000)
    db = tmp / "thousand.sqlite"
    with FakeOpenAIServer(calls=100, ranges=10) as fake:
        rlm = RLM(
            model="m", base_url=fake.base_url, max_depth=2, max_calls=2000, checkpointer=str(db)
        )
        wall, result = await run(rlm, doc)
        stats = summarize(fake.records())
    calls = result.usage.model_calls
    count, blob, writes = checkpoint_bytes(db)
    leaves = sum(1 for r in result.records if r.kind == "leaf")
    return (
        f"| {leaves:,} | {calls:,} | {wall:.1f} | {calls / wall:,.0f} | {count:,} | "
        f"{(blob + writes) / 1e6:,.1f} | {(blob + writes) / calls:,.0f} | "
        f"{stats['peak_subcalls_in_flight']} |"
    )


@contextlib.contextmanager
def scripted(name: str, reply: Callable[..., str]) -> Iterator[None]:
    """The fake server's reply function ``name`` replaced by ``reply`` for a while."""
    from benchmarks import fake_openai_server as server_module

    original = getattr(server_module, name)
    setattr(server_module, name, reply)
    try:
        yield
    finally:
        setattr(server_module, name, original)


# REPL mode's version of the 4-leaf run: one cell hands 4 slices of the context to rlm_query
# children (leaves over located spans, so the answer is grounded), the next turn answers.
REPL_FOUR_LEAVES = """\
```repl
parts = [("find the code", context[i * 3000 : (i + 1) * 3000]) for i in range(4)]
found = [a for a in rlm_query_batched(parts) if "ALPHA" in a]
answer = found[0] if found else "NOT FOUND"
print(answer)
```"""


def repl_four_leaves(messages: list[dict], calls: int) -> str:
    answered = any(m.get("role") == "assistant" for m in messages)
    return "FINAL_VAR(answer)" if answered else REPL_FOUR_LEAVES


def largest_step(db: Path) -> int:
    """The most bytes one checkpoint or one pending write stored."""
    with sqlite3.connect(db) as conn:
        (blob,) = conn.execute(
            "select coalesce(max(length(checkpoint)), 0) from checkpoints"
        ).fetchone()
        (write,) = conn.execute("select coalesce(max(length(value)), 0) from writes").fetchone()
    return max(blob, write)


async def context_size(tmp: Path) -> list[str]:
    """The same run (4 leaves over the context's start, then the answer) over a 16 KB and a
    40 MB file, in calls mode (one planner turn CALLing 4 chunks) and in REPL mode (a cell
    calling rlm_query_batched on 4 slices): checkpoints hold references to the context, never
    its text, and REPL mode's sandbox state is stored with the context cut out."""
    rows = []
    for label, size in (("16 KB", 16_000), ("40 MB", 40_000_000)):
        doc = tmp / f"ctx{size}.txt"
        block = make_haystack(min(size, 4_000_000), seed=11, position=0.001)
        with doc.open("w") as out:
            written = 0
            while written < size:
                out.write(block[: size - written])
                written += len(block[: size - written])
        for mode in ("calls", "repl"):
            db = tmp / f"ctx{size}-{mode}.sqlite"
            with FakeOpenAIServer(calls=4) as fake, scripted("_repl_reply", repl_four_leaves):
                rlm = RLM(
                    model="m",
                    base_url=fake.base_url,
                    checkpointer=str(db),
                    direct_below=0,
                    mode=mode,
                )
                await run(rlm, doc)
            count, blob, writes = checkpoint_bytes(db)
            rows.append(
                f"| {mode} | {label} | {doc.stat().st_size:,} | {count} | {blob + writes:,} | "
                f"{(blob + writes) / count:,.0f} | {largest_step(db):,} |"
            )
    return rows


class _Stop(BaseException):
    pass


def _stop_after(leaves: int):
    seen: list[str] = []

    def stop(event: dict) -> None:
        if event.get("event") == "call_finished" and event.get("kind") == "leaf":
            seen.append(event["id"])
            if len(seen) == leaves:
                raise _Stop()

    return stop


async def _stopped_run(base_url: str, doc: Path, db: Path) -> None:
    rlm = RLM(model="m", base_url=base_url, checkpointer=str(db), on_event=_stop_after(8))
    with contextlib.suppress(_Stop):
        await rlm.ainvoke(
            {"query": QUESTION, "context": str(doc)}, {"configurable": {"thread_id": "r"}}
        )


async def resume_latency(tmp: Path) -> list[str]:
    """A run stopped after 8 of 32 leaves, then resumed: the time from the resume call to its
    first model call, in the library and as a whole ``rlm-graph resume`` process."""
    doc = haystack(tmp / "resume.txt", 32)
    rows = []
    with FakeOpenAIServer(latency=0.05, subcalls_only=True, calls=32) as fake:
        await _stopped_run(fake.base_url, doc, tmp / "resume-lib.sqlite")
        first: list[float] = []

        def note(event: dict) -> None:
            if event.get("event") == "model_call_started" and not first:
                first.append(time.perf_counter())

        started = time.perf_counter()
        result = await RLM(checkpointer=str(tmp / "resume-lib.sqlite"), on_event=note).aresume("r")
        assert result.answer == ANSWER, result
        rows.append(f"| library (`RLM.aresume`) | {first[0] - started:.3f} |")

        await _stopped_run(fake.base_url, doc, tmp / "resume-cli.sqlite")
        fake.reset()
        started = time.perf_counter()
        db = str(tmp / "resume-cli.sqlite")
        proc = subprocess.run(
            [sys.executable, "-m", "rlm_graph.cli", "resume", "r", "--db", db, "--quiet"],
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0 and ANSWER in proc.stdout, proc.stderr
        arrival = min(record.arrival for record in fake.records())
        rows.append(f"| a new process (`rlm-graph resume`) | {arrival - started:.3f} |")
    return rows


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument(
        "--only",
        choices=["fan-out", "steps", "context", "resume", "thousand"],
        help="run one table, not all of them",
    )
    args = parser.parse_args()

    def wanted(name: str) -> bool:
        return args.only in (None, name)

    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        if wanted("fan-out"):
            print(
                f"### Fan-out at the default concurrency, {args.latency * 1000:.0f} ms per leaf\n"
            )
            print("Sub-call span measured at the server, best of", args.repeats, "runs.\n")
            print(
                "| tree | concurrency (default) | leaves | ideal span (s) | span (s) "
                "| span / ideal | peak in flight | whole run (s) |"
            )
            print("|---|---:|---:|---:|---:|---:|---:|---:|")
            for row in await fan_out(tmp, args.latency, args.repeats):
                print(row)
        if wanted("steps"):
            print("\n### Checkpoint bytes per step (SQLite; one CALL per planner turn)\n")
            print(
                "| planner turns | checkpoints | bytes stored | bytes per step "
                "| of which checkpoint | of which writes |"
            )
            print("|---:|---:|---:|---:|---:|---:|")
            for turns in (10, 200):
                print(await bytes_per_step(tmp, turns))
        if wanted("context"):
            print("\n### Checkpoint bytes do not grow with the context (SQLite, the same run)\n")
            print(
                "| mode | context | bytes | checkpoints | bytes stored | bytes per step "
                "| largest step |"
            )
            print("|---|---|---:|---:|---:|---:|---:|")
            for row in await context_size(tmp):
                print(row)
        if wanted("resume"):
            print("\n### Resume: from the call to its first model call (8 of 32 leaves done)\n")
            print("| resumed by | seconds to the first model call |")
            print("|---|---:|")
            for row in await resume_latency(tmp):
                print(row)
        if wanted("thousand"):
            print("\n### 1,000 leaves, zero-latency server, SQLite checkpointer\n")
            print(
                "| leaves | model calls | wall (s) | model calls / s | checkpoints | MB stored "
                "| bytes per model call | peak in flight |"
            )
            print("|---:|---:|---:|---:|---:|---:|---:|---:|")
            print(await thousand_leaves(tmp))


if __name__ == "__main__":
    asyncio.run(main())
