"""An execution tree in standard formats: node-link JSON, GraphML, GEXF, DOT, Mermaid, PNG, SVG
and a self-contained HTML explorer.

GraphML and GEXF keep every attribute typed (int, float, bool, str); lists (a call's evidence)
travel as JSON text. DOT renders with graphviz; PNG and SVG are drawn by graphviz's ``dot``
(Debian's ``graphviz`` package) when it is installed and the tree is not huge, and otherwise by
a pure-Python layered layout drawn with matplotlib.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import networkx as nx

Format = Literal["json", "graphml", "gexf", "dot", "mermaid", "png", "svg", "html"]
FORMATS: tuple[str, ...] = ("json", "graphml", "gexf", "dot", "mermaid", "png", "svg", "html")
# Beyond this many nodes graphviz's layout takes minutes: the Python layout draws instead.
GRAPHVIZ_MAX_NODES = 3_000
STATUS_COLOURS = {
    "done": "#d8f3dc",
    "running": "#fff3b0",
    "budget_exhausted": "#ffd6a5",
    "error": "#ffadad",
    "thread": "#e0e0ff",
}


def write_tree(tree: nx.DiGraph, fmt: str, path: str | Path) -> Path:
    """Write ``tree`` to ``path`` in format ``fmt`` (one of ``FORMATS``)."""
    path = Path(path)
    if fmt not in FORMATS:
        raise ValueError(f"unknown tree format {fmt!r}: use {', '.join(FORMATS)}")
    if fmt == "json":
        from rlm_graph.tree.export import tree_to_json

        path.write_text(json.dumps(tree_to_json(tree), ensure_ascii=False, default=str))
    elif fmt in ("graphml", "gexf"):
        import networkx as nx

        flat = flat_copy(tree)
        (nx.write_graphml if fmt == "graphml" else nx.write_gexf)(flat, path)
    elif fmt == "dot":
        path.write_text(to_dot(tree))
    elif fmt == "mermaid":
        path.write_text(to_mermaid(tree))
    elif fmt in ("png", "svg"):
        draw(tree, path, fmt)
    else:
        from rlm_graph.tree.explorer import to_html

        path.write_text(to_html(tree), encoding="utf-8")
    return path


def flat_copy(tree: nx.DiGraph) -> nx.DiGraph:
    """A copy whose attributes GraphML and GEXF can type: lists and dicts as JSON text."""
    flat = tree.copy()
    for _, data in flat.nodes(data=True):
        for key, value in list(data.items()):
            if isinstance(value, list | dict):
                data[key] = json.dumps(value, ensure_ascii=False)
    return flat


def _label(node: str, data: dict[str, Any]) -> str:
    if data.get("kind") == "thread":
        return f"thread {data.get('task') or ''}".strip()
    answer = data.get("answer_preview") or (
        "not found" if data.get("outcome") == "not_found" else ""
    )
    mark = " ✓" if data.get("verified") else ""
    lines = [f"{node} {data.get('target', '')}", answer[:40] + mark]
    tokens = data.get("input_tokens", 0) + data.get("output_tokens", 0)
    lines.append(f"{data.get('status', '')} · {tokens:,} tok · {data.get('latency') or 0:.1f}s")
    return "\n".join(line for line in lines if line.strip())


def _colour(data: dict[str, Any]) -> str:
    kind = "thread" if data.get("kind") == "thread" else data.get("status", "done")
    return STATUS_COLOURS.get(kind, "#eeeeee")


def to_dot(tree: nx.DiGraph) -> str:
    def quote(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'

    lines = [
        "digraph rlm {",
        "  rankdir=TB;",
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10];',
    ]
    for node, data in tree.nodes(data=True):
        lines.append(
            f"  {quote(node)} [label={quote(_label(node, data))}, fillcolor={quote(_colour(data))}];"
        )
    for parent, child in tree.edges():
        lines.append(f"  {quote(parent)} -> {quote(child)};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_mermaid(tree: nx.DiGraph) -> str:
    """A Mermaid flowchart to paste into Markdown (```mermaid ... ```)."""
    ids = {node: f"n{i}" for i, node in enumerate(tree.nodes)}

    def text(node: str, data: dict[str, Any]) -> str:
        return _label(node, data).replace('"', "'").replace("\n", "<br/>")

    lines = ["graph TD"]
    for node, data in tree.nodes(data=True):
        lines.append(f'  {ids[node]}["{text(node, data)}"]')
    for parent, child in tree.edges():
        lines.append(f"  {ids[parent]} --> {ids[child]}")
    for status, colour in STATUS_COLOURS.items():
        members = [ids[n] for n, d in tree.nodes(data=True) if _colour(d) == colour]
        if members:
            lines.append(f"  classDef {status} fill:{colour}")
            lines.append(f"  class {','.join(members)} {status}")
    return "\n".join(lines) + "\n"


def draw(tree: nx.DiGraph, path: Path, fmt: str) -> None:
    """PNG or SVG: graphviz's ``dot`` when installed (and the tree not huge), else matplotlib."""
    dot = shutil.which("dot")
    if dot and tree.number_of_nodes() <= GRAPHVIZ_MAX_NODES:
        subprocess.run([dot, f"-T{fmt}", "-o", str(path)], input=to_dot(tree).encode(), check=True)
        return
    _draw_python(tree, path, fmt)


def layered_layout(tree: nx.DiGraph) -> dict[str, tuple[float, float]]:
    """Leaves spread left to right in call order, each parent above the middle of its
    children, one row per depth: a tree layout with no dependency beyond Python (linear)."""
    # Not networkx's bfs_layout: it spreads each layer evenly (a parent does not stand above
    # its children) and needs a single start node.
    roots = [n for n, d in tree.in_degree() if d == 0]
    positions: dict[str, tuple[float, float]] = {}
    next_x = 0.0
    for root in roots:
        # Iterative post-order (a 100,000-node tree is deeper than Python's recursion allows).
        stack: list[tuple[str, int, bool]] = [(root, 0, False)]
        while stack:
            node, depth, expanded = stack.pop()
            children = sorted(
                tree.successors(node), key=lambda c: tree.edges[node, c].get("order", 0)
            )
            if not expanded and children:
                stack.append((node, depth, True))
                stack.extend((child, depth + 1, False) for child in reversed(children))
                continue
            if children:
                x = sum(positions[c][0] for c in children) / len(children)
            else:
                x, next_x = next_x, next_x + 1.0
            positions[node] = (x, -float(depth))
    return positions


def _draw_python(tree: nx.DiGraph, path: Path, fmt: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    positions = layered_layout(tree)
    width = max(6.0, min(60.0, len([1 for n in tree if tree.out_degree(n) == 0]) * 0.4))
    depth = max((-y for _, y in positions.values()), default=0)
    fig, ax = plt.subplots(figsize=(width, 2.0 + 1.5 * depth))
    segments = [(positions[a], positions[b]) for a, b in tree.edges()]
    ax.add_collection(LineCollection(segments, colors="#999999", linewidths=0.5))
    xs = [positions[n][0] for n in tree]
    ys = [positions[n][1] for n in tree]
    colours = [_colour(tree.nodes[n]) for n in tree]
    ax.scatter(
        xs, ys, c=colours, s=30 if len(tree) < 2_000 else 2, edgecolors="#555555", linewidths=0.3
    )
    if len(tree) <= 60:
        for node in tree:
            x, y = positions[node]
            ax.annotate(
                node,
                (x, y),
                fontsize=7,
                ha="center",
                va="bottom",
                xytext=(0, 4),
                textcoords="offset points",
            )
    ax.autoscale()
    ax.set_axis_off()
    fig.savefig(path, format=fmt, dpi=110, bbox_inches="tight")
    plt.close(fig)
