"""The direct route: a root whose whole context fits one call (and is below ``direct_below``)
answers it with one leaf call, no planning (``graph/leaf.py``, the one leaf path)."""

from __future__ import annotations

from typing import Any

from rlm_graph.graph.leaf import answer_leaf
from rlm_graph.graph.outcome import finish
from rlm_graph.graph.planning import PlanStep


async def direct_step(step: PlanStep) -> dict[str, Any]:
    """The root answers the whole context with one leaf call."""
    step.turn_started("direct", 1)
    task = step.query
    if earlier := step.earlier_turns():
        task = f"{earlier}\n{task}"
    outcome = await answer_leaf(
        step.rt,
        step.model,
        step.view,
        task,
        runtime=step.runtime,
        call_id=step.call_id,
        kind="direct",
        question=step.query,
    )
    return {
        **step.charged(outcome.usage, by_model=outcome.by_model),
        "iteration": 1,
        **outcome.fields(),
        # A failed call has no answer: "not found" would claim the text was read.
        **finish(
            outcome.status, None if outcome.error else outcome.answer or "not found", outcome.error
        ),
    }
