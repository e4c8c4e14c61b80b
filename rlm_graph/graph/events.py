"""Progress events, written to LangGraph's ``custom`` stream.

Stream the graph with ``stream_mode="custom", subgraphs=True`` (the CLI does) to watch a run
anywhere in the tree. Every event is a dict with ``event`` set to one of:

- ``call_started``: ``id``, ``parent``, ``depth``, ``task``, ``target``, ``kind`` (root/node/leaf)
- ``call_finished``: ``id``, ``depth``, ``target``, ``kind``, ``status``, ``answer`` (a preview),
  ``outcome`` (a leaf's: found / not_found), ``verified`` and ``where`` (the answer's backing
  passage), ``seconds``, and the subtree's ``input_tokens`` / ``output_tokens`` /
  ``model_calls``
- ``route``: ``id``, ``route`` (direct/recursive), ``tokens`` (the context's estimate)
- ``turn_started``: ``id``, ``depth``, ``iteration``, ``kind`` (plan/direct/reduce, or
  found-lines: the lines the question's names found, read before the first turn): a model turn
  of a root or node began
- ``model_call_queued`` / ``model_call_started``: ``id``, ``kind`` (plan/direct/reduce/found-lines/
  leaf, judge: a backing passage read, review: the answer's kind checked, sweep: a list
  searched for and its items read, query: a REPL cell's ``llm_query``): a model call waits for the concurrency limit /
  holds a slot and is running;
- ``model_call``: ``id``, ``kind``, ``input_tokens``, ``output_tokens``, ``seconds``,
  ``error``: one model call ended. Summing these counts every token of the run exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from langgraph.runtime import Runtime

from rlm_graph.state import CallRecord, Usage

if TYPE_CHECKING:
    from rlm_graph.graph.messages import Job

PREVIEW_CHARS = 80


def emit(runtime: Runtime[Any] | None, event: str, **fields: Any) -> None:
    writer = getattr(runtime, "stream_writer", None)
    if writer is not None:
        writer({"event": event, **fields})


@dataclass
class ModelCallEvents:
    """The events of one model call, made by the call of the tree (``call_id``) that makes it."""

    runtime: Runtime[Any] | None
    call_id: str
    kind: str  # plan, direct, reduce or leaf

    def queued(self) -> None:
        emit(self.runtime, "model_call_queued", id=self.call_id, kind=self.kind)

    def started(self) -> None:
        emit(self.runtime, "model_call_started", id=self.call_id, kind=self.kind)

    def finished(self, usage: Usage, seconds: float, error: str | None = None) -> None:
        emit(
            self.runtime,
            "model_call",
            id=self.call_id,
            kind=self.kind,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            seconds=round(seconds, 3),
            error=error,
        )


def _where(record: CallRecord) -> str | None:
    for item in record.evidence:
        if item.get("verified"):
            from rlm_graph.evidence import Evidence

            return Evidence.model_validate(item).where()
    return None


def preview(text: str | None) -> str:
    return " ".join((text or "").split())[:PREVIEW_CHARS]


def emit_child_started(runtime: Runtime[Any] | None, job: Job, kind: str) -> None:
    """A child call (a job of ``recurse``) began: who it is, where it reads, what it asks."""
    emit(
        runtime,
        "call_started",
        id=job.call_id,
        parent=job.parent_id,
        depth=job.depth,
        task=job.task,
        target=job.target,
        kind=kind,
    )


def emit_call_finished(
    runtime: Runtime[Any] | None, record: CallRecord, subtree_usage: dict[str, dict[str, int]]
) -> None:
    """A call ended: its record's outcome, and what its whole subtree used."""
    total = Usage()
    for values in subtree_usage.values():
        total = total.add(Usage.model_validate(values))
    emit(
        runtime,
        "call_finished",
        id=record.id,
        depth=record.depth,
        target=record.target,
        kind=record.kind,
        status=record.status,
        answer=preview(record.answer or record.error),
        outcome=record.outcome,
        verified=record.verified,
        where=_where(record),
        seconds=round(record.seconds or 0.0, 3),
        input_tokens=total.input_tokens,
        output_tokens=total.output_tokens,
        model_calls=total.model_calls,
    )
