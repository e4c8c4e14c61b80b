"""Chat models for rlm_graph: spec strings, the embedded local model, and usage accounting."""

from rlm_graph.models.local import (
    DEFAULT_LOCAL_VARIANT,
    LocalModelServer,
    get_local_server,
    local_chat_model,
)
from rlm_graph.models.specs import DEFAULT_WINDOWS, SPEC_FORMS, ResolvedModel, resolve_model
from rlm_graph.models.usage import estimate_tokens, usage_from_message
from rlm_graph.models.weights import WEIGHTS, WeightsSpec, cache_dir, ensure_weights

__all__ = [
    "DEFAULT_LOCAL_VARIANT",
    "DEFAULT_WINDOWS",
    "SPEC_FORMS",
    "WEIGHTS",
    "LocalModelServer",
    "ResolvedModel",
    "WeightsSpec",
    "cache_dir",
    "ensure_weights",
    "estimate_tokens",
    "get_local_server",
    "local_chat_model",
    "resolve_model",
    "usage_from_message",
]
