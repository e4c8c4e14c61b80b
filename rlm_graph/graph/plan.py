"""plan: one step of the call's planner, chosen here and nowhere else.

The strategies, each in its own module and each given the same ``PlanStep``
(``graph/planning.py``):

- ``direct_step`` (``graph/direct.py``): on the root's first step, when the whole context is
  below ``direct_below`` and fits one call, the root answers with one leaf call;
- the per-part step (``graph/per_part.py``): a question that asks the same of every section
  gets a CALL per section, then one line per section composed from their findings;
- ``repl_planner_turn`` (``graph/repl_turn.py``): REPL mode, the model writes Python cells;
- ``map_reduce_step`` (``graph/map_reduce.py``): ``planner="map-reduce"``;
- ``model_turn`` (``graph/model_planner.py``): the model plans CALL/PEEK/GREP/FINAL actions.

Two nodes run this step: ``plan``, and ``answer_now`` where the graph's edges send a call whose
next turn must answer (``outcome.must_answer_now``: its last turn, a stalled planner, a FINAL
sent back for review). The model's and REPL turns then ask for the answer in a forced form;
the other strategies take the step as they would in ``plan``.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from rlm_graph.configuration import RLMRuntime
from rlm_graph.graph.direct import direct_step
from rlm_graph.graph.events import emit
from rlm_graph.graph.map_reduce import map_reduce_step
from rlm_graph.graph.model_planner import model_turn
from rlm_graph.graph.outcome import (
    ForcedTurn,
    finish,
    is_finished,
    must_answer_now,
    out_of_budget,
)
from rlm_graph.graph.per_part import compose, per_part_turn
from rlm_graph.graph.planning import PlanStep
from rlm_graph.graph.repl_turn import repl_planner_turn
from rlm_graph.graph.state import RLMState


async def plan(state: RLMState, runtime: Runtime[RLMRuntime]) -> dict[str, Any]:
    """A planner step that may act freely."""
    return await _step(state, runtime, None)


async def answer_now(state: RLMState, runtime: Runtime[RLMRuntime]) -> dict[str, Any]:
    """A planner step that must answer (the edge that led here decided why)."""
    return await _step(state, runtime, must_answer_now(state))


async def _step(
    state: RLMState, runtime: Runtime[RLMRuntime], forced: ForcedTurn | None
) -> dict[str, Any]:
    if is_finished(state):  # begin refused the turn; merge closes it
        return {}
    step = PlanStep.of(state, runtime)
    rt, view, budget = step.rt, step.view, step.budget
    base: dict[str, Any] = {"budget": budget.model_dump()}

    if (ended := out_of_budget(state, budget)) is not None:
        return {**base, **ended}

    # A question about every part of a sectioned text: a call per section, even when the
    # text would fit one call (one small model call does not keep four parts apart).
    calls_mode = rt.mode == "calls"
    per_part = (
        per_part_turn(step.query, view, rt, budget, step.depth)
        if step.iteration == 0 and calls_mode
        else None
    )
    # REPL mode plans in code whatever the size, unless a direct_below was set.
    code_only = not calls_mode and rt.direct_below is None
    if step.depth == 0 and step.iteration == 0:
        route = "recursive" if per_part or code_only else rt.route_for(view.size, view.text)
        base["route"] = route
        emit(runtime, "route", id=step.call_id, route=route, tokens=rt.slice_tokens(view.size))
        if route == "direct":
            return {**base, **await direct_step(step)}

    if not calls_mode:  # REPL: the model writes code, which runs at any depth
        return {**base, **await repl_planner_turn(step, forced)}

    if step.depth >= budget.max_depth:
        # Only the root gets here (children at the limit are leaves): it cannot fit one call.
        error = (
            f"the context (~{rt.slice_tokens(view.size):,} tokens) does not fit one model call "
            f"(~{rt.reading_tokens(step.model):,} tokens) and max_depth={budget.max_depth} "
            "allows no sub-calls; raise max_depth"
        )
        return {**base, **finish("error", None, error)}

    if step.reads.strategy == "per-part":  # every section answered: one line each
        return {**base, **finish("done", compose(view, step.reads.findings))}
    if per_part is not None:
        emit(runtime, "strategy", id=step.call_id, strategy="per-part")
        return {**base, "actions": per_part.model_dump(), "iteration": 1, "strategy": "per-part"}

    if rt.planner == "map-reduce":
        return {**base, **await map_reduce_step(step)}
    return {**base, **await model_turn(step, forced)}


__all__ = ["answer_now", "plan"]
