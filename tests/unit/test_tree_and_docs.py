from __future__ import annotations

import re
from pathlib import Path

import networkx as nx
import pytest

from rlm_graph import build_rlm_graph
from rlm_graph.budget import Budget, Limits
from rlm_graph.state import CallRecord, Usage
from rlm_graph.tree import build_tree, tree_summary, tree_to_json

ROOT = Path(__file__).resolve().parents[2]


def record(id_: str, parent: str | None, depth: int, kind: str = "leaf", **kw) -> CallRecord:
    return CallRecord(
        id=id_,
        parent_id=parent,
        depth=depth,
        kind=kind,
        task="t",
        status="done",
        usage=Usage(input_tokens=10, output_tokens=2, model_calls=1),
        started_at=1.0,
        ended_at=3.5,
        **kw,
    )


def test_tree_shape_attributes_and_json_round_trip():
    records = [
        record("root", None, 0, "root"),
        record("root.1", "root", 1, "node"),
        record("root.1.1", "root.1", 2),
        record("root.1.2", "root.1", 2),
        record("root.2", "root", 1),
    ]
    tree = build_tree(records)
    assert list(tree.successors("root")) == ["root.1", "root.2"]
    assert nx.is_arborescence(tree)
    assert tree.nodes["root.1.2"]["latency"] == 2.5
    assert tree.nodes["root.1.2"]["input_tokens"] == 10
    summary = tree_summary(tree)
    assert summary == {"nodes": 5, "max_depth": 2, "leaves": 3, "statuses": {"done": 5}}
    again = nx.node_link_graph(tree_to_json(tree), edges="edges")
    assert set(again.edges) == set(tree.edges)


def test_tree_rejects_orphans():
    with pytest.raises(ValueError, match="unknown parent"):
        build_tree([record("root", None, 0, "root"), record("x.1", "x", 1)])


def test_budget_shares_and_charges():
    budget = Budget.from_limits(Limits(max_calls=10, max_tokens=1000))
    share = budget.share(3)
    assert share.calls_left == 3 and share.tokens_left == 250
    assert budget.share(20).calls_left == 1
    assert Budget.from_limits(Limits(max_calls=1)).share(2) is None
    spent = budget.charge(calls=10, tokens=5)
    assert spent.exhausted_reason() == "model-call budget used up"
    assert budget.charge(tokens=1000).exhausted_reason() == "token budget used up"
    timed = Budget.from_limits(Limits(max_seconds=5)).model_copy(update={"last_tick": 100.0})
    assert timed.tick(now=106.0).exhausted_reason() == "time budget used up"


def test_limits_validate():
    with pytest.raises(ValueError):
        Limits(max_calls=0)
    with pytest.raises(ValueError):
        Limits(max_depth=50)


def test_architecture_doc_has_the_graphs_own_mermaid():
    doc = (ROOT / "docs" / "architecture.md").read_text()
    block = re.search(r"```mermaid\n(.*?)\n```", doc, re.DOTALL).group(1)
    assert block.strip() == build_rlm_graph().compile().get_graph().draw_mermaid().strip()
    for path in re.findall(r"`(rlm_graph/[\w/]+\.py)`", doc):
        assert (ROOT / path).exists(), path


def test_readme_commands_match_the_makefile_and_ci():
    readme = (ROOT / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^demo:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
    assert (ROOT / ".ci" / "run").read_text().strip().endswith("make test")


def test_studio_graph_module_compiles():
    import importlib.util

    spec = importlib.util.spec_from_file_location("studio_graph", ROOT / "graphs" / "rlm.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert set(module.graph.get_graph().nodes) >= {"plan", "call", "recurse", "merge"}


def test_the_root_advertises_what_a_user_needs_and_the_docs_use_only_that():
    import json

    import rlm_graph

    assert set(rlm_graph.__all__) == {
        "RLM",
        "RLMResult",
        "build_rlm_graph",
        "load",
        "RLMError",
        "ContextError",
        "TargetError",
        "ModelSetupError",
        "ThreadError",
    }
    for name in rlm_graph.__all__:
        assert getattr(rlm_graph, name) is not None
    assert rlm_graph.load is __import__("rlm_graph.tree", fromlist=["load"]).load
    assert rlm_graph.Limits is Limits  # reachable, not advertised
    root = Path(__file__).resolve().parents[2]
    texts = [(root / "README.md").read_text()]
    for notebook in (root / "notebooks").glob("*.ipynb"):
        cells = json.loads(notebook.read_text())["cells"]
        texts += ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "code"]
    imported = {
        name.strip()
        for text in texts
        for names in re.findall(r"from rlm_graph import ([\w ,]+)", text)
        for name in names.split(",")
    }
    assert imported and imported <= set(rlm_graph.__all__)
    # Below the root, only the fake model for tests (the README offers it for users' own tests).
    modules = {m for text in texts for m in re.findall(r"from rlm_graph\.([\w.]+) import", text)}
    assert modules <= {"testing"}, modules


def test_no_node_imports_another_node():
    import ast

    nodes = {"begin", "plan", "call", "recurse", "review", "merge"}
    graph = Path(__file__).resolve().parents[2] / "rlm_graph" / "graph"
    for node in nodes:
        tree = ast.parse((graph / f"{node}.py").read_text())
        imported = {
            name.module.rsplit(".", 1)[-1]
            for name in ast.walk(tree)
            if isinstance(name, ast.ImportFrom)
            and (name.module or "").startswith("rlm_graph.graph")
        }
        assert not imported & (nodes - {node}), f"{node}.py imports {imported & nodes}"
