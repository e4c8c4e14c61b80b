"""recurse: one CALL's child. A leaf is one model call; otherwise the same compiled graph runs
again at depth+1 inside this node, in its own checkpoint namespace."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langgraph.runtime import Runtime

from rlm_graph.configuration import RLMRuntime, runtime_context
from rlm_graph.graph.accounting import job_state, record_from_state, usage_updates
from rlm_graph.graph.events import emit_call_finished, emit_child_started
from rlm_graph.graph.leaf import answer_leaf
from rlm_graph.graph.messages import ChildResult, Job
from rlm_graph.graph.outcome import finish
from rlm_graph.graph.state import CallState
from rlm_graph.state import CallRecord


def make_recurse(child_graph: Callable[[], Any]):
    """The recurse node; ``child_graph`` returns the compiled graph (built lazily: it is the
    graph this node belongs to)."""

    async def recurse(payload: dict[str, Any], runtime: Runtime[RLMRuntime]) -> dict[str, Any]:
        job = Job.model_validate(payload)  # a Job dump (the Send payload)
        if job.kind == "query":  # a REPL cell's llm_query: one plain model call
            from rlm_graph.graph.repl_cell import run_query

            return await run_query(job, runtime)
        rt = runtime_context(runtime)
        model = rt.model_for(job.depth)
        kind = "leaf" if job.leaf else "node"
        emit_child_started(runtime, job, kind)
        state = job_state(job)
        if job.leaf:
            view = rt.registry.view(job.context)
            outcome = await answer_leaf(
                rt, model, view, job.task, runtime=runtime, call_id=job.call_id
            )
            state.update(
                usage_updates(state, outcome.by_model),
                iteration=1,
                **outcome.fields(),
                **finish(outcome.status, outcome.answer, outcome.error),
            )
            record = record_from_state(state, kind="leaf", model=model.name)
            records = [record.model_dump()]
            usage = state["usage"]
        else:
            final = CallState(await child_graph().ainvoke(state))
            records = list(final.records.values())
            record = CallRecord.model_validate(final.records[job.call_id])
            usage = final.usage
        emit_call_finished(runtime, record, usage)
        return {"child_results": [ChildResult.of(job, record, usage, records).dump()]}

    return recurse
