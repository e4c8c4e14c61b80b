"""Pool the samples of one or more ``rlm-graph bench`` result files into one table.

    .venv/bin/python benchmarks/bench_table.py FILE.json [FILE.json ...] [--by shape]

Runs on several seeds (or split over sessions with ``--resume``) answer one question together:
how often is each method right, and how often is a grounded answer wrong. Each row pools every
sample of a task x method over the files given, with a 95% Wilson interval on the share right
and on the false-grounded share (wrong answers among those marked grounded), so a reader sees
how much a handful of samples can say. ``--by shape`` splits the needle tasks by the needle's
shape (sentence, name, date, number, code). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

Z95 = 1.96


def wilson(hits: int, n: int) -> tuple[float, float]:
    """The 95% Wilson score interval of a share ``hits / n`` (0..1 each side)."""
    if n == 0:
        return (0.0, 1.0)
    p = hits / n
    centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / (1 + Z95**2 / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def share(hits: int, n: int) -> str:
    if n == 0:
        return "-"
    low, high = wilson(hits, n)
    return f"{hits}/{n} ({100 * hits / n:.0f}%, {100 * low:.0f}-{100 * high:.0f})"


def load_samples(paths: list[Path]) -> tuple[list[dict[str, Any]], list[int]]:
    samples, seeds = [], []
    for path in paths:
        data = json.loads(path.read_text(encoding="utf-8"))
        seeds.append(data.get("seed"))
        for result in data.get("results", []):
            samples.append({**result, "seed": data.get("seed")})
    return samples, seeds


def rows(samples: list[dict[str, Any]], by_shape: bool) -> list[list[str]]:
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for sample in samples:
        shape = (sample.get("shape") or "") if by_shape else ""
        groups[(sample["task"], shape, sample["method"])].append(sample)
    table = []
    for (task, shape, method), group in groups.items():
        grounded = [s for s in group if s.get("grounded")]
        recalls = [s["recall"] for s in group if s.get("recall") is not None]
        text = sum(s.get("text_tokens") or 0 for s in group)
        read = sum(s.get("input_tokens") or 0 for s in group) / text if text else None
        table.append(
            [
                task + (f" ({shape})" if shape else ""),
                method,
                share(sum(bool(s["correct"]) for s in group), len(group)),
                share(len(grounded), len(group)),
                share(sum(not s["correct"] for s in grounded), len(grounded)),
                f"{statistics.mean(recalls):.2f}" if recalls else "-",
                f"{read:.2f}x" if read is not None else "-",
                f"{statistics.mean(s.get('model_calls') or 0 for s in group):.1f}",
                f"{statistics.median(s.get('seconds') or 0 for s in group):.0f}",
                str(sum(s.get("status") == "error" for s in group)),
            ]
        )
    return table


HEADER = [
    "task",
    "method",
    "right (95% CI)",
    "grounded",
    "false-grounded (95% CI)",
    "recall",
    "read",
    "calls",
    "median s",
    "errors",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", type=Path, help="bench result files (--out)")
    parser.add_argument("--by", choices=("shape",), help="split needle tasks by needle shape")
    args = parser.parse_args(argv)
    samples, seeds = load_samples(args.files)
    print(f"{len(samples)} samples from seeds {', '.join(map(str, seeds))}\n")
    print("| " + " | ".join(HEADER) + " |")
    print("|" + "|".join("---" if i < 2 else "---:" for i in range(len(HEADER))) + "|")
    for row in rows(samples, args.by == "shape"):
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
