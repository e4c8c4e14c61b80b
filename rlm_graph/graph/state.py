"""Graph state and the payloads that cross Send boundaries.

Only plain data lives here (dicts of pydantic dumps), never the context's text: checkpoint
size must not grow with the input.
"""

from __future__ import annotations

from typing import Annotated, Any, TypedDict


def add_child_results(left: list[dict] | None, right: list[dict] | None) -> list[dict]:
    """Children of one fan-out append their results; merge clears them with Overwrite([])."""
    return (left or []) + (right or [])


class RLMInput(TypedDict, total=False):
    """What a caller passes to the compiled graph.

    ``context`` is a ``ContextRef`` dump, or a path (file or folder) the graph opens itself.
    The remaining keys are set by the RLM wrapper or by a parent call.
    """

    query: str
    context: dict[str, Any] | str
    budget: dict[str, Any]
    depth: int
    call_id: str
    parent_id: str | None
    target: str
    started_at: float


class RLMState(RLMInput, total=False):
    # progress of this call
    transcript: list[dict[str, str]]  # {"role": "user" | "assistant", "content": ...}
    iteration: int
    turn: dict[str, Any]  # ParsedTurn dump of the latest planner turn
    observations: list[dict[str, Any]]  # non-CALL results of the turn, keyed by action index
    jobs: list[dict[str, Any]]  # the turn's CALLs that were sent to children
    child_results: Annotated[list[dict[str, Any]], add_child_results]
    call_cache: dict[str, str]  # identical CALLs are answered from here, not run again
    calls_made: int  # CALLs issued so far, for child ids
    findings: list[dict[str, str]]  # {"action", "answer"} of children that found something
    stalled: bool  # the last turn brought nothing new while repeating itself
    idle_turns: int  # consecutive turns that brought nothing new
    coverage_note: str | None  # map-reduce could not read every chunk
    # accounting
    usage: dict[str, dict[str, int]]  # model name -> Usage dump, whole subtree
    own_usage: dict[str, int]  # this call's own model calls
    records: list[dict[str, Any]]  # CallRecord dumps of all descendants
    # outcome
    answer: str | None
    status: str
    error: str | None


class RLMOutput(TypedDict, total=False):
    answer: str | None
    status: str
    error: str | None
    usage: dict[str, dict[str, int]]
    own_usage: dict[str, int]
    records: list[dict[str, Any]]
    call_id: str
    iteration: int
    budget: dict[str, Any]
    transcript: list[dict[str, str]]
