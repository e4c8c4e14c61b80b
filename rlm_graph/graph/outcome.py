"""How a call ends: one function sets the outcome, one predicate reads it, and each way a
call can end is decided by one function here.

- an answer: ``finish("done", answer)`` (``call`` on FINAL, a planner strategy's answer);
- the budget (calls, tokens, time) or the planner turns used up: :func:`out_of_budget`
  (``plan`` before a step, ``merge`` after one);
- a planner turn that must answer now (its last turn, a stalled planner, a FINAL sent back for
  review): :func:`must_answer_now`, read by the graph's edges, which send the call to the
  ``answer_now`` node instead of ``plan``;
- a planner that did not answer on its last chance: :func:`gave_up`;
- the call's own model call failing: :func:`failed`.

Any node may end its call by returning one of these; only ``merge`` routes, and it writes the
call's final record. Error texts are redacted here, the one door every error of a call passes
through on its way to records, checkpoints, progress and JSON.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from rlm_graph import prompts
from rlm_graph.budget import Budget
from rlm_graph.graph.state import CallState
from rlm_graph.questions import asks_for_many
from rlm_graph.secrets import redact

TERMINAL = frozenset({"done", "budget_exhausted", "error"})
NOT_FOUND = prompts.NOT_FOUND
MAX_PARTIAL_CHARS = 4000
# Why a planner's call ended without its answer (the record's error).
TURN_LIMIT = "planner turn limit reached"
STALLED = "planner stopped making progress"


def finish(status: str, answer: str | None, error: str | None = None) -> dict[str, Any]:
    """The state update that ends a call with ``status``."""
    if status not in TERMINAL:
        raise ValueError(f"not a final status: {status!r}")
    return {"status": status, "answer": answer, "error": redact(error)}


def is_finished(state: dict[str, Any]) -> bool:
    return CallState(state).status in TERMINAL


def is_last_turn(iteration: int, budget: Budget) -> bool:
    """Whether the planner turn after ``iteration`` turns is the call's last: it must answer."""
    return iteration >= budget.max_iterations - 1


class ForcedTurn(BaseModel):
    """Why the next planner turn must answer: the words the model is shown (``reason``), and
    the record's error if it still does not (``ending``: ``TURN_LIMIT`` or ``STALLED``)."""

    reason: str
    ending: str


def must_answer_now(state: dict[str, Any]) -> ForcedTurn | None:
    """Whether the call's next planner turn is its one chance to answer, and why; None while
    it may plan freely. The graph's edges route on it (``answer_now`` rather than ``plan``)."""
    call = CallState(state)
    if call.status in TERMINAL:
        return None
    if is_last_turn(call.iteration, call.budget):
        return ForcedTurn(reason=prompts.FORCE_REASON_TURNS, ending=TURN_LIMIT)
    if call.force_reason:  # a FINAL sent back once, to be answered in the forced form
        return ForcedTurn(reason=call.force_reason, ending=STALLED)
    if call.stalled:
        return ForcedTurn(reason=prompts.FORCE_REASON_STALLED, ending=STALLED)
    return None


def next_planner(state: dict[str, Any]) -> str:
    """The planner node a call goes on to: ``answer_now`` when its next turn must answer,
    else ``plan`` (the graph's edges into the planner route on this)."""
    return "answer_now" if must_answer_now(state) is not None else "plan"


def out_of_budget(
    state: dict[str, Any], budget: Budget, *, count_turns: bool = False
) -> dict[str, Any] | None:
    """The update that ends a call that may make no further model call (its calls, tokens or
    time used up) or, with ``count_turns`` (after a step), has no planner turn left; None while
    it may go on. The answer is the best partial one."""
    reason = budget.exhausted_reason()
    if reason:
        return finish("budget_exhausted", partial_answer(state, reason), reason)
    if count_turns and CallState(state).iteration >= budget.max_iterations:
        return finish("budget_exhausted", partial_answer(state, "out of turns"), TURN_LIMIT)
    return None


def gave_up(state: dict[str, Any], why: str, fallback: str | None = None) -> dict[str, Any]:
    """The update that ends a call whose planner, made to answer (``why``: ``TURN_LIMIT`` or
    ``STALLED``), did not: the best partial answer, else ``fallback``."""
    return finish("budget_exhausted", partial_answer(state, why) or fallback, why)


def failed(state: dict[str, Any], error: str | None, what: str = "model failed") -> dict[str, Any]:
    """The update that ends a call whose own model call failed (nothing the model can fix):
    what its children found so far, as a partial answer."""
    return finish("error", partial_answer(state, what), error)


def verified_answer(state: dict[str, Any]) -> str | None:
    """The answer a call's verified findings give on their own (the first, when the question
    asks for one thing; one a line, when it asks for every X), or None when none is verified."""
    call = CallState(state)
    verified = list(dict.fromkeys(f.answer for f in call.findings if f.verified))
    if not verified:
        return None
    if not asks_for_many(call.query):
        verified = verified[:1]
    return "\n".join(verified)[:MAX_PARTIAL_CHARS]


def partial_answer(state: dict[str, Any], reason: str) -> str:
    """The best answer a call can give without another model call: its children's verified
    findings (the first, when the question asks for one thing; one a line, when it asks for
    every X); unverified ones are only counted."""
    answer = verified_answer(state)
    if answer is not None:
        return prompts.PARTIAL.format(reason=reason, answer=answer)
    findings = CallState(state).findings
    unverified = sum(1 for f in findings if not f.verified)
    note = prompts.PARTIAL_LEFT_OUT.format(count=unverified) if unverified else ""
    return prompts.PARTIAL.format(reason=reason, answer=NOT_FOUND + note) if findings else ""
