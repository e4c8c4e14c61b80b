"""GREP speed over a 1 GB file, the way the model's GREP runs it, against Python's ``re``.

    .venv/bin/python benchmarks/grep_speed.py [--file PATH] [--gb 1.0]

Writes (or reuses, with --file) a ~1 GB text file of numbered notes, then times
``open_context(path).grep(pattern)`` (memory-mapped, RE2, blocks of 64 MB) for a few pattern
kinds, and the same search with Python's ``re`` on the first 200 MB (the old engine: slower,
and exponential on hostile patterns, which is why it is not run on the last row). Peak RSS is
read from the process after each row: pages of the memory map are released block by block.
"""

from __future__ import annotations

import argparse
import mmap
import random
import re
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rlm_graph.context import Chunking, open_context  # noqa: E402
from rlm_graph.samples import make_haystack  # noqa: E402

CHUNKING = Chunking(chunk_tokens=2000, overlap_tokens=100)
PYTHON_RE_BYTES = 200 << 20
NEEDLE = "The zebra quartz code is 5512-KESTREL."
PATTERNS = [
    ("rare literal (one needle)", r"zebra quartz"),
    ("alternation of words", r"error|warning|fatal"),
    ("character class", r"\d{4}-[A-Z]+"),
    ("catastrophic for backtracking", r"(a+)+$"),
]


def write_file(path: Path, size: int) -> None:
    block = make_haystack(8_000_000, seed=9).encode()
    # A few lines the alternation row can find; the needle once, at a random place.
    block = block.replace(b"Note 10. ", b"Note 10. A warning was logged. ", 1)
    at = random.Random(3).randrange(size)
    with path.open("wb") as out:
        written = 0
        while written < size:
            if written <= at < written + len(block):
                out.write(NEEDLE.encode() + b"\n")
            out.write(block)
            written += len(block)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ours(path: Path, pattern: str) -> tuple[float, int]:
    view = open_context(path)
    started = time.perf_counter()
    result = view.grep(pattern, CHUNKING, max_hits=40)
    return time.perf_counter() - started, result.total


def python_re(path: Path, pattern: str) -> tuple[float, int]:
    rx = re.compile(pattern.encode(), re.IGNORECASE | re.MULTILINE)
    with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        started = time.perf_counter()
        total = sum(1 for _ in rx.finditer(mm, 0, min(len(mm), PYTHON_RE_BYTES)))
        return time.perf_counter() - started, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", type=Path, help="a text file to search (default: generated)")
    parser.add_argument("--gb", type=float, default=1.0, help="size of the generated file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.file or Path(tmp) / "big.txt"
        if args.file is None:
            write_file(path, int(args.gb * (1 << 30)))
        size = path.stat().st_size
        command = " ".join(["python", "benchmarks/grep_speed.py", *sys.argv[1:]])
        print(f"`{command}` on {size / 1e6:,.0f} MB ({path.name})")
        print(f"\nRSS before the first search: {rss_mb():,.0f} MB\n")
        # Every RE2 row runs before any Python re row: peak RSS only ever grows, and re on an
        # unreleased memory map leaves 200 MB resident, which would show up in later RE2 rows.
        rows: dict[str, list[str]] = {label: [] for label, _ in PATTERNS}
        for label, pattern in PATTERNS:
            seconds, total = ours(path, pattern)
            rows[label].append(
                f"| {label} `{pattern}` | RE2 (GREP) | {size / 1e6:,.0f} | {seconds:.2f} | "
                f"{size / 1e6 / seconds:,.0f} | {total:,} | {rss_mb():,.0f} |"
            )
        for label, pattern in PATTERNS:
            if "catastrophic" in label:
                continue
            seconds, total = python_re(path, pattern)
            searched = min(size, PYTHON_RE_BYTES)
            rows[label].append(
                f"| {label} `{pattern}` | Python re (before) | {searched / 1e6:,.0f} | "
                f"{seconds:.2f} | {searched / 1e6 / seconds:,.0f} | {total:,} | {rss_mb():,.0f} |"
            )
        print("| pattern | engine | MB searched | seconds | MB/s | matches | peak RSS (MB) |")
        print("|---|---|---:|---:|---:|---:|---:|")
        for lines in rows.values():
            print("\n".join(lines))


if __name__ == "__main__":
    main()
