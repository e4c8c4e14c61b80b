"""The RLM graph, assembled in one place:

START -> begin (a thread's new turn; the root only) -> plan -> call
      -> recurse (one per CALL, in parallel via Send) -> merge -> plan ... -> END

``merge`` is the only node that routes to END: ``plan`` and ``call`` may end a call (by setting
its status) but always hand over to ``merge``, which writes the call's final record.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from langchain_core.runnables import RunnableConfig, RunnableLambda
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import get_runtime
from langgraph.types import Send

from rlm_graph.configuration import RLMConfig
from rlm_graph.graph.begin import begin
from rlm_graph.graph.call import call
from rlm_graph.graph.merge import merge, route_after_merge
from rlm_graph.graph.plan import plan
from rlm_graph.graph.recurse import make_recurse
from rlm_graph.graph.state import RLMInput, RLMOutput, RLMState
from rlm_graph.sync import run_sync

AsyncNode = Callable[[Any, Any], Awaitable[dict]]


def _sync_and_async(afunc: AsyncNode, name: str) -> RunnableLambda:
    """A node that makes model calls, runnable from both ``invoke`` and ``ainvoke``.

    Under sync ``invoke`` LangGraph runs each task in a worker thread; the coroutine gets its
    own loop there, and the run's one ``ConcurrencyLimiter`` still bounds every model call.
    """

    async def arun(state: Any, config: RunnableConfig) -> dict:
        return await afunc(state, get_runtime())

    def run(state: Any, config: RunnableConfig) -> dict:
        runtime = get_runtime()
        return run_sync(lambda: afunc(state, runtime))

    return RunnableLambda(run, afunc=arun, name=name)


def route_from_start(state: RLMState) -> str:
    # Children (depth >= 1) arrive with everything set by their parent's call node.
    return "plan" if state.get("depth", 0) > 0 else "begin"


def route_after_call(state: RLMState) -> str | list[Send]:
    jobs = state.get("jobs") or []
    if not jobs:
        return "merge"
    return [Send("recurse", job) for job in jobs]


def build_rlm_graph() -> StateGraph:
    """The uncompiled RLM graph; compile it with the checkpointer of your choice.

    Invoke the compiled graph with ``{"query": ..., "context": PATH_OR_REF}`` and
    ``context=RLMRuntime(...)``. A thread (``thread_id``) is one conversation about one
    context: a later invocation on the same thread is a follow-up turn (``context`` may then
    be omitted). Children invoked by the recurse node compile the same builder without a
    checkpointer, so they inherit the parent's (each in its own checkpoint namespace).
    """
    # The context schema is the plain RLMConfig a server or Studio can show and fill in;
    # Python callers pass a live RLMRuntime instead (taken as it is).
    builder = StateGraph(
        RLMState, context_schema=RLMConfig, input_schema=RLMInput, output_schema=RLMOutput
    )
    compiled: list[CompiledStateGraph] = []

    def child_graph() -> CompiledStateGraph:
        if not compiled:
            compiled.append(builder.compile())
        return compiled[0]

    builder.add_node("begin", begin)
    builder.add_node("plan", _sync_and_async(plan, name="plan"))
    builder.add_node("call", call)
    builder.add_node("recurse", _sync_and_async(make_recurse(child_graph), name="recurse"))
    builder.add_node("merge", merge)
    builder.add_conditional_edges(START, route_from_start, ["begin", "plan"])
    builder.add_edge("begin", "plan")
    builder.add_edge("plan", "call")
    builder.add_conditional_edges("call", route_after_call, ["recurse", "merge"])
    builder.add_edge("recurse", "merge")
    builder.add_conditional_edges("merge", route_after_merge, ["plan", END])
    return builder
