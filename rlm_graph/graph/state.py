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

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from langgraph.channels import DeltaChannel
from typing_extensions import TypedDict

from rlm_graph.budget import Budget
from rlm_graph.graph.messages import (
    ChildResult,
    Finding,
    Observation,
    PendingSubcall,
    SeenSpan,
    child_results_of,
    findings_of,
    observations_of,
    pending_of,
    seen_spans_of,
)
from rlm_graph.protocol import ParsedTurn
from rlm_graph.state import ContextRef, Usage

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
    """A call's state, grouped by the node that writes each channel (``RLMInput`` above: what
    a caller or a parent's job sets). The typed messages of ``graph/messages.py`` travel as
    dumps; read them, and every other channel with its default, through :class:`CallState`.
    ``begin`` resets every per-turn channel (``begin.FRESH_TURN``)."""

    # -- begin (the root only) -------------------------------------------------------------
    thread_context: dict[str, Any]  # the ContextRef every turn of the thread reads
    settings: dict[str, Any]  # the RunSettings of the latest turn
    held_context: str | None  # the store this turn holds open (released at its end)

    # -- plan (the planner strategies) -----------------------------------------------------
    route: str | None  # root only: "direct" (one call) or "recursive"
    # {"author": "rlm" | "model", "text": ...}: the planner conversation, kept whole (plan
    # writes the model's turns, merge what the model reads back)
    transcript: Annotated[
        list[dict[str, str]], DeltaChannel(append_items, list, snapshot_frequency=SNAPSHOT_EVERY)
    ]
    iteration: int  # planner turns taken
    actions: dict[str, Any]  # ParsedTurn dump of the latest planner reply
    coverage_note: str | None  # map-reduce could not read every chunk
    # "per-part": one CALL per section, the answer one line per section; "found-lines": the
    # read of the sentences the question's names found answered (graph/found_lines.py)
    strategy: str | None
    # REPL mode (``graph/repl_turn.py``): the reply's cells not run yet (``call`` runs them),
    # and its final answer to apply after them.
    repl_cells: list[str]
    repl_turn: dict[str, Any]

    # -- call (and repl_cell, its REPL-mode body) --------------------------------------------
    observations: list[dict[str, Any]]  # Observation dumps: what the reply's non-CALLs gave
    jobs: list[dict[str, Any]]  # Job dumps: the reply's CALLs sent to ``recurse``
    calls_made: int  # CALLs issued so far, for child ids
    # SeenSpan dumps: spans of the context the planner saw itself (PEEK excerpts, GREP hits),
    # located text an answer read off them is backed by.
    observed: Annotated[
        list[dict[str, Any]], DeltaChannel(append_items, list, snapshot_frequency=SNAPSHOT_EVERY)
    ]
    final_checked: bool  # a FINAL was sent back once already (unbacked, or leaving findings out)
    force_reason: str | None  # the next planner turn must answer now, for this reason
    # REPL mode (``graph/repl_cell.py``): the sandbox session's state() bytes after its latest
    # stop (context cut out; the live session is rebuilt from them after a crash), and the
    # sub-calls a paused cell waits for (PendingSubcall dumps).
    repl_state: bytes | None
    repl_pending: list[dict[str, Any]]
    # How many of the call's cells ran without an error (an answer nothing computed is not
    # taken), and each failed cell's code (normalised, hashed) with the error's last line (the
    # same code is not run again).
    repl_ok_cells: int
    repl_failed_cells: dict[str, str]
    # The latest cell that ran without an error: its code key -> what it printed (one entry;
    # the same code sent again is not run, its output is shown again).
    repl_last_ok_cell: dict[str, str]
    # Every number the call's cells printed without an error (a number given as FINAL to a
    # question that asks for one must be among them).
    repl_numbers_printed: list[str]
    # The numbers of counting cells that were not taken (their code left out a value of the
    # question): a variable holding one of them is no answer either.
    repl_numbers_untaken: list[str]

    # -- recurse ---------------------------------------------------------------------------
    child_results: Annotated[list[dict[str, Any]], add_child_results]  # ChildResult dumps

    # -- merge -----------------------------------------------------------------------------
    call_cache: Annotated[
        dict[str, str], DeltaChannel(update_entries, dict, snapshot_frequency=SNAPSHOT_EVERY)
    ]  # cache key -> a repeated CALL's answer (its first result, as the planner read it)
    # Finding dumps: the children's answers worth keeping (``review`` adds swept ones)
    findings: Annotated[
        list[dict[str, str]], DeltaChannel(append_items, list, snapshot_frequency=SNAPSHOT_EVERY)
    ]
    idle_turns: int  # consecutive replies that brought nothing new
    stalled: bool  # the last reply brought nothing new while repeating itself
    usage: dict[str, dict[str, int]]  # model name -> Usage dump, this call's whole subtree
    own_usage: dict[str, int]  # this call's own model calls (each model-calling node adds)
    # call records by id: written ``running`` by begin / call, final by merge / recurse
    records: Annotated[
        dict[str, dict[str, Any]],
        DeltaChannel(upsert_records, dict, snapshot_frequency=SNAPSHOT_EVERY),
    ]

    # -- the outcome: status, answer and error through ``outcome.finish`` (whoever ends the
    # call); the grounding fields by merge (``review`` may rewrite a root's answer) ---------
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


# Every per-turn channel's value when a turn starts (``begin`` resets them to these; the
# delta channels are overwritten with them) and what ``CallState`` reads when one is missing
# or empty: each default is given here once.
TURN_START: dict[str, Any] = {
    "transcript": [],
    "findings": [],
    "observed": [],
    "call_cache": {},
    "child_results": [],
    "iteration": 0,
    "actions": {},
    "observations": [],
    "jobs": [],
    "calls_made": 0,
    "stalled": False,
    "final_checked": False,
    "force_reason": None,
    "idle_turns": 0,
    "coverage_note": None,
    "strategy": None,
    "repl_state": None,
    "repl_cells": [],
    "repl_turn": {},
    "repl_pending": [],
    "repl_ok_cells": 0,
    "repl_failed_cells": {},
    "repl_last_ok_cell": {},
    "repl_numbers_printed": [],
    "repl_numbers_untaken": [],
    "usage": {},
    "own_usage": {},
    "route": None,
    "answer": None,
    "error": None,
    "status": "running",
    "outcome": None,
    "verified": None,
    "evidence": [],
    "unverified_answer": None,
    "conflicts": [],
    "depth": 0,
    "parent_id": None,
    "target": "all",
}
# Channels set once per call, read with these defaults before they are.
_SET_ONCE = {"query": "", "call_id": "t1", "records": {}}


class CallState:
    """Typed reads of a call's state (or of a state with an update laid over it), each
    channel's default given here once: nodes read ``CallState(state).depth``, never
    ``state.get("depth", 0)``. The typed messages come back as their models."""

    __slots__ = ("raw",)

    def __init__(self, state: Mapping[str, Any]) -> None:
        self.raw = state

    def _or(self, key: str) -> Any:
        # Missing, None or empty reads as the default: a REPL step lays its lists (an empty
        # ``records`` list among them) over the state before merge reads it. A fresh copy,
        # so a caller that changes it changes nothing shared.
        value = self.raw.get(key)
        if value:
            return value
        default = TURN_START[key] if key in TURN_START else _SET_ONCE[key]
        return type(default)(default) if isinstance(default, list | dict) else default

    # -- what the caller or the parent's job set ------------------------------------------
    @property
    def query(self) -> str:
        return self._or("query")

    @property
    def call_id(self) -> str:
        return self._or("call_id")

    @property
    def parent_id(self) -> str | None:
        return self.raw.get("parent_id")

    @property
    def depth(self) -> int:
        return self._or("depth")

    @property
    def turn(self) -> int:
        return self.raw.get("turn") or 1

    @property
    def target(self) -> str:
        return self._or("target")

    @property
    def started_at(self) -> float | None:
        return self.raw.get("started_at")

    @property
    def context(self) -> ContextRef:
        return ContextRef.model_validate(self.raw["context"])

    @property
    def budget(self) -> Budget:
        return Budget.model_validate(self.raw["budget"])

    # -- begin -----------------------------------------------------------------------------
    @property
    def thread_context(self) -> dict[str, Any] | None:
        return self.raw.get("thread_context")

    @property
    def held_context(self) -> str | None:
        return self.raw.get("held_context")

    # -- plan ------------------------------------------------------------------------------
    @property
    def route(self) -> str | None:
        return self.raw.get("route")

    @property
    def transcript(self) -> list[dict[str, str]]:
        return list(self._or("transcript"))

    @property
    def iteration(self) -> int:
        return self._or("iteration")

    @property
    def actions(self) -> ParsedTurn:
        """The latest planner reply's actions, parsed."""
        return ParsedTurn.model_validate(self._or("actions"))

    @property
    def coverage_note(self) -> str | None:
        return self.raw.get("coverage_note")

    @property
    def strategy(self) -> str | None:
        return self.raw.get("strategy")

    @property
    def repl_cells(self) -> list[str]:
        return list(self._or("repl_cells"))

    @property
    def repl_turn(self) -> dict[str, Any]:
        return self._or("repl_turn")

    # -- call ------------------------------------------------------------------------------
    @property
    def observations(self) -> list[Observation]:
        return observations_of(self.raw)

    @property
    def calls_made(self) -> int:
        return self._or("calls_made")

    @property
    def observed(self) -> list[SeenSpan]:
        return seen_spans_of(self.raw.get("observed"))

    @property
    def final_checked(self) -> bool:
        return bool(self.raw.get("final_checked"))

    @property
    def force_reason(self) -> str | None:
        return self.raw.get("force_reason")

    @property
    def repl_state(self) -> bytes | None:
        return self.raw.get("repl_state")

    @property
    def repl_ok_cells(self) -> int:
        return self._or("repl_ok_cells")

    @property
    def repl_failed_cells(self) -> dict[str, str]:
        return dict(self._or("repl_failed_cells"))

    @property
    def repl_last_ok_cell(self) -> dict[str, str]:
        return dict(self._or("repl_last_ok_cell"))

    @property
    def repl_numbers_printed(self) -> list[str]:
        return list(self._or("repl_numbers_printed"))

    @property
    def repl_numbers_untaken(self) -> list[str]:
        return list(self._or("repl_numbers_untaken"))

    @property
    def repl_pending(self) -> list[PendingSubcall]:
        return pending_of(self.raw)

    # -- recurse ---------------------------------------------------------------------------
    @property
    def child_results(self) -> list[ChildResult]:
        """In action order, never finish order."""
        return child_results_of(self.raw)

    # -- merge -----------------------------------------------------------------------------
    @property
    def call_cache(self) -> dict[str, str]:
        return dict(self._or("call_cache"))

    @property
    def findings(self) -> list[Finding]:
        return findings_of(self.raw.get("findings"))

    @property
    def idle_turns(self) -> int:
        return self._or("idle_turns")

    @property
    def stalled(self) -> bool:
        return bool(self.raw.get("stalled"))

    @property
    def usage(self) -> dict[str, dict[str, Any]]:
        return self._or("usage")

    @property
    def own_usage(self) -> Usage:
        return Usage.model_validate(self._or("own_usage"))

    @property
    def records(self) -> dict[str, dict[str, Any]]:
        return self._or("records")

    # -- the outcome -----------------------------------------------------------------------
    @property
    def status(self) -> str:
        return self._or("status")

    @property
    def answer(self) -> str | None:
        return self.raw.get("answer")

    @property
    def error(self) -> str | None:
        return self.raw.get("error")

    @property
    def outcome(self) -> str | None:
        return self.raw.get("outcome")

    @property
    def verified(self) -> bool | None:
        return self.raw.get("verified")

    @property
    def evidence(self) -> list[dict[str, Any]]:
        return self._or("evidence")

    @property
    def unverified_answer(self) -> str | None:
        return self.raw.get("unverified_answer")

    @property
    def conflicts(self) -> list[dict[str, Any]]:
        return self._or("conflicts")
