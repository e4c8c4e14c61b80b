"""The map-reduce planner (``planner="map-reduce"``): no model plans. The first step sends the
question to every chunk (one CALL each, or one per range of chunks when there are more chunks
than one fan-out may hold and a level of depth is left); the second asks the model once to
combine the findings, verified ones only where any exist."""

from __future__ import annotations

import math
from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage

from rlm_graph import prompts
from rlm_graph.graph.findings import render_findings, strip_marks
from rlm_graph.graph.model_call import call_model
from rlm_graph.graph.outcome import failed, finish
from rlm_graph.graph.planning import PlanStep
from rlm_graph.protocol import Action, ParsedTurn

# The most CALLs one map step issues; more chunks are grouped into ranges (when depth allows).
MAP_FANOUT_LIMIT = 256


def map_turn(step: PlanStep) -> tuple[ParsedTurn, str | None]:
    """One CALL per chunk; for more chunks than the fan-out (or call budget) allows, one CALL
    per range of chunks when a level of depth is left, else the first chunks and a note."""
    count = step.view.chunk_count(step.rt.chunking_for_view())
    task = prompts.MAP_TASK.format(query=step.query)
    limit = max(1, min(MAP_FANOUT_LIMIT, step.budget.calls_left - 1))

    def calls(targets: list[str]) -> ParsedTurn:
        return ParsedTurn(actions=[Action(op="call", task=task, target=t) for t in targets])

    if count <= limit:
        return calls([f"chunk:{i}" for i in range(count)]), None
    if step.depth + 1 < step.budget.max_depth:
        size = math.ceil(count / limit)
        ranges = [f"chunks:{a}-{min(count, a + size) - 1}" for a in range(0, count, size)]
        return calls(ranges), None
    note = (
        f"read chunk:0 to chunk:{limit - 1} of {count} chunks; "
        "raise max_calls or max_depth to read them all"
    )
    return calls([f"chunk:{i}" for i in range(limit)]), note


async def reduce_step(step: PlanStep) -> dict[str, Any]:
    """One model call that combines the children's findings into the call's answer."""
    findings = step.reads.findings
    user = prompts.REDUCE_USER.format(
        query=step.query,
        findings=(
            render_findings(findings, verified_only=True)
            if findings
            else "(no part found anything)"
        ),
    )
    iteration = step.iteration + 1
    events = step.turn_started("reduce", iteration)
    messages = [SystemMessage(prompts.REDUCE_SYSTEM), HumanMessage(user)]
    reply = await call_model(step.rt, step.model, messages, events=events)
    update = {**step.charged(reply.usage), "iteration": iteration}
    if reply.error:
        return {**update, **failed(step.state, reply.error, "reduce failed")}
    if note := step.reads.coverage_note:  # an answer, but not from the whole context: say so
        return {**update, **finish("budget_exhausted", strip_marks(reply.text), note)}
    answer = prompts.TARGET_TAG.sub("", strip_marks(reply.text)).strip()
    return {**update, **finish("done", answer)}


async def map_reduce_step(step: PlanStep) -> dict[str, Any]:
    """The map step on the call's first turn, the reduce step after it."""
    if step.iteration == 0:
        turn, note = map_turn(step)
        return {"actions": turn.model_dump(), "iteration": 1, "coverage_note": note}
    return await reduce_step(step)
