"""Graph state and the payloads that cross Send boundaries.

Only plain data lives here (dicts of pydantic dumps), never the context's text: checkpoint
size must not grow with the input. Channels that grow with the run (call records, the planner
transcript, findings, the repeat cache) are ``DeltaChannel``s: a checkpoint stores what a step
added, not the whole history again, so the bytes written per step stay flat however long the
run gets.

A thread holds a sequence of turns (one question each). The root of each turn is a new call
``t1``, ``t2``...; ``begin`` resets every per-turn channel, so nothing of an earlier turn's
status or transcript reaches the next one. Records are thread-wide, keyed by call id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from langgraph.channels import DeltaChannel
from typing_extensions import TypedDict

# Full copies of a delta channel are written only this rarely (they bound the replay on load).
SNAPSHOT_EVERY = 1000


def append_items(current: list[Any], writes: Sequence[list[Any]]) -> list[Any]:
    """Each write is a list of new items, appended in order."""
    out = list(current)
    for items in writes:
        out.extend(items)
    return out


def upsert_records(current: dict[str, dict], writes: Sequence[Any]) -> dict[str, dict]:
    """Each write is a list of call records (or a dict of them); a later record of the same call
    id updates the earlier one, so a record written at a call's start is completed at its end."""
    out = dict(current)
    for records in writes:
        for record in records.values() if isinstance(records, dict) else records:
            out[record["id"]] = {**out.get(record["id"], {}), **record}
    return out


def update_entries(current: dict[str, Any], writes: Sequence[dict[str, Any]]) -> dict[str, Any]:
    out = dict(current)
    for entries in writes:
        out.update(entries)
    return out


def add_child_results(left: list[dict] | None, right: list[dict] | None) -> list[dict]:
    """Children of one fan-out append their results; merge clears them with Overwrite([])."""
    return (left or []) + (right or [])


class RLMInput(TypedDict, total=False):
    """What a caller passes to the compiled graph: ``query`` and, on a thread's first turn,
    ``context`` (a ``ContextRef`` dump, or a file or folder path the graph opens itself).

    The remaining keys are set by a parent call for its children.
    """

    query: str
    context: dict[str, Any] | str
    budget: dict[str, Any]
    depth: int
    call_id: str
    parent_id: str | None
    target: str
    turn: int
    started_at: float


class RLMState(RLMInput, total=False):
    thread_context: dict[str, Any]  # root only: the ContextRef every turn of the thread reads
    settings: dict[str, Any]  # root only: the RunSettings of the latest turn
    route: str | None  # root only: "direct" (one call) or "recursive"
    held_context: str | None  # root only: the store this turn holds open (released at its end)
    # progress of this call (reset at every turn)
    # {"author": "rlm" | "model", "text": ...}: the planner conversation, kept whole
    transcript: Annotated[
        list[dict[str, str]], DeltaChannel(append_items, list, snapshot_frequency=SNAPSHOT_EVERY)
    ]
    iteration: int
    actions: dict[str, Any]  # ParsedTurn dump of the latest planner reply
    observations: list[dict[str, Any]]  # non-CALL results of the reply, keyed by action index
    jobs: list[dict[str, Any]]  # the reply's CALLs that were sent to children
    child_results: Annotated[list[dict[str, Any]], add_child_results]
    call_cache: Annotated[
        dict[str, str], DeltaChannel(update_entries, dict, snapshot_frequency=SNAPSHOT_EVERY)
    ]
    calls_made: int  # CALLs issued so far, for child ids
    findings: Annotated[
        list[dict[str, str]], DeltaChannel(append_items, list, snapshot_frequency=SNAPSHOT_EVERY)
    ]
    # Spans of the context the planner saw itself (PEEK excerpts, GREP hits): located text an
    # answer read off them is backed by. {"action", "start", "end"}, absolute byte offsets.
    observed: Annotated[
        list[dict[str, Any]], DeltaChannel(append_items, list, snapshot_frequency=SNAPSHOT_EVERY)
    ]
    stalled: bool  # the last reply brought nothing new while repeating itself
    final_checked: bool  # a FINAL was sent back once already (unbacked, or leaving findings out)
    force_reason: str | None  # the next planner turn must answer now, for this reason
    idle_turns: int  # consecutive replies that brought nothing new
    coverage_note: str | None  # map-reduce could not read every chunk
    strategy: str | None  # "per-part": one CALL per section, the answer one line per section
    # REPL mode (``graph/repl_cell.py``): the sandbox session's state() bytes after its latest
    # stop (context cut out; the live session is rebuilt from them after a crash), the reply's
    # cells not run yet, its final answer to apply after them, and the sub-calls a paused cell
    # waits for ({"id": pending id, "call_id": child, "function"}).
    repl_state: bytes | None
    repl_cells: list[str]
    repl_turn: dict[str, Any]
    repl_pending: list[dict[str, Any]]
    # accounting
    usage: dict[str, dict[str, int]]  # model name -> Usage dump, this call's whole subtree
    own_usage: dict[str, int]  # this call's own model calls
    records: Annotated[
        dict[str, dict[str, Any]],
        DeltaChannel(upsert_records, dict, snapshot_frequency=SNAPSHOT_EVERY),
    ]
    # outcome
    answer: str | None
    status: str
    error: str | None
    outcome: str | None  # a leaf's: "found" or "not_found"
    verified: bool | None  # the answer is backed by a passage found in the text
    evidence: list[dict[str, Any]]  # those passages (a call's: its citations)
    unverified_answer: str | None  # a lookup answered "not found": what nothing backed
    conflicts: list[dict[str, Any]]  # other verified answers to a one-answer question


class RLMOutput(TypedDict, total=False):
    answer: str | None
    status: str
    error: str | None
    verified: bool | None
    evidence: list[dict[str, Any]]
    route: str | None
    turn: int
    usage: dict[str, dict[str, int]]
    own_usage: dict[str, int]
    records: dict[str, dict[str, Any]]
    call_id: str
    iteration: int
    budget: dict[str, Any]
