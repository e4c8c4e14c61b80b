"""``RLMResult``: what one turn of a thread produced, built from the thread's stored state."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from rlm_graph.graph.accounting import live_record, usage_of_records
from rlm_graph.state import CallRecord, Usage
from rlm_graph.tree import build_tree, tree_summary

if TYPE_CHECKING:
    import networkx as nx


class RLMResult(BaseModel):
    """What one turn produced. ``tree`` is its execution tree as a ``networkx.DiGraph``.

    ``usage`` and ``records`` are this turn's; ``thread_usage`` sums every turn of the thread.
    ``status`` is ``done``, ``budget_exhausted``, ``error``, or ``interrupted`` when the run
    paused for approval: ``pending`` then holds what waits (the proposed calls and their cost).
    """

    answer: str | None
    status: str
    thread_id: str
    turn: int = 1
    route: str | None = None
    usage: Usage
    usage_by_model: dict[str, Usage] = Field(default_factory=dict)
    thread_usage: Usage = Field(default_factory=Usage)
    root_input_tokens: int = 0
    records: list[CallRecord] = Field(default_factory=list)
    # The verified passages that back the answer (call id, quote, file, lines, byte span), and
    # whether there is any: an answer no passage of the text backs is not "found".
    citations: list[dict[str, Any]] = Field(default_factory=list)
    grounded: bool = False
    # False when the text does not answer the question: ``answer`` is then "not found", and a
    # lookup's answer that nothing located backs is kept as ``unverified_answer``.
    found: bool = False
    unverified_answer: str | None = None
    # Other verified answers the text gives to a one-answer question (answer, where, quote).
    conflicts: list[dict[str, Any]] = Field(default_factory=list)
    pending: list[dict[str, Any]] = Field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0

    @cached_property
    def tree(self) -> nx.DiGraph:
        return build_tree(self.records)

    @classmethod
    def from_state(
        cls,
        values: dict[str, Any],
        thread_id: str,
        seconds: float,
        pending: list[dict[str, Any]] | None = None,
    ) -> RLMResult:
        turn = values.get("turn") or 1
        stored = dict(values.get("records") or {})
        if pending and values.get("call_id") in stored:  # paused: the root's turns so far count
            stored[values["call_id"]] = live_record(values, "root")
        everything = [CallRecord.model_validate(r) for r in stored.values()]
        records = [record for record in everything if record.turn == turn]
        usage, by_model = usage_of_records(records)
        split = values.get("usage") or {}
        if not pending and split:
            # A record counts its calls under its own model; a call that asks another model
            # (a judge, the reader of other words) charged those calls to the state's split
            # by model, which the turn's root holds for its whole tree.
            by_model = {name: Usage.model_validate(used) for name, used in split.items()}
        thread_usage, _ = usage_of_records(everything)
        root = next((r for r in records if r.kind == "root"), None)
        status = values.get("status") or "error"
        if pending:
            status = "interrupted"
        return cls(
            answer=values.get("answer"),
            status=status,
            thread_id=thread_id,
            turn=turn,
            route=values.get("route"),
            usage=usage,
            usage_by_model=by_model,
            thread_usage=thread_usage,
            root_input_tokens=root.usage.input_tokens if root else 0,
            records=records,
            citations=(root.evidence if root and root.verified else []),
            grounded=bool(root and root.verified),
            found=bool(
                status == "done" and values.get("answer") and values.get("outcome") != "not_found"
            ),
            unverified_answer=values.get("unverified_answer"),
            conflicts=(root.conflicts if root else []),
            pending=pending or [],
            error=values.get("error"),
            seconds=seconds,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "answer": self.answer,
            "status": self.status,
            "thread_id": self.thread_id,
            "turn": self.turn,
            "route": self.route,
            "error": self.error,
            "seconds": round(self.seconds, 3),
            "usage": {
                **self.usage.model_dump(),
                "by_model": {name: u.model_dump() for name, u in self.usage_by_model.items()},
            },
            "thread_usage": self.thread_usage.model_dump(),
            "root_input_tokens": self.root_input_tokens,
            "grounded": self.grounded,
            "found": self.found,
            "unverified_answer": self.unverified_answer,
            "conflicts": self.conflicts,
            "citations": self.citations,
            "pending": self.pending,
            "tree": {
                **tree_summary(self.records),
                "calls": [record.model_dump() for record in self.records],
            },
        }
