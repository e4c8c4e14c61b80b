"""The RLM graph, assembled in one place:

START -> begin (a thread's new turn; the root only) -> plan | answer_now -> call
      -> recurse (one per CALL, in parallel via Send) -> merge -> plan | answer_now ... -> END

``answer_now`` is the planner step that must answer: the edges into the planner send a call
there when ``outcome.must_answer_now`` says so (its last turn, a stalled planner, a FINAL sent
back for review), and to ``plan`` otherwise.

A root's finished answer to a lookup goes call -> review -> merge when the question names the
kind of thing it asks for (the answer must be one) or asks for every X (sentences worded like
its backing passages are read for items the leaves missed): ``graph/review.py``.

``merge`` is the only node that routes to END: ``plan`` and ``call`` may end a call (by setting
its status) but always hand over to ``merge``, which writes the call's final record. In REPL mode
(``graph/repl_cell.py``) a cell that pauses at sub-calls sends them to ``recurse`` like CALLs,
from ``call`` or, when the cell pauses again after being resumed, from ``merge``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from langchain_core.runnables import RunnableConfig, RunnableLambda
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import get_runtime
from langgraph.types import Send

from rlm_graph.configuration import RLMConfig, runtime_context
from rlm_graph.graph.begin import begin
from rlm_graph.graph.call import call
from rlm_graph.graph.merge import merge, route_after_merge
from rlm_graph.graph.outcome import is_finished, next_planner
from rlm_graph.graph.plan import answer_now, plan
from rlm_graph.graph.recurse import make_recurse
from rlm_graph.graph.review import needs_review, review
from rlm_graph.graph.state import CallState, RLMInput, RLMOutput, RLMState
from rlm_graph.sync import run_sync

AsyncNode = Callable[[Any, Any], Awaitable[dict]]


def _sync_and_async(afunc: AsyncNode, name: str) -> RunnableLambda:
    """A node that makes model calls, runnable from both ``invoke`` and ``ainvoke``.

    Under sync ``invoke`` LangGraph runs each task in a worker thread; the coroutine runs on
    the process's shared loop (``rlm_graph.sync``), and the run's one ``ConcurrencyLimiter``
    still bounds every model call.
    """

    async def arun(state: Any, config: RunnableConfig) -> dict:
        return await afunc(state, get_runtime())

    def run(state: Any, config: RunnableConfig) -> dict:
        runtime = get_runtime()
        return run_sync(lambda: afunc(state, runtime))

    return RunnableLambda(run, afunc=arun, name=name)


def _with_repl(
    node: Callable[[Any, Any], dict],
    repl: Callable[[Any, Any], AsyncNode | None],
    name: str,
) -> RunnableLambda:
    """A node whose calls-mode body is the plain function ``node`` (run as before, sync or
    async), and whose REPL-mode step ``repl`` (None when it has none for this state) is async
    under both ``invoke`` and ``ainvoke``: it drives a sandbox session, which must not block
    the event loop that sibling children share."""

    async def arun(state: Any, config: RunnableConfig) -> dict:
        runtime = get_runtime()
        step = repl(state, runtime)
        return await step(state, runtime) if step is not None else node(state, runtime)

    def run(state: Any, config: RunnableConfig) -> dict:
        runtime = get_runtime()
        step = repl(state, runtime)
        if step is None:
            return node(state, runtime)
        return run_sync(lambda: step(state, runtime))

    return RunnableLambda(run, afunc=arun, name=name)


def _repl_call(state: Any, runtime: Any) -> AsyncNode | None:
    """REPL mode's ``call``: run the reply's cells (``graph/repl_cell.py``)."""
    if runtime_context(runtime).mode != "repl" or is_finished(state):
        return None
    from rlm_graph.graph.repl_cell import run_cells

    return run_cells


def _repl_merge(state: Any, runtime: Any) -> AsyncNode | None:
    """REPL mode's ``merge``: resume a cell that waits for its sub-calls, and close the
    session of a call that ends here."""
    if runtime_context(runtime).mode != "repl":
        return None
    from rlm_graph.graph.repl_cell import merge_cells

    return lambda state, runtime: merge_cells(state, runtime, merge)


def route_from_start(state: RLMState) -> str:
    # Children (depth >= 1) arrive with everything set by their parent's call node.
    return next_planner(state) if CallState(state).depth > 0 else "begin"


def route_after_call(state: RLMState) -> str | list[Send]:
    if jobs := state.get("jobs"):  # Job dumps, sent as they are
        return [Send("recurse", job) for job in jobs]
    # A lookup's answer is checked for its kind, or a list's for missed items, before merge.
    return "review" if needs_review(state, runtime_context(get_runtime())) else "merge"


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
    builder.add_node("answer_now", _sync_and_async(answer_now, name="answer_now"))
    builder.add_node("call", _with_repl(call, _repl_call, name="call"))
    builder.add_node("recurse", _sync_and_async(make_recurse(child_graph), name="recurse"))
    builder.add_node("review", _sync_and_async(review, name="review"))
    builder.add_node("merge", _with_repl(merge, _repl_merge, name="merge"))
    planners = ["plan", "answer_now"]
    builder.add_conditional_edges(START, route_from_start, ["begin", *planners])
    builder.add_conditional_edges("begin", next_planner, planners)
    builder.add_edge("plan", "call")
    builder.add_edge("answer_now", "call")
    builder.add_conditional_edges("call", route_after_call, ["recurse", "review", "merge"])
    builder.add_edge("review", "merge")
    builder.add_edge("recurse", "merge")
    builder.add_conditional_edges("merge", route_after_merge, [*planners, "recurse", END])
    return builder
