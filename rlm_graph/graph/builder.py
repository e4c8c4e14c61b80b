"""The RLM graph, assembled in one place:

START -> plan -> call -> recurse (one per CALL, in parallel via Send) -> merge -> plan ... -> END
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from langgraph._internal._runnable import RunnableCallable
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Send

from rlm_graph.configuration import RLMRuntime
from rlm_graph.graph.call import call
from rlm_graph.graph.merge import merge
from rlm_graph.graph.plan import plan
from rlm_graph.graph.recurse import make_recurse
from rlm_graph.graph.state import RLMInput, RLMOutput, RLMState

TERMINAL = {"done", "budget_exhausted", "error"}


def _run_coroutine_sync(factory: Callable[[], Awaitable[Any]]) -> Any:
    """Run an async node from sync ``invoke``: in this thread, or in a helper thread when this
    thread already runs an event loop. Context vars (LangGraph's config) travel along."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(factory())
    context = contextvars.copy_context()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(context.run, lambda: asyncio.run(factory())).result()


def _node(afunc: Callable[..., Awaitable[dict]], name: str) -> RunnableCallable:
    """A node usable from both ``invoke`` and ``ainvoke``."""

    def sync(state: Any, runtime: Any) -> dict:
        return _run_coroutine_sync(lambda: afunc(state, runtime))

    return RunnableCallable(sync, afunc, name=name)


def route_after_plan(state: RLMState) -> str:
    return END if state.get("status") in TERMINAL else "call"


def route_after_call(state: RLMState) -> str | list[Send]:
    if state.get("status") in TERMINAL:
        return END
    jobs = state.get("jobs") or []
    if not jobs:
        return "merge"
    return [Send("recurse", job) for job in jobs]


def route_after_merge(state: RLMState) -> str:
    return END if state.get("status") in TERMINAL else "plan"


def build_rlm_graph() -> StateGraph:
    """The uncompiled RLM graph; compile it with the checkpointer of your choice.

    Invoke the compiled graph with ``context=RLMRuntime(...)``; children invoked by the
    recurse node compile the same builder without a checkpointer, so they inherit the
    parent's (each in its own checkpoint namespace).
    """
    builder = StateGraph(
        RLMState, context_schema=RLMRuntime, input_schema=RLMInput, output_schema=RLMOutput
    )
    compiled: list[CompiledStateGraph] = []

    def child_graph() -> CompiledStateGraph:
        if not compiled:
            compiled.append(builder.compile())
        return compiled[0]

    builder.add_node("plan", _node(plan, name="plan"))
    builder.add_node("call", call)
    builder.add_node("recurse", _node(make_recurse(child_graph), name="recurse"))
    builder.add_node("merge", merge)
    builder.add_edge(START, "plan")
    builder.add_conditional_edges("plan", route_after_plan, ["call", END])
    builder.add_conditional_edges("call", route_after_call, ["recurse", "merge", END])
    builder.add_edge("recurse", "merge")
    builder.add_conditional_edges("merge", route_after_merge, ["plan", END])
    return builder
