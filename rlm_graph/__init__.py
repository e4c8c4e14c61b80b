"""rlm_graph: Recursive Language Models as LangGraph state graphs.

The input stays outside the prompt; the model navigates it with CALL / PEEK / GREP / FINAL and
hands sub-problems over slices to fresh copies of itself.
"""

from rlm_graph.api import RLM, RLMRequest, RLMResult
from rlm_graph.budget import Limits
from rlm_graph.configuration import RLMRuntime
from rlm_graph.errors import ContextError, ModelSetupError, RLMError, TargetError
from rlm_graph.graph.builder import build_rlm_graph
from rlm_graph.state import CallRecord, ContextRef, Usage
from rlm_graph.tree import build_tree

__all__ = [
    "RLM",
    "RLMRequest",
    "RLMResult",
    "RLMRuntime",
    "Limits",
    "build_rlm_graph",
    "build_tree",
    "CallRecord",
    "ContextRef",
    "Usage",
    "RLMError",
    "ContextError",
    "TargetError",
    "ModelSetupError",
]
