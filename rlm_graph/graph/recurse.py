"""recurse: one CALL's child. A leaf is one model call; otherwise the same compiled graph runs
again at depth+1 inside this node, in its own checkpoint namespace."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langgraph.runtime import Runtime

from rlm_graph.configuration import RLMRuntime, runtime_context
from rlm_graph.graph.accounting import job_state, record_from_state, usage_update
from rlm_graph.graph.events import emit_call_finished, emit_child_started
from rlm_graph.graph.leaf import answer_leaf
from rlm_graph.graph.outcome import finish
from rlm_graph.state import CallRecord, ContextRef


def make_recurse(child_graph: Callable[[], Any]):
    """The recurse node; ``child_graph`` returns the compiled graph (built lazily: it is the
    graph this node belongs to)."""

    async def recurse(job: dict[str, Any], runtime: Runtime[RLMRuntime]) -> dict[str, Any]:
        if job.get("kind") == "query":  # a REPL cell's llm_query: one plain model call
            from rlm_graph.graph.repl_cell import run_query

            return await run_query(job, runtime)
        rt = runtime_context(runtime)
        model = rt.model_for(job["depth"])
        kind = "leaf" if job["leaf"] else "node"
        emit_child_started(runtime, job, kind)
        state = job_state(job)
        if job["leaf"]:
            view = rt.registry.view(ContextRef.model_validate(job["context"]))
            outcome = await answer_leaf(
                rt, model, view, job["task"], runtime=runtime, call_id=job["call_id"]
            )
            state.update(
                usage_update(state, model.name, outcome.usage),
                iteration=1,
                **outcome.fields(),
                **finish(outcome.status, outcome.answer, outcome.error),
            )
            record = record_from_state(state, kind="leaf", model=model.name)
            records = [record.model_dump()]
            usage = state["usage"]
        else:
            final = await child_graph().ainvoke(state)
            records = list((final.get("records") or {}).values())
            record = CallRecord.model_validate(final["records"][job["call_id"]])
            usage = final.get("usage") or {}
        emit_call_finished(runtime, record, usage)
        result = {
            "index": job["index"],
            "call_id": job["call_id"],
            "cache_key": job["cache_key"],
            "action": job["action"],
            "answer": record.answer,
            "status": record.status,
            "error": record.error,
            "outcome": record.outcome,
            "verified": record.verified,
            "evidence": record.evidence,
            "usage": usage,
            "records": records,
        }
        return {"child_results": [result]}

    return recurse
