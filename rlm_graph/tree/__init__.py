"""Execution trees: networkx export and summaries."""

from rlm_graph.tree.export import build_tree, tree_summary, tree_to_json

__all__ = ["build_tree", "tree_summary", "tree_to_json"]
