"""rlm_graph: Recursive Language Models as LangGraph state graphs.

The input stays outside the prompt; the model navigates it with CALL / PEEK / GREP / FINAL and
hands sub-problems over slices to fresh copies of itself.

Names are imported on first use: ``import rlm_graph`` (and the CLI's ``--help``) stays cheap,
while LangGraph and LangChain load only when a graph is built.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# What a user needs: the RLM, its result, the graph factory (to pick a checkpointer), ``load``
# for a run's execution tree, and the errors to catch.
_EXPORTS = {
    "RLM": "rlm_graph.api",
    "RLMResult": "rlm_graph.api",
    "build_rlm_graph": "rlm_graph.graph.builder",
    "load": "rlm_graph.tree",
    "RLMError": "rlm_graph.errors",
    "ContextError": "rlm_graph.errors",
    "TargetError": "rlm_graph.errors",
    "ModelSetupError": "rlm_graph.errors",
    "ThreadError": "rlm_graph.errors",
}
__all__ = [
    "RLM",
    "RLMResult",
    "build_rlm_graph",
    "load",
    "RLMError",
    "ContextError",
    "TargetError",
    "ModelSetupError",
    "ThreadError",
]

# Reachable from the root as before, but not advertised: each has its own home.
_REACHABLE = {
    "RLMRequest": "rlm_graph.api",
    "RLMRuntime": "rlm_graph.configuration",
    "Limits": "rlm_graph.budget",
    "build_tree": "rlm_graph.tree",
    "CallRecord": "rlm_graph.state",
    "ContextRef": "rlm_graph.state",
    "Usage": "rlm_graph.state",
}

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from rlm_graph.api import RLM, RLMResult
    from rlm_graph.errors import ContextError, ModelSetupError, RLMError, TargetError, ThreadError
    from rlm_graph.graph.builder import build_rlm_graph
    from rlm_graph.tree import load


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name) or _REACHABLE.get(name)
    if module is None:
        raise AttributeError(f"module 'rlm_graph' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
