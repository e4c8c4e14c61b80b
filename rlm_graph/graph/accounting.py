"""Usage sums and call records, shared by the nodes and the RLM wrapper."""

from __future__ import annotations

import time
from typing import Any

from rlm_graph.state import CallKind, CallRecord, Usage


def add_usage(
    by_model: dict[str, dict[str, int]] | None, model: str, usage: Usage
) -> dict[str, dict[str, int]]:
    merged = {name: dict(values) for name, values in (by_model or {}).items()}
    merged[model] = Usage.model_validate(merged.get(model, {})).add(usage).model_dump()
    return merged


def merge_usage(
    left: dict[str, dict[str, int]] | None, right: dict[str, dict[str, int]] | None
) -> dict[str, dict[str, int]]:
    merged = {name: dict(values) for name, values in (left or {}).items()}
    for name, values in (right or {}).items():
        merged = add_usage(merged, name, Usage.model_validate(values))
    return merged


def total_usage(by_model: dict[str, dict[str, int]] | None) -> Usage:
    total = Usage()
    for values in (by_model or {}).values():
        total = total.add(Usage.model_validate(values))
    return total


def record_from_state(
    state: dict[str, Any], *, kind: CallKind, model: str, ended_at: float | None = None
) -> CallRecord:
    """The call record of one RLM call, from its final graph state."""
    context = state.get("context") or {}
    return CallRecord(
        id=state.get("call_id", "root"),
        parent_id=state.get("parent_id"),
        depth=state.get("depth", 0),
        kind=kind,
        task=state.get("query", ""),
        target=state.get("target", "all"),
        context_start=context.get("start", 0) if isinstance(context, dict) else 0,
        context_end=context.get("end", 0) if isinstance(context, dict) else 0,
        model=model,
        status=state.get("status") or "running",
        answer=state.get("answer"),
        usage=Usage.model_validate(state.get("own_usage") or {}),
        iterations=state.get("iteration", 0),
        started_at=state.get("started_at") or 0.0,
        ended_at=ended_at if ended_at is not None else time.time(),
        error=state.get("error"),
    )
