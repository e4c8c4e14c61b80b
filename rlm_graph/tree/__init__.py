"""Execution trees: networkx export, stored runs, file formats, the explorer, analytics."""

from rlm_graph.tree.export import build_tree, tree_summary, tree_to_json
from rlm_graph.tree.formats import FORMATS, write_tree
from rlm_graph.tree.load import aload, load
from rlm_graph.tree.stats import tree_stats

__all__ = [
    "FORMATS",
    "aload",
    "build_tree",
    "load",
    "tree_stats",
    "tree_summary",
    "tree_to_json",
    "write_tree",
]
