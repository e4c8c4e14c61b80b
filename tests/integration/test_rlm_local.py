"""End to end on the real embedded model at temperature 0, through its OpenAI-compatible server.

Kept small on purpose: a 2-core machine under load reads ~50-100 tokens/s, so every case uses
short leaves (a 2,000-token sub-window over a document 3x that size) and each model request
gets a generous timeout of its own.
"""

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

SUB_WINDOW = 2000  # tokens a sub-call may read; the haystack is 3x that
REQUEST_TIMEOUT = 900  # seconds per model request: generous, for a loaded machine


@pytest.fixture(scope="module")
def haystack(tmp_path_factory):
    path = tmp_path_factory.mktemp("ctx") / "haystack.txt"
    path.write_text(make_haystack(24_000, seed=11, position=0.7))
    return path


async def test_needle_found_through_recursion_on_local_model(local_model, haystack, tmp_path):
    context_tokens = math.ceil(haystack.stat().st_size / 4)
    assert context_tokens >= 3 * SUB_WINDOW
    result = await RLM(
        model=local_model,
        sub_window_tokens=SUB_WINDOW,
        checkpointer=str(tmp_path / "c.sqlite"),
        timeout=REQUEST_TIMEOUT,
    ).ainvoke({"query": DEFAULT_QUESTION, "context": str(haystack)})
    assert result.status == "done", (result.error, result.records)
    assert DEFAULT_ANSWER in (result.answer or "")
    assert result.route == "recursive"
    tree = result.tree
    assert tree.number_of_nodes() >= 1 + context_tokens // SUB_WINDOW
    assert all(data["kind"] == "leaf" for node, data in tree.nodes(data=True) if node != "t1")
    # The root navigated; it did not read the document.
    assert result.root_input_tokens < context_tokens
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
            "--timeout",
            str(REQUEST_TIMEOUT),
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=3600,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert DEFAULT_ANSWER in out["answer"]
    assert out["status"] == "done" and out["tree"]["max_depth"] == 1
    assert out["usage"]["model_calls"] == out["tree"]["nodes"]  # leaves + one reduce turn
