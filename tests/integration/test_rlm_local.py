"""End to end on the real embedded model at temperature 0, through its OpenAI-compatible server."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest

from rlm_graph import RLM
from rlm_graph.samples import DEFAULT_ANSWER, DEFAULT_QUESTION, make_haystack

pytestmark = pytest.mark.integration

SUB_WINDOW = 2000  # tokens a sub-call may read; the haystack is more than 4x that


@pytest.fixture(scope="module")
def haystack(tmp_path_factory):
    path = tmp_path_factory.mktemp("ctx") / "haystack.txt"
    path.write_text(make_haystack(64_000, seed=11, position=0.7))
    return path


async def test_needle_found_through_recursion_on_local_model(local_model, haystack, tmp_path):
    context_tokens = math.ceil(haystack.stat().st_size / 4)
    assert context_tokens >= 4 * SUB_WINDOW
    result = await RLM(
        model=local_model, sub_window_tokens=SUB_WINDOW, checkpointer=str(tmp_path / "c.sqlite")
    ).ainvoke({"query": DEFAULT_QUESTION, "context": str(haystack)})
    assert result.status == "done", (result.error, result.records)
    assert DEFAULT_ANSWER in (result.answer or "")
    tree = result.tree
    assert tree.number_of_nodes() >= 1 + context_tokens // SUB_WINDOW
    assert all(data["kind"] == "leaf" for node, data in tree.nodes(data=True) if node != "t1")
    # The root navigated; it did not read the document.
    assert result.root_input_tokens < context_tokens / 2
    assert result.usage.input_tokens > context_tokens  # the leaves did read all of it


def test_cli_json_on_local_model(haystack, tmp_path):
    env = {**os.environ, "RLM_GRAPH_HOME": str(tmp_path)}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "rlm_graph.cli",
            "ask",
            DEFAULT_QUESTION,
            "--context",
            str(haystack),
            "--sub-window",
            str(SUB_WINDOW),
            "--planner",
            "map-reduce",
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert DEFAULT_ANSWER in out["answer"]
    assert out["status"] == "done" and out["tree"]["max_depth"] == 1
    assert out["usage"]["model_calls"] == out["tree"]["nodes"]  # leaves + one reduce turn
