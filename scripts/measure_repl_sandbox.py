"""Numbers for docs/repl-sandbox.md: context size vs session start time, worker memory, cell
overhead and state bytes, on the monty REPL sandbox.

    .venv/bin/python scripts/measure_repl_sandbox.py 16K 10M 40M 100M
"""

from __future__ import annotations

import asyncio
import sys
import time

from rlm_graph.repl import MontySandbox, SandboxLimits

LINE = "2024-01-01 INFO user=alice action=login status=ok id=000000\n"  # 60 bytes


def parse_size(text: str) -> int:
    units = {"K": 1024, "M": 1024 * 1024}
    return int(text[:-1]) * units[text[-1]] if text[-1] in units else int(text)


def worker_mb(pid: int | None) -> str:
    if pid is None:
        return "?"
    try:
        with open(f"/proc/{pid}/status") as fh:
            fields = dict(line.split(":", 1) for line in fh if ":" in line)
    except OSError:
        return "?"
    rss = int(fields["VmRSS"].split()[0]) // 1024
    peak = int(fields["VmHWM"].split()[0]) // 1024
    return f"{rss} MB (peak {peak} MB)"


async def measure(size: int) -> None:
    context = LINE * (size // len(LINE))
    async with MontySandbox() as sandbox:
        t0 = time.perf_counter()
        session = await sandbox.start(context, SandboxLimits())
        started = time.perf_counter() - t0
        memory = worker_mb(session.worker_pid)
        t0 = time.perf_counter()
        await session.run("n = len(context)")
        cell = time.perf_counter() - t0
        idle = await session.state()
        paused = await session.run("a = llm_query(context[:100])")
        assert paused.status == "paused"
        t0 = time.perf_counter()
        paused_state = await session.state()
        dump_time = time.perf_counter() - t0
        await session.resume({paused.pending[0].id: "x"})
        t0 = time.perf_counter()
        out = await session.run("import re\nlen(re.findall(r'user=(\\w+)', context))")
        regex = time.perf_counter() - t0
        t0 = time.perf_counter()
        await session.run("lines = context.splitlines()\nk = len(lines)\nlines = None")
        split = time.perf_counter() - t0
        after_split = await session.state()
        await session.close()
        t0 = time.perf_counter()
        restored = await sandbox.restore(paused_state, context)
        restore = time.perf_counter() - t0
        await restored.close()
    print(
        f"{size / 1024 / 1024:8.2f} MB | start {started:5.2f} s | worker {memory} | "
        f"cell {cell:5.2f} s | re.findall {regex:5.2f} s ({out.result} hits) | "
        f"splitlines {split:5.2f} s | idle state {len(idle)} B | paused state "
        f"{len(paused_state)} B ({dump_time:4.2f} s) | state after splitlines {len(after_split)} B "
        f"| restore {restore:4.2f} s"
    )


async def main(sizes: list[str]) -> None:
    for size in sizes:
        await measure(parse_size(size))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:] or ["16K", "10M"]))
