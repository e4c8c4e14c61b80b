"""Execution trees at scale: 100,000 calls to networkx and to every file format, and the HTML
explorer opened in headless Chromium at 10,000 and 100,000 calls.

    .venv/bin/python benchmarks/tree_scale.py [--calls 100000]

The tree is synthetic but shaped like a real depth-2 run: a root, planning children, leaves
under each (records as the graph writes them). PNG and SVG of trees this size are drawn by the
pure-Python layered layout (graphviz's layout would take minutes); the DOT file is written.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rlm_graph.state import CallRecord, Usage  # noqa: E402
from rlm_graph.tree import FORMATS, build_tree, write_tree  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def records(calls: int) -> list[CallRecord]:
    children = max(1, int((calls - 1) ** 0.5))
    leaves_each = max(1, (calls - 1 - children) // children)
    out = [
        CallRecord(
            id="t1", kind="root", task="question", status="done", started_at=0.0, ended_at=100.0
        )
    ]
    for i in range(1, children + 1):
        out.append(
            CallRecord(
                id=f"t1.{i}",
                parent_id="t1",
                depth=1,
                kind="node",
                task=f"part {i}",
                target=f"chunks:{i}",
                status="done",
                started_at=i * 0.01,
                ended_at=50 + i * 0.01,
                answer="none",
            )
        )
        for j in range(1, leaves_each + 1):
            out.append(
                CallRecord(
                    id=f"t1.{i}.{j}", parent_id=f"t1.{i}", depth=2, kind="leaf", task="find the code",
                    target=f"chunk:{j}", status="done", outcome="not_found", started_at=i * 0.01 + j * 0.001,
                    ended_at=i * 0.01 + j * 0.001 + 1.5, context_start=j * 8000, context_end=j * 8000 + 8000,
                    usage=Usage(input_tokens=2100, output_tokens=12, model_calls=1), model="local:0.5b",
                )
            )  # fmt: skip
    return out


def open_in_chromium(path: Path) -> tuple[float, int] | None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if not Path(CHROMIUM).exists():
        return None
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_page()
        started = time.perf_counter()
        page.goto(path.as_uri())
        page.wait_for_selector("#tree li.node")
        seconds = time.perf_counter() - started
        shown = page.locator("#tree li.node").count()
        browser.close()
    return seconds, shown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=100_000)
    args = parser.parse_args()
    made = records(args.calls)
    started = time.perf_counter()
    tree = build_tree(made)
    built = time.perf_counter() - started
    print(f"`python benchmarks/tree_scale.py --calls {args.calls}`\n")
    print("| what | nodes | seconds | file size |")
    print("|---|---:|---:|---:|")
    print(f"| records -> networkx (`build_tree`) | {tree.number_of_nodes():,} | {built:.2f} | |")
    with tempfile.TemporaryDirectory() as folder:
        for fmt in FORMATS:
            path = Path(folder) / f"tree.{fmt}"
            started = time.perf_counter()
            write_tree(tree, fmt, path)
            seconds = time.perf_counter() - started
            print(
                f"| {fmt} | {tree.number_of_nodes():,} | {seconds:.2f} | {path.stat().st_size / 1e6:,.1f} MB |"
            )
        for size in (10_000, args.calls):
            small = build_tree(records(size)) if size != args.calls else tree
            path = Path(folder) / f"explore-{size}.html"
            write_tree(small, "html", path)
            opened = open_in_chromium(path)
            if opened is None:
                print(f"| explorer in Chromium | {small.number_of_nodes():,} | (no chromium) | |")
            else:
                seconds, shown = opened
                print(
                    f"| explorer opens in headless Chromium ({shown:,} rows drawn, the rest folded) | {small.number_of_nodes():,} | {seconds:.2f} | {path.stat().st_size / 1e6:,.1f} MB |"
                )


if __name__ == "__main__":
    main()
