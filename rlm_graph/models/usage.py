"""Token usage of one model answer, whatever the provider reports (or fails to report)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langchain_core.messages import BaseMessage

from rlm_graph.protocol.message import content_text
from rlm_graph.state import Usage
from rlm_graph.tokens import estimate_tokens

__all__ = ["estimate_tokens", "usage_from_message"]


def usage_from_message(message: BaseMessage, *, prompt_chars: int = 0) -> Usage:
    """The usage of the call that produced ``message`` (always ``model_calls=1``).

    Order of trust: LangChain's ``usage_metadata``, then the OpenAI-style
    ``response_metadata["token_usage"]``, then an estimate from ``prompt_chars`` and the
    answer's length (at least 1 token each), so that budgets still move.
    """
    metadata = getattr(message, "usage_metadata", None)
    if isinstance(metadata, Mapping):
        counts = _counts(metadata, "input_tokens", "output_tokens")
        if counts is not None:
            return Usage(input_tokens=counts[0], output_tokens=counts[1], model_calls=1)
    token_usage = (getattr(message, "response_metadata", None) or {}).get("token_usage")
    if isinstance(token_usage, Mapping):
        counts = _counts(token_usage, "prompt_tokens", "completion_tokens")
        if counts is not None:
            return Usage(input_tokens=counts[0], output_tokens=counts[1], model_calls=1)
    return Usage(
        input_tokens=max(1, estimate_tokens(prompt_chars)),
        output_tokens=max(1, estimate_tokens(content_text(message.content))),
        model_calls=1,
    )


def _counts(data: Mapping[str, Any], input_key: str, output_key: str) -> tuple[int, int] | None:
    """Both counts if at least one is reported (a missing one counts as 0), else None."""
    raw_in, raw_out = data.get(input_key), data.get(output_key)
    if raw_in is None and raw_out is None:
        return None
    try:
        return int(raw_in or 0), int(raw_out or 0)
    except (TypeError, ValueError):
        return None
