"""Usage sums and call records, shared by the nodes and the RLM wrapper.

Every call record is built from a call's state by :func:`record_from_state`: written
``running`` when the call starts (``begin`` for a root, :func:`running_record` when a parent
sends a child off) and final when it ends (``merge`` for a call that plans; ``recurse`` for a
leaf or a REPL query, which have no merge of their own).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from rlm_graph.graph.messages import Job
from rlm_graph.graph.state import CallState
from rlm_graph.state import CallKind, CallRecord, Usage


def add_usage(
    by_model: dict[str, dict[str, int]] | None, model: str, usage: Usage
) -> dict[str, dict[str, int]]:
    merged = {name: dict(values) for name, values in (by_model or {}).items()}
    merged[model] = Usage.model_validate(merged.get(model, {})).add(usage).model_dump()
    return merged


def merge_usage(
    left: dict[str, dict[str, int]] | None, right: dict[str, dict[str, int]] | None
) -> dict[str, dict[str, int]]:
    merged = {name: dict(values) for name, values in (left or {}).items()}
    for name, values in (right or {}).items():
        merged = add_usage(merged, name, Usage.model_validate(values))
    return merged


def total_usage(by_model: dict[str, dict[str, int]] | None) -> Usage:
    total = Usage()
    for values in (by_model or {}).values():
        total = total.add(Usage.model_validate(values))
    return total


def usage_of_records(records: Iterable[CallRecord]) -> tuple[Usage, dict[str, Usage]]:
    """Total usage of some calls and the same split by model (each call counts its own)."""
    total, by_model = Usage(), {}
    for record in records:
        total = total.add(record.usage)
        by_model[record.model] = by_model.get(record.model, Usage()).add(record.usage)
    return total, by_model


def record_from_state(
    state: dict[str, Any], *, kind: CallKind, model: str, ended_at: float | None = None
) -> CallRecord:
    """The call record of one RLM call from its graph state (``ended_at`` is now once the call
    has a final status, else unset)."""
    call = CallState(state)
    # Not always a whole ContextRef: a REPL query's prompt is recorded as {"start": 0, "end": 0}.
    context = state.get("context") or {}
    status = call.status
    if ended_at is None and status != "running":
        ended_at = time.time()
    return CallRecord(
        id=call.call_id,
        parent_id=call.parent_id,
        turn=call.turn,
        depth=call.depth,
        kind=kind,
        task=call.query,
        target=call.target,
        context_start=context.get("start", 0) if isinstance(context, dict) else 0,
        context_end=context.get("end", 0) if isinstance(context, dict) else 0,
        model=model,
        status=status,
        answer=call.answer,
        outcome=call.outcome,
        verified=call.verified,
        evidence=call.evidence,
        unverified_answer=call.unverified_answer,
        conflicts=call.conflicts,
        usage=call.own_usage,
        iterations=call.iteration,
        started_at=call.started_at or time.time(),
        ended_at=ended_at,
        error=call.error,
    )


def job_state(job: Job) -> dict[str, Any]:
    """A child call's first state, from the job its parent sent."""
    return job.child_state(started_at=time.time())


def running_record(
    job: Job, model: str, *, kind: CallKind | None = None, located: bool = True
) -> dict[str, Any]:
    """The record a parent writes when it sends a child off (status ``running``): a stored run
    shows what is running. ``located``: the child's context is a span of the call's context
    (a REPL query's prompt, or a text the code wrote, is not)."""
    state = job_state(job)
    if not located:
        state["context"] = {"start": 0, "end": 0}
    kind = kind or ("leaf" if job.leaf else "node")
    return record_from_state(state, kind=kind, model=model).model_dump()


def usage_update(state: dict[str, Any], model: str, usage: Usage) -> dict[str, Any]:
    """State update for one model call this call made itself: its own usage and its subtree's."""
    call = CallState(state)
    own = call.own_usage.add(usage)
    return {"usage": add_usage(call.usage, model, usage), "own_usage": own.model_dump()}


def usage_updates(state: dict[str, Any], by_model: dict[str, Usage]) -> dict[str, Any]:
    """``usage_update`` for model calls this call made itself, each model's under its name."""
    update: dict[str, Any] = {}
    for model, usage in by_model.items():
        update = usage_update({**state, **update}, model, usage)
    return update


def live_record(values: dict[str, Any], kind: str) -> dict[str, Any]:
    """A running call's record as its own state has it now (its planner turns counted), over
    the record stored when it started."""
    stored = (values.get("records") or {}).get(values.get("call_id"), {})
    live = record_from_state(values, kind=kind, model=stored.get("model", ""))
    return {**stored, **live.model_dump(exclude={"started_at"} if stored else set())}


def root_records(state: dict[str, Any]) -> list[CallRecord]:
    """The root call of every turn of the thread so far, in turn order."""
    roots = [
        CallRecord.model_validate(record)
        for record in CallState(state).records.values()
        if record.get("kind") == "root"
    ]
    return sorted(roots, key=lambda record: record.turn)


def child_usage(usages: Iterable[dict[str, dict[str, Any]]]) -> Usage:
    """What a fan-out's children used (each a model name -> ``Usage`` dump), all models
    together."""
    total = Usage()
    for usage in usages:
        total = total.add(total_usage(usage))
    return total
