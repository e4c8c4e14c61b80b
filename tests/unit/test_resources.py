"""A long-lived process (a server, a notebook) must not collect open files run after run."""

from __future__ import annotations

import gc
import os
from pathlib import Path

import pytest

from tests.unit.conftest import make_rlm, planner

RUNS = 1000


def open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="needs /proc")
async def test_a_thousand_runs_keep_the_count_of_open_files_flat(tmp_path):
    doc = tmp_path / "doc.txt"
    doc.write_text("The code is 1234-ALPHA.\n" * 40)
    folder = tmp_path / "folder"
    folder.mkdir()
    for i in range(3):
        (folder / f"part{i}.txt").write_text(f"part {i}: the code is 1234-ALPHA.\n")
    rlm = make_rlm(planner(["unused"]), str(tmp_path / "runs.sqlite"))
    await rlm.ainvoke(
        {"query": "What is the vault code?", "context": str(doc)}
    )  # warm-up: lazy imports, pools
    before = open_files()
    # Without the cycle collector, only closing what a run opened keeps the count flat:
    # garbage collection is not a plan for file handles.
    gc.disable()
    try:
        for run in range(RUNS):
            context = str(folder) if run % 2 else str(doc)  # memory-mapped files and folders
            result = await rlm.ainvoke({"query": "What is the vault code?", "context": context})
            assert result.answer == "1234-ALPHA"
        assert open_files() <= before + 2
    finally:
        gc.enable()


async def test_a_runtime_shared_by_many_runs_closes_each_context(tmp_path):
    """A server keeps one runtime (and so one context registry) for every run it serves:
    each run's context must be closed when the run ends, not kept for the process's life."""
    from rlm_graph import build_rlm_graph

    docs = []
    for i in range(4):
        doc = tmp_path / f"doc{i}.txt"
        doc.write_text(f"Document {i}. The code is 1234-ALPHA.\n" * 20)
        docs.append(str(doc))
    runtime = make_rlm(planner(["unused"])).runtime()
    graph = build_rlm_graph().compile()
    await graph.ainvoke({"query": "What is the vault code?", "context": docs[0]}, context=runtime)
    before = open_files()
    for run in range(RUNS // 4):
        final = await graph.ainvoke(
            {"query": "What is the vault code?", "context": docs[run % 4]}, context=runtime
        )
        assert final["answer"] == "1234-ALPHA"
        assert len(runtime.registry) == 0
    assert open_files() <= before + 2
