"""Stored runs, read back: list the threads of a database, inspect one, see where it can fork.

A thread's status is read from its checkpoints and its lease:

- ``running``: it has work pending and a live worker holds its lease;
- ``interrupted``: it waits at an approval gate (``rlm-graph approve`` / ``deny``);
- ``crashed``: it has work pending but nobody runs it (killed, or stopped with Ctrl-C):
  ``rlm-graph resume`` continues it;
- ``done``, ``budget_exhausted``, ``error``: its latest turn ended so.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any, Literal

from langgraph.types import Overwrite
from pydantic import BaseModel, Field

from rlm_graph.budget import Budget
from rlm_graph.graph.accounting import live_record, usage_of_records
from rlm_graph.leases import Holder
from rlm_graph.persistence import Backend
from rlm_graph.settings import RunSettings
from rlm_graph.state import CallRecord, ContextRef, Usage
from rlm_graph.tree.export import call_order

ThreadStatus = Literal["running", "interrupted", "crashed", "done", "budget_exhausted", "error"]


class RunInfo(BaseModel):
    """One thread in a listing: its latest turn, and what the whole thread used."""

    thread_id: str
    status: ThreadStatus
    question: str
    turn: int
    answer: str | None = None
    error: str | None = None
    route: str | None = None
    started_at: float | None = None
    updated_at: float | None = None
    usage: Usage = Field(default_factory=Usage)
    worker: str | None = Field(default=None, description="who runs it, while it runs")


class Checkpoint(BaseModel):
    """A point in the thread's history one can fork from."""

    checkpoint_id: str
    step: int
    created_at: str
    next: list[str]
    turn: int | None = None
    iteration: int | None = None


class RunDetail(RunInfo):
    settings: RunSettings | None = None
    context: ContextRef | None = Field(default=None, description="the thread's context")
    budget_left: dict[str, Any] = Field(default_factory=dict)
    records: list[CallRecord] = Field(default_factory=list)
    pending: list[dict[str, Any]] = Field(default_factory=list)
    checkpoints: list[Checkpoint] = Field(default_factory=list)


def _status(snapshot: Any, holder: Holder | None) -> ThreadStatus:
    if snapshot.interrupts:
        return "interrupted"
    if snapshot.next:
        return "running" if holder is not None and holder.alive() else "crashed"
    status = (snapshot.values or {}).get("status")
    return status if status in ("done", "budget_exhausted", "error") else "crashed"


def _timestamp(iso: str | None) -> float | None:
    try:
        return datetime.fromisoformat(iso).timestamp() if iso else None
    except ValueError:
        return None


async def _records(graph: Any, thread_id: str, snapshot: Any) -> list[CallRecord]:
    """Every call record of the thread, as far as the checkpoints know them right now."""
    values = snapshot.values or {}
    records = dict(values.get("records") or {})
    if snapshot.next and values.get("call_id") in records:
        records[values["call_id"]] = live_record(values, "root")
    for record_id, record in (await _in_flight_records(graph, thread_id, snapshot)).items():
        # What the state holds as "running" is completed by the newer copy.
        if records.get(record_id, {}).get("status", "running") == "running":
            records[record_id] = record
    return sorted((CallRecord.model_validate(r) for r in records.values()), key=_call_order)


def _info(
    thread_id: str, snapshot: Any, holder: Holder | None, records: list[CallRecord]
) -> dict[str, Any]:
    values = snapshot.values or {}
    roots = sorted((r for r in records if r.kind == "root"), key=lambda r: r.turn)
    latest = roots[-1] if roots else None
    usage, _ = usage_of_records(records)
    status = _status(snapshot, holder)
    return {
        "thread_id": thread_id,
        "status": status,
        "question": latest.task if latest else values.get("query", ""),
        "turn": values.get("turn") or 1,
        "answer": values.get("answer"),
        "error": values.get("error"),
        "route": values.get("route"),
        "started_at": roots[0].started_at if roots else None,
        "updated_at": _timestamp(snapshot.created_at),
        "usage": usage,
        "worker": holder.describe() if status == "running" and holder else None,
    }


async def list_runs(backend: Backend, graph: Any, limit: int | None = 50) -> list[RunInfo]:
    """The threads of a database, the most recently advanced first."""
    holders = await backend.leases.holders()
    runs = []
    for thread_id in await backend.thread_ids(limit):
        snapshot = await graph.aget_state({"configurable": {"thread_id": thread_id}})
        if snapshot.values:
            records = await _records(graph, thread_id, snapshot)
            runs.append(RunInfo(**_info(thread_id, snapshot, holders.get(thread_id), records)))
    return runs


async def _in_flight_records(
    graph: Any, thread_id: str, snapshot: Any, namespace: str = ""
) -> dict[str, dict[str, Any]]:
    """Records the thread's state does not hold yet: those of children that finished in a step
    that never completed (their results wait as the step's pending writes), and those kept in
    the checkpoints of children still in progress (depth 2 and deeper), which hand their
    descendants' records up only when they end."""
    found: dict[str, dict[str, Any]] = {}
    for task in snapshot.tasks or ():
        result = task.result if isinstance(task.result, dict) else {}
        children = result.get("child_results")
        if isinstance(children, Overwrite):  # begin's reset of a new turn: no records
            children = children.value
        for child in children or ():
            found.update((record["id"], record) for record in child.get("records") or ())
        if task.name != "recurse" or result:
            continue
        # A planning child keeps its checkpoints under its task's namespace; the child graph
        # is this same graph, so this graph reads them.
        child_ns = f"{namespace}|{task.name}:{task.id}" if namespace else f"{task.name}:{task.id}"
        config = {"configurable": {"thread_id": thread_id, "checkpoint_ns": child_ns}}
        state = await graph.aget_state(config)
        if state.values:
            found.update(state.values.get("records") or {})
            found.update(await _in_flight_records(graph, thread_id, state, child_ns))
            found[state.values["call_id"]] = live_record(state.values, "node")
    return found


def _call_order(record: CallRecord) -> tuple[int, ...]:
    return call_order(record.id)


def _context_of(values: dict[str, Any]) -> ContextRef | None:
    ref = values.get("thread_context") or values.get("context")
    return ContextRef.model_validate(ref) if ref else None


async def inspect_run(backend: Backend, graph: Any, thread_id: str) -> RunDetail | None:
    config = {"configurable": {"thread_id": thread_id}}
    snapshot, holder = await asyncio.gather(
        graph.aget_state(config), backend.leases.holder(thread_id)
    )
    if not snapshot.values:
        return None
    values = snapshot.values
    parsed = await _records(graph, thread_id, snapshot)
    budget = values.get("budget")
    checkpoints = [
        Checkpoint(
            checkpoint_id=state.config["configurable"]["checkpoint_id"],
            step=(state.metadata or {}).get("step", -1),
            created_at=state.created_at or "",
            next=list(state.next),
            turn=(state.values or {}).get("turn"),
            iteration=(state.values or {}).get("iteration"),
        )
        async for state in graph.aget_state_history(config)
    ]
    return RunDetail(
        **_info(thread_id, snapshot, holder, parsed),
        settings=RunSettings.model_validate(values["settings"]) if values.get("settings") else None,
        context=_context_of(values),
        budget_left=Budget.model_validate(budget).model_dump() if budget else {},
        records=parsed,
        pending=[interrupt.value for interrupt in snapshot.interrupts],
        checkpoints=checkpoints,
    )
