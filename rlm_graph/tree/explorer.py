"""The execution tree as one self-contained HTML page (no CDN, no network): a collapsible tree,
per-call detail (task, target, prompt, answer, evidence, tokens, timings, errors), search,
colouring by status / latency / tokens, the critical path marked, and a timeline of when each
call ran. Trees of many thousands of calls open collapsed below their top levels."""

from __future__ import annotations

import html
import json
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import networkx as nx


def to_html(tree: nx.DiGraph, title: str | None = None) -> str:
    from rlm_graph.tree.export import tree_to_json
    from rlm_graph.tree.stats import critical_path

    roots = [n for n, d in tree.nodes(data=True) if d.get("kind") == "root"]
    critical = [node for root in roots for node in critical_path(tree, root)]
    data = tree_to_json(tree)
    payload = {"nodes": data["nodes"], "edges": data["edges"], "critical": critical}
    # Inside <script type="application/json">: only "</" could end the element early.
    text = json.dumps(payload, ensure_ascii=False, default=str).replace("</", "<\\/")
    template = resources.files("rlm_graph.tree").joinpath("explorer.html").read_text("utf-8")
    name = title or next(
        (d.get("task") for _, d in tree.nodes(data=True) if d.get("kind") == "thread"), None
    )
    name = name or next(
        (d.get("task", "") for n, d in tree.nodes(data=True) if d.get("kind") == "root"), ""
    )
    return template.replace("__TITLE__", html.escape(f"rlm_graph: {name}"[:120])).replace(
        "__DATA__", text
    )
