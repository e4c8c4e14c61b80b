"""Execution trees from real runs (fake models): deep, wide, failed and unfinished calls, loaded
from storage, round-tripped through every format, with statistics."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid

import networkx as nx
import pytest

from rlm_graph.samples import make_haystack
from rlm_graph.testing import is_leaf_prompt
from rlm_graph.tree import FORMATS, load, tree_stats, write_tree
from rlm_graph.tree.formats import layered_layout
from rlm_graph.tree.load import namespace_states
from tests.unit.conftest import chunk_calls, final_from_results, make_rlm, planner
from tests.unit.test_durable import Crash, crash_after, fan_out_planner


@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "runs.sqlite")


async def deep_run(db: str, thread: str):
    text = make_haystack(100_000, seed=3, position=0.8)
    rlm = make_rlm(fan_out_planner(2), db, max_depth=2, max_calls=300)
    return await rlm.ainvoke(
        {"query": "What is the vault code?", "context": text},
        {"configurable": {"thread_id": thread}},
    )


async def test_a_stored_deep_run_loads_as_an_arborescence_in_call_order(db):
    result = await deep_run(db, "deep")
    tree = load("deep", db)
    assert nx.is_arborescence(tree)
    assert list(tree.successors("thread")) == ["t1"]
    assert tree.number_of_nodes() == len(result.records) + 1
    children = list(tree.successors("t1"))
    assert children == sorted(children, key=lambda c: int(c.split(".")[1]))
    assert [tree.edges["t1", c]["order"] for c in children] == list(range(1, len(children) + 1))
    node = tree.nodes[children[0]]
    assert node["kind"] == "node" and node["depth"] == 1 and node["line_start"] >= 1
    leaf = next(iter(tree.successors(children[0])))
    attrs = tree.nodes[leaf]
    assert attrs["kind"] == "leaf" and attrs["depth"] == 2 and attrs["status"] == "done"
    assert attrs["latency"] >= 0 and attrs["input_tokens"] > 0 and "prompt" in attrs
    assert attrs["span_end"] > attrs["span_start"]
    # Planning calls carry their conversation as their prompt.
    assert "[model]" in tree.nodes[children[0]]["prompt"]
    # result.tree is the same tree for the turn (rooted at its root call).
    assert set(result.tree.nodes) == set(tree.nodes) - {"thread"}


async def test_the_tree_agrees_with_the_checkpoint_namespaces(db):
    """Each planning child keeps its own checkpoint namespace, nested in its parent's: the
    nesting of namespaces implies the same tree of planning calls as the records."""
    await deep_run(db, "ns")
    tree = load("ns", db)
    from rlm_graph.graph.builder import build_rlm_graph
    from rlm_graph.persistence import open_backend

    async with open_backend(db) as backend:
        graph = build_rlm_graph().compile(checkpointer=backend.saver)
        states = await namespace_states(graph, backend.saver, "ns")
    by_namespace = {ns: values["call_id"] for ns, values in states.items()}
    implied = set()
    for ns, call_id in by_namespace.items():
        if ns:
            parent_ns = ns.rsplit("|", 1)[0] if "|" in ns else ""
            implied.add((by_namespace[parent_ns], call_id))
    planning = {
        (parent, child)
        for parent, child in tree.edges()
        if parent != "thread" and tree.nodes[child]["kind"] == "node"
    }
    assert implied == planning and len(planning) >= 4


async def test_wide_failed_and_unfinished_calls_are_in_the_tree(db):
    def failing_leaf(messages):
        if "chunk:3" in str(messages[-1].content) or "Note 3" in str(messages[-1].content)[:400]:
            raise ConnectionError("server went away")
        return "NOT FOUND"

    model = planner(
        lambda m, t: chunk_calls("find", 30) if t == 0 else 'FINAL("x")', leaf=failing_leaf
    )
    text = make_haystack(100_000, seed=3)
    await make_rlm(model, db, max_calls=100).ainvoke(
        {"query": "What is the vault access code?", "context": text},
        {"configurable": {"thread_id": "wide"}},
    )
    tree = load("wide", db)
    assert tree.out_degree("t1") >= 25  # a wide fan-out (a chunk or two may be refused)
    assert any(
        d.get("status") == "error" and "ConnectionError" in d.get("error", "")
        for _, d in tree.nodes(data=True)
    )

    crashing = make_rlm(
        fan_out_planner(1, latency=lambda m: 0.01 if is_leaf_prompt(m) else 0),
        db,
        durability="sync",
        on_event=crash_after(3),
    )
    with pytest.raises(Crash):
        await crashing.ainvoke(
            {"query": "What is the vault code?", "context": text},
            {"configurable": {"thread_id": "unfinished"}},
        )
    unfinished = load("unfinished", db)
    statuses = [d.get("status") for n, d in unfinished.nodes(data=True) if n != "thread"]
    assert "running" in statuses and "done" in statuses
    assert nx.is_arborescence(unfinished)


async def test_follow_up_turns_hang_under_the_thread(db, haystack):
    rlm = make_rlm(
        planner(lambda m, t: chunk_calls("find", 2) if t == 0 else final_from_results(m)), db
    )
    config = {"configurable": {"thread_id": "turns"}}
    await rlm.ainvoke({"query": "first", "context": haystack}, config)
    rlm2 = make_rlm(
        planner(lambda m, t: chunk_calls("find", 3) if t == 0 else final_from_results(m)), db
    )
    await rlm2.ainvoke({"query": "second"}, config)
    tree = load("turns", db)
    assert list(tree.successors("thread")) == ["t1", "t2"]
    assert tree.out_degree("t1") == 2 and tree.out_degree("t2") == 3
    assert nx.is_arborescence(tree)


@pytest.fixture
async def stored_tree(db):
    await deep_run(db, f"fmt-{uuid.uuid4().hex[:4]}")
    return load(next(iter(await _threads(db))), db)


async def _threads(db):
    from rlm_graph import RLM

    return [run.thread_id for run in await RLM(checkpointer=db).aruns()]


async def test_every_format_round_trips(stored_tree, tmp_path):
    tree = stored_tree
    paths = {fmt: write_tree(tree, fmt, tmp_path / f"tree.{fmt}") for fmt in FORMATS}
    again = nx.node_link_graph(json.loads(paths["json"].read_text()), edges="edges")
    assert set(again.edges) == set(tree.edges)
    for fmt, reader in (("graphml", nx.read_graphml), ("gexf", nx.read_gexf)):
        back = reader(paths[fmt])
        assert set(back.edges) == set(tree.edges), fmt
        leaf = next(n for n, d in tree.nodes(data=True) if d.get("kind") == "leaf")
        # Typed, not stringified: ints stay ints, floats floats, booleans booleans.
        assert back.nodes[leaf]["input_tokens"] == tree.nodes[leaf]["input_tokens"], fmt
        assert isinstance(back.nodes[leaf]["latency"], float), fmt
        assert back.nodes[leaf]["depth"] == 2, fmt
        root = back.nodes["t1"]
        assert root["verified"] is True and isinstance(root["verified"], bool), fmt
        assert json.loads(root["evidence"])[0]["verified"] is True, fmt
    assert paths["png"].read_bytes().startswith(b"\x89PNG")
    assert b"<svg" in paths["svg"].read_bytes()[:2000]
    mermaid = paths["mermaid"].read_text()
    assert mermaid.startswith("graph TD") and mermaid.count("-->") == tree.number_of_edges()
    if shutil.which("dot"):
        rendered = subprocess.run(["dot", "-Tsvg", str(paths["dot"])], capture_output=True)
        assert rendered.returncode == 0 and b"<svg" in rendered.stdout
    html = paths["html"].read_text()
    assert "cdn" not in html.lower() and "<script src" not in html and "t1.1" in html


def test_pictures_are_drawn_without_graphviz_too(stored_tree, tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    write_tree(stored_tree, "png", tmp_path / "py.png")
    assert (tmp_path / "py.png").read_bytes().startswith(b"\x89PNG")
    positions = layered_layout(stored_tree)
    assert set(positions) == set(stored_tree.nodes)
    for parent, child in stored_tree.edges():
        assert positions[child][1] < positions[parent][1]  # children below their parent


async def test_stats_find_the_critical_path_and_parallelism(db):
    text = make_haystack(60_000, seed=3, position=0.8)
    model = fan_out_planner(1, latency=lambda m: 0.05 if is_leaf_prompt(m) else 0.0)
    await make_rlm(model, db, concurrency=4).ainvoke(
        {"query": "What is the vault code?", "context": text},
        {"configurable": {"thread_id": "stats"}},
    )
    tree = load("stats", db)
    stats = tree_stats(tree)
    (path,) = stats["critical_path"]
    assert path[0]["id"] == "t1" and len(path) == 2
    leaves = [n for n, d in tree.nodes(data=True) if d.get("kind") == "leaf"]
    assert path[1]["id"] == max(leaves, key=lambda n: tree.nodes[n]["ended_at"])
    assert stats["parallel_efficiency"] > 1.5  # four calls at a time
    assert stats["per_depth"][1]["calls"] == len(leaves)
    assert stats["fan_out"]["max"] == len(leaves)
    assert stats["slowest"][0]["id"] == "t1"


async def test_parallel_efficiency_counts_model_time_not_waiting_for_a_slot(db):
    """One model call at a time: every leaf but the first waited for the slot. That wait is
    not parallelism, and the stats say where it went."""
    text = make_haystack(60_000, seed=3, position=0.8)
    model = fan_out_planner(1, latency=lambda m: 0.05 if is_leaf_prompt(m) else 0.0)
    await make_rlm(model, db, concurrency=1).ainvoke(
        {"query": "What is the vault code?", "context": text},
        {"configurable": {"thread_id": "serial"}},
    )
    tree = load("serial", db)
    stats = tree_stats(tree)
    leaves = [d for _, d in tree.nodes(data=True) if d.get("kind") == "leaf"]
    assert len(leaves) >= 4 and all(d["model_seconds"] >= 0.05 for d in leaves)
    assert all(d["model_seconds"] <= d["latency"] for d in leaves)
    assert stats["parallel_efficiency"] <= 1.05
    assert stats["leaf_waiting_seconds"] >= 0.05 * (len(leaves) - 1) * len(leaves) / 2 * 0.9


def test_the_tree_command_writes_files_and_stats(tmp_path, db):
    import asyncio
    import os
    import sys

    asyncio.run(deep_run(db, "cli"))
    env = {**os.environ}
    out = tmp_path / "cli.graphml"
    proc = subprocess.run(
        [sys.executable, "-m", "rlm_graph.cli", "tree", "cli", "--db", db, "--format", "graphml", "--out", str(out)],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert nx.is_arborescence(nx.read_graphml(out))
    stats = subprocess.run(
        [sys.executable, "-m", "rlm_graph.cli", "tree", "cli", "--db", db, "--stats", "--json"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert json.loads(stats.stdout)["critical_path"][0][0]["id"] == "t1"
    missing = subprocess.run(
        [sys.executable, "-m", "rlm_graph.cli", "tree", "nope", "--db", db],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert missing.returncode == 2 and "no thread nope" in missing.stderr


def test_the_live_view_draws_the_tree_as_it_grows():
    import io

    from rich.console import Console

    from rlm_graph.progress import ProgressDisplay

    display = ProgressDisplay(Console(file=io.StringIO(), width=120))
    display({"event": "call_started", "id": "t1", "parent": None, "kind": "root", "target": "all"})
    for i in range(1, 21):
        display(
            {
                "event": "call_started",
                "id": f"t1.{i}",
                "parent": "t1",
                "kind": "leaf",
                "target": f"chunk:{i - 1}",
            }
        )
    for i in range(1, 15):
        display(
            {
                "event": "call_finished",
                "id": f"t1.{i}",
                "kind": "leaf",
                "status": "done",
                "outcome": "not_found",
            }
        )
    display(
        {
            "event": "call_finished",
            "id": "t1.15",
            "kind": "leaf",
            "status": "done",
            "answer": "7391-ALPHA",
            "verified": True,
        }
    )
    console = Console(file=io.StringIO(), width=120, record=True)
    console.print(display.__rich__())
    text = console.export_text()
    assert "t1 all running" in text and "t1.16 chunk:15 running" in text
    assert "7391-ALPHA ✓" in text and "more (15 done, 5 running)" in text
