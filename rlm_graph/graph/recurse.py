"""recurse: one CALL's child. A leaf is one model call; otherwise the same compiled graph runs
again at depth+1 inside this node, in its own checkpoint namespace."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from langgraph.runtime import Runtime

from rlm_graph.configuration import RLMRuntime, runtime_context
from rlm_graph.graph.accounting import add_usage, record_from_state, total_usage
from rlm_graph.graph.events import emit
from rlm_graph.graph.leaf import answer_leaf
from rlm_graph.state import ContextRef, Usage


def child_input(job: dict[str, Any]) -> dict[str, Any]:
    return {
        "query": job["task"],
        "context": job["context"],
        "budget": job["budget"],
        "depth": job["depth"],
        "call_id": job["call_id"],
        "parent_id": job["parent_id"],
        "target": job["target"],
        "started_at": time.time(),
    }


def make_recurse(child_graph: Callable[[], Any]):
    """The recurse node; ``child_graph`` returns the compiled graph (built lazily: it is the
    graph this node belongs to)."""

    async def recurse(job: dict[str, Any], runtime: Runtime[RLMRuntime]) -> dict[str, Any]:
        rt = runtime_context(runtime)
        model = rt.model_for(job["depth"])
        emit(
            runtime,
            "call_started",
            id=job["call_id"],
            depth=job["depth"],
            task=job["task"],
            target=job["target"],
            leaf=job["leaf"],
        )
        state = child_input(job)
        if job["leaf"]:
            view = rt.registry.view(ContextRef.model_validate(job["context"]))
            outcome = await answer_leaf(rt, model, view, job["task"])
            state.update(
                answer=outcome.answer,
                status=outcome.status,
                error=outcome.error,
                own_usage=outcome.usage.model_dump(),
                iteration=1,
                usage=add_usage(None, model.name, outcome.usage),
            )
            final, kind = state, "leaf"
        else:
            final = {**state, **(await child_graph().ainvoke(state))}
            kind = "node"
        record = record_from_state(final, kind=kind, model=model.name)
        usage = final.get("usage") or {}
        total = total_usage(usage)
        emit(
            runtime,
            "call_finished",
            id=job["call_id"],
            depth=job["depth"],
            target=job["target"],
            answer=(record.answer or record.error or "")[:80],
            status=record.status,
            input_tokens=total.input_tokens,
            output_tokens=total.output_tokens,
            model_calls=total.model_calls,
        )
        result = {
            "index": job["index"],
            "call_id": job["call_id"],
            "cache_key": job["cache_key"],
            "action": job["action"],
            "answer": record.answer,
            "status": record.status,
            "error": record.error,
            "usage": usage,
            "records": [record.model_dump(), *(final.get("records") or [])],
        }
        return {"child_results": [result]}

    return recurse


def child_usage(results: list[dict[str, Any]]) -> Usage:
    total = Usage()
    for result in results:
        total = total.add(total_usage(result.get("usage")))
    return total
