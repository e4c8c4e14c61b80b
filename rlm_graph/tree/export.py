"""The execution tree: derived from call records, exported to networkx.

networkx is imported on first use: a CLI run that only prints an answer never pays for it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from rlm_graph.state import CallRecord

if TYPE_CHECKING:
    import networkx as nx


def _records(records: Iterable[CallRecord | dict[str, Any]]) -> list[CallRecord]:
    return [r if isinstance(r, CallRecord) else CallRecord.model_validate(r) for r in records]


def build_tree(records: Iterable[CallRecord | dict[str, Any]]) -> nx.DiGraph:
    """A ``DiGraph`` with one node per call (attributes: the record's fields, usage flattened)
    and an edge from each parent to its child, in call order."""
    import networkx as nx

    tree = nx.DiGraph()
    parsed = _records(records)
    for record in parsed:
        attrs = record.model_dump(exclude={"usage"})
        attrs.update(
            input_tokens=record.usage.input_tokens,
            output_tokens=record.usage.output_tokens,
            model_calls=record.usage.model_calls,
            seconds=record.seconds,
        )
        tree.add_node(record.id, **attrs)
    for record in parsed:
        if record.parent_id is not None:
            if record.parent_id not in tree:
                raise ValueError(f"call {record.id} names an unknown parent {record.parent_id}")
            tree.add_edge(record.parent_id, record.id)
    return tree


def tree_summary(tree: nx.DiGraph | Iterable[CallRecord | dict[str, Any]]) -> dict[str, Any]:
    """Nodes, deepest level, leaves and calls per status, of a tree or of its records."""
    nodes = getattr(tree, "nodes", None)
    if nodes is not None:
        calls = [data for _, data in nodes(data=True)]
    else:
        calls = [record.model_dump() for record in _records(tree)]
    statuses: dict[str, int] = {}
    for data in calls:
        statuses[data["status"]] = statuses.get(data["status"], 0) + 1
    return {
        "nodes": len(calls),
        "max_depth": max((data.get("depth", 0) for data in calls), default=0),
        "leaves": sum(1 for data in calls if data.get("kind") == "leaf"),
        "statuses": statuses,
    }


def tree_to_json(tree: nx.DiGraph) -> dict[str, Any]:
    """node-link JSON, ready for ``json.dumps`` and ``nx.node_link_graph``."""
    import networkx as nx

    return nx.node_link_data(tree, edges="edges")
