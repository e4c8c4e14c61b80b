"""Analytics of an execution tree: where the time and the tokens went.

- the critical path: from a root, each step to the child that finished last (the one its
  parent waited for), down to a leaf: the chain of calls that set the wall time;
- calls and tokens per depth; fan-out (children per planning call);
- the slowest and the most expensive calls;
- parallel efficiency: the summed time the model spent answering, over every call, divided by
  the root's wall time (above 1: model calls ran at the same time). Time a call waited for a
  slot under the concurrency limit is not model time; the leaves' waiting is reported apart.
"""

from __future__ import annotations

from statistics import mean
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import networkx as nx

TOP = 5


def _calls(tree: nx.DiGraph) -> list[tuple[str, dict[str, Any]]]:
    return [(n, d) for n, d in tree.nodes(data=True) if d.get("kind") != "thread"]


def critical_path(tree: nx.DiGraph, root: str) -> list[str]:
    path = [root]
    while True:
        children = list(tree.successors(path[-1]))
        if not children:
            return path
        path.append(max(children, key=lambda c: tree.nodes[c].get("ended_at") or float("inf")))


def tree_stats(tree: nx.DiGraph) -> dict[str, Any]:
    calls = _calls(tree)
    roots = [n for n, d in calls if d.get("kind") == "root"]
    by_depth: dict[int, dict[str, int]] = {}
    for _, data in calls:
        row = by_depth.setdefault(data.get("depth", 0), {"calls": 0, "model_calls": 0, "tokens": 0})
        row["calls"] += 1
        row["model_calls"] += data.get("model_calls", 0)
        row["tokens"] += data.get("input_tokens", 0) + data.get("output_tokens", 0)
    fan_out = [tree.out_degree(n) for n, d in calls if tree.out_degree(n) > 0]
    leaves = [d for _, d in calls if d.get("kind") == "leaf"]
    wall = sum(tree.nodes[r].get("latency") or 0.0 for r in roots)
    model_time = sum(d.get("model_seconds") or 0.0 for _, d in calls)
    leaf_waiting = sum(
        max(0.0, (d.get("latency") or 0.0) - (d.get("model_seconds") or 0.0)) for d in leaves
    )

    def brief(node: str) -> dict[str, Any]:
        data = tree.nodes[node]
        return {
            "id": node,
            "target": data.get("target"),
            "latency": round(data.get("latency") or 0.0, 3),
            "tokens": data.get("input_tokens", 0) + data.get("output_tokens", 0),
            "cost": data.get("cost"),
        }

    slowest = sorted(calls, key=lambda c: c[1].get("latency") or 0.0, reverse=True)[:TOP]
    costly = sorted(
        calls,
        key=lambda c: (
            c[1].get("cost") or c[1].get("input_tokens", 0) + c[1].get("output_tokens", 0)
        ),
        reverse=True,
    )[:TOP]
    return {
        "calls": len(calls),
        "turns": len(roots),
        "critical_path": [[brief(n) for n in critical_path(tree, r)] for r in roots],
        "per_depth": {depth: by_depth[depth] for depth in sorted(by_depth)},
        "fan_out": {
            "planning_calls": len(fan_out),
            "min": min(fan_out, default=0),
            "mean": round(mean(fan_out), 2) if fan_out else 0,
            "max": max(fan_out, default=0),
        },
        "slowest": [brief(n) for n, _ in slowest],
        "most_expensive": [brief(n) for n, _ in costly],
        "wall_seconds": round(wall, 3),
        "model_seconds": round(model_time, 3),
        "leaf_waiting_seconds": round(leaf_waiting, 3),
        "parallel_efficiency": round(model_time / wall, 2) if wall else None,
    }


def render_stats(stats: dict[str, Any]) -> str:
    """The stats as a short report for a terminal."""
    out = [
        f"{stats['calls']} calls in {stats['turns']} turn(s); wall {stats['wall_seconds']:.1f}s, "
        f"model time {stats['model_seconds']:.1f}s: parallel efficiency "
        f"{stats['parallel_efficiency'] if stats['parallel_efficiency'] is not None else '-'}; "
        f"leaves waited {stats['leaf_waiting_seconds']:.1f}s for a model slot",
        "",
        "critical path:",
    ]
    for path in stats["critical_path"]:
        out.append("  " + " -> ".join(f"{c['id']} ({c['latency']:.1f}s)" for c in path))
    out += ["", "per depth: calls, model calls, tokens"]
    for depth, row in stats["per_depth"].items():
        out.append(
            f"  depth {depth}: {row['calls']:,} calls, {row['model_calls']:,} model calls, {row['tokens']:,} tokens"
        )
    fan = stats["fan_out"]
    out += [
        "",
        f"fan-out over {fan['planning_calls']} planning calls: min {fan['min']}, mean {fan['mean']}, max {fan['max']}",
    ]
    for title, key in (("slowest", "slowest"), ("most expensive", "most_expensive")):
        out += ["", f"{title}:"]
        for c in stats[key]:
            cost = f", ${c['cost']:.4f}" if c.get("cost") else ""
            out.append(
                f"  {c['id']} {c['target']}: {c['latency']:.1f}s, {c['tokens']:,} tokens{cost}"
            )
    return "\n".join(out)
