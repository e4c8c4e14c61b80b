"""rlm_graph: Recursive Language Models as LangGraph state graphs.

The input stays outside the prompt; the model navigates it with CALL / PEEK / GREP / FINAL and
hands sub-problems over slices to fresh copies of itself.

Names are imported on first use: ``import rlm_graph`` (and the CLI's ``--help``) stays cheap,
while LangGraph and LangChain load only when a graph is built.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "RLM": "rlm_graph.api",
    "RLMRequest": "rlm_graph.api",
    "RLMResult": "rlm_graph.api",
    "RLMRuntime": "rlm_graph.configuration",
    "Limits": "rlm_graph.budget",
    "build_rlm_graph": "rlm_graph.graph.builder",
    "build_tree": "rlm_graph.tree",
    "CallRecord": "rlm_graph.state",
    "ContextRef": "rlm_graph.state",
    "Usage": "rlm_graph.state",
    "RLMError": "rlm_graph.errors",
    "ContextError": "rlm_graph.errors",
    "TargetError": "rlm_graph.errors",
    "ModelSetupError": "rlm_graph.errors",
    "ThreadError": "rlm_graph.errors",
}

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
    "ThreadError",
]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from rlm_graph.api import RLM, RLMRequest, RLMResult
    from rlm_graph.budget import Limits
    from rlm_graph.configuration import RLMRuntime
    from rlm_graph.errors import ContextError, ModelSetupError, RLMError, TargetError, ThreadError
    from rlm_graph.graph.builder import build_rlm_graph
    from rlm_graph.state import CallRecord, ContextRef, Usage
    from rlm_graph.tree import build_tree


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'rlm_graph' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
