"""The RLM StateGraph: plan -> call -> recurse -> merge."""

from rlm_graph.graph.builder import build_rlm_graph
from rlm_graph.graph.state import RLMInput, RLMOutput, RLMState

__all__ = ["build_rlm_graph", "RLMInput", "RLMOutput", "RLMState"]
