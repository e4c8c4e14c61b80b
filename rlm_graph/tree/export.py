"""The execution tree: derived from call records, exported to networkx."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import networkx as nx

from rlm_graph.state import CallRecord


def build_tree(records: Iterable[CallRecord | dict[str, Any]]) -> nx.DiGraph:
    """A ``DiGraph`` with one node per call (attributes: the record's fields, usage flattened)
    and an edge from each parent to its child, in call order."""
    tree = nx.DiGraph()
    parsed = [r if isinstance(r, CallRecord) else CallRecord.model_validate(r) for r in records]
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


def tree_summary(tree: nx.DiGraph) -> dict[str, Any]:
    depths = [data.get("depth", 0) for _, data in tree.nodes(data=True)]
    statuses: dict[str, int] = {}
    for _, data in tree.nodes(data=True):
        statuses[data["status"]] = statuses.get(data["status"], 0) + 1
    return {
        "nodes": tree.number_of_nodes(),
        "max_depth": max(depths, default=0),
        "leaves": sum(1 for _, data in tree.nodes(data=True) if data.get("kind") == "leaf"),
        "statuses": statuses,
    }


def tree_to_json(tree: nx.DiGraph) -> dict[str, Any]:
    """node-link JSON, ready for ``json.dumps`` and ``nx.node_link_graph``."""
    return nx.node_link_data(tree, edges="edges")
