"""The typed messages on the graph's edges: what one node hands the next.

| message | built by | travels as | read by |
|---|---|---|---|
| :class:`Job` | ``call`` (a CALL), ``repl_cell`` (a paused cell's sub-call) | ``Send("recurse", job)`` and the ``jobs`` channel | ``recurse``, ``repl_cell.run_query`` |
| :class:`ChildResult` | ``recurse``, ``repl_cell.run_query`` | the ``child_results`` channel | ``merge``, ``repl_cell.resume_cells`` |
| :class:`Observation` | ``call``, ``repl_cell`` | the ``observations`` channel | ``merge`` (into the transcript) |
| :class:`Finding` | ``merge`` (a child's answer, a passage the planner saw), ``review`` (a swept sentence) | the ``findings`` channel | the planners, ``call`` (a FINAL's second look), ``merge`` (grounding), ``outcome.partial_answer`` |
| :class:`SeenSpan` | ``call`` (PEEK, GREP) | the ``observed`` channel | ``merge`` (grounding) |
| :class:`PendingSubcall` | ``repl_cell`` (a paused cell) | the ``repl_pending`` channel | ``repl_cell.resume_cells`` |

Channels and Send payloads hold each message's dump (a plain dict), and each is read back
through one function here (``child_results_of``, ``findings_of``, ...): checkpoints stay
portable under ``LANGGRAPH_STRICT_MSGPACK`` (which refuses classes it was not told about),
threads stored before these models existed load unchanged, and stored state reads as plain
data in tools and tests. A message is built with its model, so no node assembles one from
loose keys.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from rlm_graph.budget import Budget
from rlm_graph.evidence import Evidence
from rlm_graph.state import CallRecord, CallStatus, ContextRef


class _Message(BaseModel):
    # Field docstrings are the fields' descriptions (shown by ``model_json_schema``).
    model_config = ConfigDict(use_attribute_docstrings=True)

    def dump(self) -> dict[str, Any]:
        """The plain dict a channel or a Send payload holds."""
        return self.model_dump()


class Job(_Message):
    """One child call to run: written by ``call`` for each runnable CALL (and by ``repl_cell``
    for each sub-call of a paused cell), sent to ``recurse``. The child's first state is
    :meth:`child_state`."""

    index: int
    """The action's place in its reply (or in the cell's batch): results are merged in it."""
    call_id: str
    """The child's call id: its parent's id, a dot, and the parent's count of calls made."""
    parent_id: str
    turn: int = 1
    """The thread's question the child belongs to (its parent's)."""
    depth: int
    task: str
    """The child's question (a part's own task for a per-part question; a REPL prompt)."""
    target: str
    """The target as the planner wrote it (``chunk:3``), or a REPL label (``prompt``, ``text``)."""
    context: ContextRef
    """The child's slice, resolved by ``call``; a REPL prompt or code text is a stored text."""
    budget: Budget
    """The child's share of its parent's budget."""
    leaf: bool
    """One model call over the slice (at the depth limit, or it fits), else a planning child."""
    kind: Literal["rlm", "query"] = "rlm"
    """``query``: a REPL ``llm_query``, one plain model call over the prompt."""
    cache_key: str
    """The same task over the same bytes: a repeated CALL is answered from this result."""
    action: str
    """How the planner's transcript labels the result (``CALL chunk:3``)."""
    tokens: int
    """What reading the slice is estimated to cost (the approval gate sums these)."""

    def child_state(self, started_at: float) -> dict[str, Any]:
        """The child call's first state."""
        return {
            "query": self.task,
            "context": self.context.model_dump(),
            "budget": self.budget.model_dump(),
            "depth": self.depth,
            "call_id": self.call_id,
            "parent_id": self.parent_id,
            "turn": self.turn,
            "target": self.target,
            "started_at": started_at,
        }


class ChildResult(_Message):
    """A finished child, as its parent's ``merge`` folds it in: written by ``recurse`` (and
    ``repl_cell.run_query``) from the child's final record, see :meth:`of`."""

    index: int
    call_id: str
    cache_key: str
    action: str
    answer: str | None = None
    status: CallStatus
    error: str | None = None
    outcome: Literal["found", "not_found"] | None = None
    verified: bool | None = None
    evidence: list[dict[str, Any]] = []
    """The passages that back the answer (``Evidence`` dumps), with where they stand."""
    off_question: bool = False
    """Verified for its own task, by no passage about the user's question (``merge``)."""
    usage: dict[str, dict[str, Any]] = {}
    """Model name -> ``Usage`` dump: the child's whole subtree, charged to the parent."""
    records: list[dict[str, Any]] = []
    """The call records of the child's subtree, final (``CallRecord`` dumps)."""

    @classmethod
    def of(
        cls,
        job: Job,
        record: CallRecord,
        usage: dict[str, dict[str, Any]],
        records: list[dict[str, Any]],
    ) -> ChildResult:
        return cls(
            index=job.index,
            call_id=job.call_id,
            cache_key=job.cache_key,
            action=job.action,
            answer=record.answer,
            status=record.status,
            error=record.error,
            outcome=record.outcome,
            verified=record.verified,
            evidence=record.evidence,
            usage=usage,
            records=records,
        )


ObservationKind = Literal["info", "repeat", "error"]


class Observation(_Message):
    """What the planner reads back about an action that sent no child (a PEEK's excerpt, a
    GREP's hits, a refused CALL, a REPL cell's output): written by ``call`` and ``repl_cell``,
    rendered into the transcript by ``merge``."""

    index: int
    """The action's place in its reply (-1: about the reply as a whole)."""
    action: str
    """The label the planner reads (``PEEK lines:1-20``, ``CALL chunk:3``, ``cell 2``)."""
    text: str
    kind: ObservationKind = "info"
    """``info``: something new; ``repeat``: answered from the cache; ``error``: refused. A
    step of only errors and repeats counts towards a stalled planner (``merge``)."""
    failed: bool = False
    """A REPL cell that ended in an exception: the planner is asked to fix it, not to answer."""


class Finding(_Message):
    """An answer worth keeping, with its standing: written by ``merge`` (a child's answer; a
    passage the planner saw itself, when grounding) and ``review`` (a swept sentence); read by
    the planners, ``call`` (a FINAL's second look) and the grounding of the call's answer."""

    action: str = ""
    """Where it came from, as the planner reads it (``CALL chunk:3``, ``GREP(...)``, ``SWEEP``)."""
    call_id: str | None = None
    """The call whose answer it is (cited as such)."""
    answer: str
    verified: bool = False
    """A passage located in the text backs it (and it is about the question)."""
    where: str = ""
    """Where its first verified passage stands (``line 417``, ``b.txt, line 2``)."""
    evidence: list[dict[str, Any]] = []
    """Its passages (``Evidence`` dumps)."""

    @classmethod
    def read_off(cls, action: str, call_id: str | None, answer: str, item: Evidence) -> Finding:
        """A verified finding backed by one located passage (a swept or found sentence)."""
        return cls(
            action=action,
            call_id=call_id,
            answer=answer,
            verified=True,
            where=item.where(),
            evidence=[item.model_dump()],
        )


class SeenSpan(_Message):
    """A span of the context the planner was shown (a PEEK excerpt, around a GREP hit), written
    by ``call``: an answer read off it is backed by located text (``merge``'s grounding)."""

    action: str
    start: int
    """Absolute byte offsets into the store."""
    end: int


class PendingSubcall(_Message):
    """A paused REPL cell's sub-call, sent as a job: written by ``repl_cell`` when the cell
    stops, read when ``merge`` resumes it with the children's answers."""

    id: str
    """The sandbox's id of the pending call (the cell is resumed by it)."""
    call_id: str
    function: str
    """``llm_query``, ``llm_query_batched``, ``rlm_query`` ..."""
    located: bool = False
    """An ``rlm_query`` on a span of the context: its findings are located text."""


# -- reading a channel back -----------------------------------------------------------------


def findings_of(items: Iterable[Finding | Mapping[str, Any]] | None) -> list[Finding]:
    """Findings from a channel's dumps (or findings already typed)."""
    return [
        item if isinstance(item, Finding) else Finding.model_validate(item) for item in items or []
    ]


def child_results_of(state: Mapping[str, Any]) -> list[ChildResult]:
    """The step's child results, in action order (never finish order)."""
    results = [ChildResult.model_validate(r) for r in state.get("child_results") or []]
    return sorted(results, key=lambda result: result.index)


def observations_of(state: Mapping[str, Any]) -> list[Observation]:
    return [Observation.model_validate(o) for o in state.get("observations") or []]


def seen_spans_of(items: Iterable[Mapping[str, Any]] | None) -> list[SeenSpan]:
    return [SeenSpan.model_validate(item) for item in items or []]


def pending_of(state: Mapping[str, Any]) -> list[PendingSubcall]:
    return [PendingSubcall.model_validate(p) for p in state.get("repl_pending") or []]


def dumps(messages: Iterable[_Message]) -> list[dict[str, Any]]:
    """A channel's write: the messages' dumps, in order."""
    return [message.dump() for message in messages]
