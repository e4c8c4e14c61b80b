"""What every planner strategy reads for one step of one call, and what they share.

``plan`` picks a strategy for the step (the model's turn, map-reduce, the direct route, the
per-part step or a REPL turn) and hands each the same :class:`PlanStep`: the call's state, its
runtime, the context view, the model and the budget ticked for this step. A strategy returns the
state update of its step; the ones that call a model charge it through :meth:`PlanStep.charged`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from langgraph.runtime import Runtime

from rlm_graph import prompts
from rlm_graph.budget import Budget
from rlm_graph.configuration import RLMRuntime, runtime_context
from rlm_graph.context import ContextView
from rlm_graph.graph.accounting import root_records, usage_updates
from rlm_graph.graph.events import ModelCallEvents, emit
from rlm_graph.graph.state import CallState, RLMState
from rlm_graph.models import ResolvedModel
from rlm_graph.state import Usage

# Earlier turns of a thread shown to the planner: the last few, answers cut short.
EARLIER_TURNS_SHOWN = 5
EARLIER_ANSWER_CHARS = 300


@dataclass(frozen=True)
class PlanStep:
    """One planning step of one call."""

    state: RLMState
    reads: CallState  # the same state, typed, each default given once
    runtime: Runtime[RLMRuntime]
    rt: RLMRuntime
    view: ContextView
    model: ResolvedModel
    budget: Budget

    @classmethod
    def of(cls, state: RLMState, runtime: Runtime[RLMRuntime]) -> PlanStep:
        rt, reads = runtime_context(runtime), CallState(state)
        return cls(
            state=state,
            reads=reads,
            runtime=runtime,
            rt=rt,
            view=rt.registry.view(reads.context),
            model=rt.model_for(reads.depth),
            budget=rt.tick(reads.budget),
        )

    def after(self, update: dict[str, Any]) -> PlanStep:
        """This step once ``update`` (a model call it made: usage, budget) is applied."""
        state: RLMState = {**self.state, **update}  # type: ignore[typeddict-item]
        reads = CallState(state)
        return replace(self, state=state, reads=reads, budget=reads.budget)

    @property
    def call_id(self) -> str:
        return self.reads.call_id

    @property
    def depth(self) -> int:
        return self.reads.depth

    @property
    def iteration(self) -> int:
        """Planner turns this call has taken before this step."""
        return self.reads.iteration

    @property
    def query(self) -> str:
        return self.reads.query

    def charged(
        self,
        usage: Usage,
        model: ResolvedModel | None = None,
        by_model: dict[str, Usage] | None = None,
    ) -> dict[str, Any]:
        """The update for a model call this step made (by the call's model, unless ``model``
        says which, or split as ``by_model`` says): its usage, and its cost to the budget."""
        spent = self.budget.charge(calls=usage.model_calls, tokens=usage.total_tokens)
        split = by_model or {(model or self.model).name: usage}
        return {
            **usage_updates(self.state, split),
            "budget": self.rt.tick(spent).model_dump(),
        }

    def turn_started(self, kind: str, iteration: int) -> ModelCallEvents:
        """Report the turn on the progress stream; the events its model calls report under."""
        emit(
            self.runtime,
            "turn_started",
            id=self.call_id,
            depth=self.depth,
            iteration=iteration,
            kind=kind,
        )
        return ModelCallEvents(self.runtime, self.call_id, kind)

    def earlier_turns(self) -> str:
        """The thread's earlier questions and final answers (root calls only, never their
        transcripts), as the planner's first turn shows them; "" on a first turn."""
        turn = self.reads.turn
        earlier = [record for record in root_records(self.state) if record.turn < turn]
        lines = []
        for record in earlier[-EARLIER_TURNS_SHOWN:]:
            answer = " ".join((record.answer or f"(no answer: {record.status})").split())
            if len(answer) > EARLIER_ANSWER_CHARS:
                answer = answer[:EARLIER_ANSWER_CHARS] + " ..."
            lines.append(f"- Q: {record.task}\n  A: {answer}")
        if not lines:
            return ""
        return prompts.EARLIER_TURNS.format(turns="\n".join(lines))
